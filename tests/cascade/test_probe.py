"""The contract probe's judgement of what the child left, rule by rule (no sandbox needed)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from recloop.cascade import causes
from recloop.cascade.probe import judge, traceback_locations
from recloop.cascade.samples import UserSample, user_sample
from recloop.recsys.data import Interactions
from recloop.workspace.isolation import Isolation
from recloop.workspace.sandbox_command import CommandResult

K = 2


@pytest.fixture
def sample() -> UserSample:
    users = np.array([0, 0, 1, 1, 2])
    items = np.array([0, 1, 1, 2, 3])
    return user_sample(Interactions.from_raw(users, items), 3, seed=0, n_cold=2)


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _result(
    status: dict[str, object], status_code: str = "ok", **answers: np.ndarray
) -> CommandResult:
    outputs = {"status.json": json.dumps(status).encode()}
    outputs.update({f"{name}.npy": _npy(value) for name, value in answers.items()})
    return CommandResult(
        status=status_code,  # type: ignore[arg-type]
        detail="exited with code 0",
        exit_code=0,
        wall_seconds=0.1,
        cpu_seconds=0.1,
        peak_memory_mb=10.0,
        isolation=Isolation.none("test"),
        outputs=outputs,
    )


GOOD_WARM = np.array([[2, 3], [0, 3], [0, 1]])  # users 0, 1, 2 saw {0,1}, {1,2}, {3}
GOOD_COLD = np.array([[0, 1], [1, 2]])
OK = {"status": "ok", "phase": "done"}


def _judge(result: CommandResult, sample: UserSample) -> tuple[str | None, str]:
    check = judge(result, Path("/nowhere"), sample, K)
    return check.cause, check.sentence


def test_valid_deterministic_lists_pass(sample: UserSample) -> None:
    result = _result(OK, warm_a=GOOD_WARM, cold=GOOD_COLD, warm_b=GOOD_WARM)
    assert _judge(result, sample)[0] is None


@pytest.mark.parametrize(
    ("warm", "cause"),
    [
        (np.array([[2, 2], [0, 3], [0, 1]]), causes.DUPLICATE_ITEMS),
        (np.array([[0, 3], [0, 3], [0, 1]]), causes.SEEN_ITEMS),
        (np.array([[2, 9], [0, 3], [0, 1]]), causes.INVALID_IDS),
        (np.array([[2, 3, 4], [0, 3, 4], [0, 1, 2]]), causes.BAD_SHAPE),
        (np.array([[2.0, 3.0], [0.0, 3.0], [0.0, 1.0]]), causes.BAD_SHAPE),
    ],
)
def test_each_broken_rule_has_its_cause(sample: UserSample, warm: np.ndarray, cause: str) -> None:
    result = _result(OK, warm_a=warm, cold=GOOD_COLD, warm_b=warm)
    assert _judge(result, sample)[0] == cause


def test_cold_start_lists_are_checked_too(sample: UserSample) -> None:
    result = _result(OK, warm_a=GOOD_WARM, cold=np.array([[0, 0], [1, 2]]), warm_b=GOOD_WARM)
    cause, sentence = _judge(result, sample)
    assert cause == causes.DUPLICATE_ITEMS and "cold-start" in sentence


def test_two_fits_must_agree(sample: UserSample) -> None:
    other = np.array([[3, 2], [0, 3], [0, 1]])
    result = _result(OK, warm_a=GOOD_WARM, cold=GOOD_COLD, warm_b=other)
    cause, sentence = _judge(result, sample)
    assert cause == causes.NON_DETERMINISTIC and "1 of 3 users" in sentence


@pytest.mark.parametrize(
    ("status", "code", "cause"),
    [
        (
            {"status": "nan", "phase": "recommend", "error": "FloatingPointError()"},
            "ok",
            causes.NAN_SCORES,
        ),
        (
            {"status": "crash", "phase": "cold-start", "error": "ValueError()"},
            "ok",
            causes.COLD_START_CRASH,
        ),
        ({"status": "crash", "phase": "fit", "error": "KeyError()"}, "ok", causes.CONTRACT_CRASH),
        ({"status": "oom", "phase": "fit"}, "ok", causes.CONTRACT_MEMORY),
        ({"status": "bad-output", "phase": "recommend"}, "ok", causes.BAD_SHAPE),
        ({"status": "running", "phase": "fit"}, "timeout", causes.CONTRACT_TIMEOUT),
        ({"status": "running", "phase": "fit"}, "oom", causes.CONTRACT_MEMORY),
        ({"status": "running", "phase": "fit"}, "killed", causes.CONTRACT_CRASH),
    ],
)
def test_runs_that_did_not_finish(
    sample: UserSample, status: dict[str, object], code: str, cause: str
) -> None:
    assert _judge(_result(status, code), sample)[0] == cause


def test_no_status_at_all_is_a_crash(sample: UserSample) -> None:
    result = _result(OK).model_copy(update={"outputs": {}})
    assert _judge(result, sample)[0] == causes.CONTRACT_CRASH


def test_traceback_frames_inside_the_worktree_innermost_first(tmp_path: Path) -> None:
    trace = (
        "Traceback (most recent call last):\n"
        '  File "/usr/lib/python3/x.py", line 3, in run\n'
        f'  File "{tmp_path}/movierec/pipeline.py", line 40, in recommend\n'
        f'  File "{tmp_path}/movierec/rerank.py", line 7, in apply_rules\n'
        "ValueError: boom\n"
    )
    found = traceback_locations(trace, tmp_path)
    assert [(f.path, f.line) for f in found] == [
        ("movierec/rerank.py", 7),
        ("movierec/pipeline.py", 40),
    ]
    assert found[0].message == "in apply_rules: ValueError: boom"
