"""The probe child run directly (no sandbox): phases, answers, NaN raised, timings."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from recloop.cascade import probe_child
from recloop.recsys.data import Interactions
from recloop.workspace.sandbox_files import write_train

MODEL = """\
import numpy as np


class Model:
    def fit(self, train):
        self.n_items = train.n_items
        self.counts = train.user_counts
        return self

    def recommend(self, users, k, exclude_seen=True):
{body}


def build():
    return Model()
"""
FIRST_ITEMS = "        return np.tile(np.arange(k), (len(users), 1))"


def _run(tmp_path: Path, body: str, mode: str = "contract") -> tuple[dict[str, object], Path]:
    (tmp_path / "tiny.py").write_text(MODEL.format(body=body), encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    seen = Interactions.from_raw(np.array([0, 1]), np.array([5, 6]))
    train = replace(seen, user_ids=np.array([0, 1, 2]))  # user 2 has no interaction
    write_train(train, tmp_path / "train.npz")
    request = {
        "mode": mode,
        "entry_point": "tiny:build",
        "worktree": str(tmp_path),
        "train": str(tmp_path / "train.npz"),
        "out_dir": str(out),
        "k": 2,
        "warm_users": [0, 1],
        "cold_users": [2],
        "repeats": 2,
    }
    (tmp_path / "request.json").write_text(json.dumps(request), encoding="utf-8")
    script = probe_child.__file__ or ""
    subprocess.run(
        [sys.executable, "-P", "-s", "-B", script, str(tmp_path / "request.json")],
        check=True,
        capture_output=True,
        timeout=60,
    )
    status = json.loads((out / probe_child.STATUS_FILE).read_text(encoding="utf-8"))
    return status, out


def test_a_contract_run_saves_three_answers(tmp_path: Path) -> None:
    status, out = _run(tmp_path, FIRST_ITEMS)
    assert status == {"phase": "done", "status": "ok"}
    for name in probe_child.ANSWERS:
        assert np.load(out / f"{name}.npy").shape in ((2, 2), (1, 2))


@pytest.mark.parametrize(
    ("body", "status", "phase"),
    [
        (
            "        return np.zeros((len(users), k)) / np.zeros((len(users), k))",
            "nan",
            "recommend",
        ),
        (
            "        if self.counts[users].min() == 0:\n            raise ValueError('cold')\n"
            + FIRST_ITEMS,
            "crash",
            "cold-start",
        ),
        ("        return [object()] * len(users)", "bad-output", "recommend"),
        ("        raise SystemExit(3)", "crash", "recommend"),
    ],
)
def test_failures_record_their_phase(tmp_path: Path, body: str, status: str, phase: str) -> None:
    found, _ = _run(tmp_path, body)
    assert (found["status"], found["phase"]) == (status, phase)
    assert "Traceback" in str(found["traceback"])


def test_a_measure_run_times_fit_and_each_pass(tmp_path: Path) -> None:
    status, out = _run(tmp_path, FIRST_ITEMS, mode="measure")
    assert status["status"] == "ok" and status["phase"] == "done"
    assert len(status["recommend_seconds"]) == 2 and len(status["recommend_cpu_seconds"]) == 2  # type: ignore[arg-type]
    assert float(status["fit_seconds"]) >= 0  # type: ignore[arg-type]
    assert np.load(out / "recs.npy").shape == (3, 2)
