"""recloop's contract checks on a small sample, run through the sandbox (see `probe_child`).

The child fits the candidate on the contract sample (sampled users with their history, plus
cold-start users without any) and answers three calls; the parent then checks, in this order,
with the trusted evaluator's own validation (`validate_recommendations`):

- it ran to the end within the stage's budget (`contract-timeout`, `contract-memory`), without
  a numpy invalid-value error (`nan-scores`) or an exception (`contract-crash`, or
  `cold-start-crash` when it was the call for users without history);
- every list has shape users x k and integer ids (`bad-shape`), ids inside the catalogue
  (`invalid-ids`), no repeats (`duplicate-items`), nothing the user saw in training
  (`seen-items`) — for the warm users and for the cold-start users;
- a second model fitted on the same data gives the same lists (`non-deterministic`).
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from recloop.cascade import causes, probe_child
from recloop.cascade.context import CascadeContext
from recloop.cascade.samples import UserSample
from recloop.cascade.verdict import Evidence, Location
from recloop.recsys.data import Interactions
from recloop.recsys.evaluate import InvalidRecommendationsError, validate_recommendations
from recloop.workspace.manifest import Stage as StageName
from recloop.workspace.sandbox_command import CommandResult, Scratch, python_command, run_command
from recloop.workspace.sandbox_files import write_json, write_train

MAX_ANSWER_BYTES = 64 * 2**20
RULE_CAUSES = {
    "shape": causes.BAD_SHAPE,
    "dtype": causes.BAD_SHAPE,
    "invalid-id": causes.INVALID_IDS,
    "duplicate": causes.DUPLICATE_ITEMS,
    "seen-item": causes.SEEN_ITEMS,
}
_FRAME = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+)(?:, in (?P<fn>.+))?$')


@dataclass
class ContractCheck:
    """What the probe found: a cause code (None when every check passed) and the evidence."""

    cause: str | None
    sentence: str
    evidence: Evidence = field(default_factory=Evidence)


def run_child(
    worktree: Path,
    context: CascadeContext,
    stage: StageName,
    train: Interactions,
    request: dict[str, Any],
    wall_seconds: float,
    outputs: list[str],
    timeline: bool = False,
) -> CommandResult:
    """Run `probe_child` on `train` in the sandbox with the stage's limits; its files back
    (and, with `timeline`, when the parent saw each phase of the child's status file)."""
    rec = context.manifest.recommender

    def command(scratch: Scratch) -> list[str]:
        write_train(train, scratch.root / "train.npz")
        full = {
            "entry_point": rec.entry_point,
            "worktree": str(worktree),
            "source_dir": rec.source_dir,
            "train": str(scratch.root / "train.npz"),
            "out_dir": str(scratch.out),
            "k": context.manifest.k,
            **request,
        }
        write_json(scratch.root / "request.json", full)
        return python_command(probe_child.__file__ or "", str(scratch.root / "request.json"))

    return run_command(
        worktree,
        command,
        context.limits(stage, wall_seconds),
        hidden_paths=context.hidden_paths,
        isolate=context.settings.isolate,
        outputs=[probe_child.STATUS_FILE, *outputs],
        max_output_bytes=MAX_ANSWER_BYTES,
        timeline=probe_child.STATUS_FILE if timeline else None,
    )


def contract_check(worktree: Path, context: CascadeContext, wall_seconds: float) -> ContractCheck:
    """Run the probe on the context's contract sample and check its answers (module docstring)."""
    sample = context.contract_sample
    request = {
        "mode": "contract",
        "warm_users": sample.warm_users.tolist(),
        "cold_users": sample.cold_users.tolist(),
    }
    answers = [f"{a}.npy" for a in probe_child.ANSWERS]
    result = run_child(worktree, context, "semantic", sample.train, request, wall_seconds, answers)
    return judge(result, worktree, sample, context.manifest.k)


def judge(result: CommandResult, worktree: Path, sample: UserSample, k: int) -> ContractCheck:
    """The first contract the probe's run broke, or a pass."""
    status = read_status(result)
    details = {
        "sandbox": result.status,
        "phase": status.get("phase"),
        "users": len(sample.warm_users),
        "cold_start_users": len(sample.cold_users),
        "isolation": result.isolation.model_dump(mode="json"),
    }
    trace = str(status.get("traceback", ""))

    def evidence() -> Evidence:
        return Evidence(
            locations=traceback_locations(trace, worktree),
            log_tail=trace or result.stderr_tail[-2000:],
            details=details,
        )

    failure = _run_failure(result, status)
    if failure is not None:
        cause, sentence = failure
        return ContractCheck(cause, sentence, evidence())
    checks = (("warm_a", sample.warm_users, ""), ("cold", sample.cold_users, " cold-start"))
    answers: dict[str, np.ndarray] = {}
    for name, users, label in checks:
        recs, problem = load_answer(result, name)
        if recs is not None:
            seen = sample.train.binary[users]
            try:
                answers[name] = validate_recommendations(recs, users, k, sample.train.n_items, seen)
                continue
            except InvalidRecommendationsError as exc:
                rule, problem = exc.rule, str(exc)
                if exc.user is not None:
                    details["user_id"] = str(sample.train.user_ids[exc.user])
        else:
            rule = "shape"
        sentence = f"The lists for the sample's{label} users break the contract: {problem}."
        return ContractCheck(RULE_CAUSES[rule], sentence, evidence())
    again, problem = load_answer(result, "warm_b")
    if again is None or again.shape != answers["warm_a"].shape:
        return ContractCheck(causes.BAD_SHAPE, f"The second model's answer: {problem}.", evidence())
    differ = np.flatnonzero((again != answers["warm_a"]).any(axis=1))
    if len(differ):
        details["users_differing"] = len(differ)
        return ContractCheck(
            causes.NON_DETERMINISTIC,
            f"Two models fitted on the same data ranked differently for {len(differ)} of "
            f"{len(sample.warm_users)} users (first: user {sample.train.user_ids[differ[0]]}).",
            evidence(),
        )
    return ContractCheck(
        None,
        f"{len(sample.warm_users)} users and {len(sample.cold_users)} cold-start users got k={k} "
        "valid, distinct, unseen items, the same from two fits, with no NaN raised.",
        evidence(),
    )


def read_status(result: CommandResult) -> dict[str, Any]:
    raw = result.outputs.get(probe_child.STATUS_FILE)
    if raw is None:
        return {}
    try:
        payload = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return {}
    return payload if isinstance(payload, dict) else {}


def _run_failure(result: CommandResult, status: dict[str, Any]) -> tuple[str, str] | None:
    """(cause, sentence) when the probe did not run to its end; None when it did."""
    phase = status.get("phase", "start")
    where = f" (while in {phase})"
    if result.status == "timeout":
        return causes.CONTRACT_TIMEOUT, f"The sample run was stopped: {result.detail}{where}."
    reported = status.get("status")
    error = str(status.get("error", ""))
    if reported == "oom" or result.status == "oom":
        return causes.CONTRACT_MEMORY, f"The sample run ran out of memory{where}."
    if reported == "nan":
        return causes.NAN_SCORES, f"A numpy operation produced NaN{where}: {error}."
    if reported == "bad-output":
        return causes.BAD_SHAPE, f"The answer is not a plain array{where}: {error}."
    if reported == "crash" and phase == "cold-start":
        return causes.COLD_START_CRASH, f"Recommending for users without history raised {error}."
    if reported == "crash":
        return causes.CONTRACT_CRASH, f"The sample run raised {error}{where}."
    if reported != "ok" or not result.ok:
        return (
            causes.CONTRACT_CRASH,
            f"The sample run ended without a result{where}: {result.detail}.",
        )
    return None


def load_answer(result: CommandResult, name: str) -> tuple[np.ndarray | None, str]:
    raw = result.outputs.get(f"{name}.npy")
    if raw is None:
        return None, f"no readable answer (missing, or over {MAX_ANSWER_BYTES:,} bytes)"
    try:
        return np.load(io.BytesIO(raw), allow_pickle=False), ""
    except (ValueError, OSError, EOFError) as exc:
        return None, f"not a valid array: {exc}"


def traceback_locations(trace: str, worktree: Path) -> list[Location]:
    """The traceback's frames inside the worktree, innermost first, as worktree paths."""
    root = worktree.resolve()
    out: list[Location] = []
    last_line = trace.strip().splitlines()[-1:] or [""]
    for line in trace.splitlines():
        match = _FRAME.match(line)
        if not match:
            continue
        path = Path(match["path"])
        if path.is_relative_to(root):
            fn = match["fn"] or ""
            rel = path.relative_to(root).as_posix()
            out.append(Location(path=rel, line=int(match["line"]), message=f"in {fn}".strip()))
    if out:
        innermost = out[-1]
        out[-1] = innermost.model_copy(update={"message": f"{innermost.message}: {last_line[0]}"})
    return out[::-1]
