"""`recloop demo`: the main job — the example workspace improved by the loop, end to end.

It creates the example workspace, runs the loop with the non-LLM agents and the simulator
(MovieLens 100K when the data is reachable, the synthetic world otherwise, and says which),
approving every gate under a printed demo policy (approvals recorded as by `demo-policy`), and
ends with the funnel, the leaderboard, the launches and the champion's gain.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from recloop.ledger import Ledger
from recloop.loop.approvals import DEMO_APPROVER, describe_policy
from recloop.loop.online import OnlineEvaluator, agent_evaluator
from recloop.loop.runner import RunReport, RunSettings, run_loop
from recloop.loop.status import Status, workspace_status
from recloop.recsys.datadir import DataUnavailableError
from recloop.recsys.datasets import load_dataset
from recloop.workspace import create_example, load_manifest
from recloop.workspace.git import run_git
from recloop.workspace.manifest import MANIFEST_FILE


@dataclass(frozen=True)
class DemoResult:
    workspace: Path
    data_note: str
    policy: str
    report: RunReport
    status: Status


def make_workspace(target: Path | None) -> tuple[Path, str]:
    """The example workspace, on ML-100K when reachable, else on the synthetic world."""
    root = Path(target) if target is not None else Path(tempfile.mkdtemp(prefix="recloop-demo-"))
    create_example(root)
    try:
        load_dataset("ml-100k")
        return root, "data: MovieLens 100K (real ratings; the simulator's ml-100k world)"
    except DataUnavailableError as exc:
        manifest = root / MANIFEST_FILE
        text = manifest.read_text(encoding="utf-8")
        manifest.write_text(text.replace('dataset = "ml-100k"', 'dataset = "synthetic"'), "utf-8")
        run_git(["commit", "--quiet", "--no-verify", "-am", "Use the synthetic world"], root)
        return root, f"data: the synthetic world (MovieLens 100K is not reachable: {exc})"


def run_demo(
    target: Path | None,
    experiments: int,
    parallel: int = 2,
    *,
    evaluator_factory: Callable[[], OnlineEvaluator | None] = agent_evaluator,
    notify: Callable[[str], None] | None = None,
) -> DemoResult:
    root, note = make_workspace(target)
    if notify is not None:
        notify(note)
    policy = describe_policy(load_manifest(root).autonomy)
    text = (
        f"demo policy: the workspace's policy ({policy}) is kept, and every approval it "
        f"asks for is given automatically, recorded as by {DEMO_APPROVER!r}"
    )
    if notify is not None:
        notify(text)
    report = run_loop(
        root,
        RunSettings(experiments=experiments, parallel=parallel, agents="catalogue"),
        evaluator_factory=evaluator_factory,
        auto_approver=DEMO_APPROVER,
        notify=notify,
    )
    with Ledger.open(root) as ledger:
        status = workspace_status(ledger, load_manifest(root).metrics.primary.name, root)
    return DemoResult(root, note, text, report, status)
