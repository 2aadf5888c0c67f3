"""The cascade's sandbox child: call the workspace's recommender as recloop will, record it.

Run inside the sandbox as `python -P -s -B path/to/probe_child.py REQUEST_JSON` (by path: no
`recloop.cascade` import). It reads the sample's training split, enters the worktree, imports
the entry point (as `sandbox_child` does) and, by the request's `mode`:

- `contract` (semantic stage), with numpy's invalid-value errors raised (an operation making NaN
  stops with FloatingPointError): factory, `fit`, the warm users' lists, then in a separate call
  the cold-start users' lists, then a second model fitted on the same data and the warm users'
  lists again (`warm_a.npy`, `cold.npy`, `warm_b.npy`);
- `measure` (local stage): factory and `fit`, timed, then every user's lists in batches,
  `repeats` times, each pass timed (wall clock and this process's CPU time); the first pass is
  saved as `recs.npy`, the timings go to `status.json`.

Answers are saved as they came (no pickle); the parent validates them. `status.json` says how
far it got (`phase`) and how it ended. The workspace's code runs in this process and could forge
these files: the parent trusts only what it checks (the lists) and reads the rest as the
candidate's own account (timings included, as `sandbox_child`'s are).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
import time
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

STATUS_FILE = "status.json"
ANSWERS = ("warm_a", "cold", "warm_b")
MEASURED = "recs"
TRACEBACK_CHARS = 4000


class BadOutputError(Exception):
    """The answer is not an array numpy can save without pickling."""


def _sandbox_child() -> ModuleType:
    path = Path(__file__).resolve().parents[1] / "workspace" / "sandbox_child.py"
    spec = importlib.util.spec_from_file_location("_recloop_sandbox_child", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Probe:
    """The probe's steps, recording the current phase to `status.json` as it goes."""

    def __init__(self, request: dict[str, Any]) -> None:
        self.request = request
        self.out = Path(request["out_dir"])
        self.phase = "start"

    def enter(self, phase: str) -> None:
        self.phase = phase
        self.write({"status": "running"})

    def write(self, payload: dict[str, Any]) -> None:
        partial = self.out / (STATUS_FILE + ".partial")
        partial.write_text(json.dumps({"phase": self.phase, **payload}), encoding="utf-8")
        os.replace(partial, self.out / STATUS_FILE)

    def save(self, name: str, answer: object) -> None:
        import numpy as np

        array = np.asarray(answer)
        if array.dtype == object:
            raise BadOutputError(f"recommend returned {type(answer).__name__} of objects")
        with open(self.out / f"{name}.npy", "wb") as handle:
            np.save(handle, array, allow_pickle=False)

    def prepare(self) -> tuple[Any, Any]:
        """The training split and the entry point's factory, from inside the worktree."""
        request = self.request
        train = _sandbox_child().read_train(Path(request["train"]))
        worktree = Path(request["worktree"])
        os.chdir(worktree)
        sys.path.insert(0, str(worktree / request.get("source_dir", ".")))
        module_name, _, attr = request["entry_point"].partition(":")
        self.enter("import")
        return train, getattr(importlib.import_module(module_name), attr)

    def run(self) -> dict[str, Any]:
        return self.measure() if self.request.get("mode") == "measure" else self.contract()

    def contract(self) -> dict[str, Any]:
        import numpy as np

        np.seterr(invalid="raise")
        train, factory = self.prepare()
        k = int(self.request["k"])
        warm = np.asarray(self.request["warm_users"], dtype=np.int64)
        cold = np.asarray(self.request["cold_users"], dtype=np.int64)
        self.enter("factory")
        model = factory()
        self.enter("fit")
        model.fit(train)
        self.enter("recommend")
        self.save("warm_a", model.recommend(warm, k, exclude_seen=True))
        self.enter("cold-start")
        self.save("cold", model.recommend(cold, k, exclude_seen=True))
        self.enter("refit")
        again = factory()
        again.fit(train)
        self.enter("repeat")
        self.save("warm_b", again.recommend(warm, k, exclude_seen=True))
        self.enter("done")
        return {}

    def measure(self) -> dict[str, Any]:
        import numpy as np

        train, factory = self.prepare()
        k = int(self.request["k"])
        batch = int(self.request.get("batch_users", 1024))
        users = np.arange(train.n_users, dtype=np.int64)
        self.enter("factory")
        model = factory()
        self.enter("fit")
        wall, cpu = time.perf_counter(), time.process_time()
        model.fit(train)
        timings: dict[str, Any] = {
            "fit_seconds": time.perf_counter() - wall,
            "fit_cpu_seconds": time.process_time() - cpu,
            "recommend_seconds": [],
            "recommend_cpu_seconds": [],
        }
        self.enter("recommend")
        for repeat in range(int(self.request.get("repeats", 1))):
            wall, cpu = time.perf_counter(), time.process_time()
            answers = [
                np.asarray(model.recommend(users[i : i + batch], k, exclude_seen=True))
                for i in range(0, len(users), batch)
            ]
            timings["recommend_seconds"].append(time.perf_counter() - wall)
            timings["recommend_cpu_seconds"].append(time.process_time() - cpu)
            if repeat == 0:
                shapes = {a.shape[1:] for a in answers}
                self.save(MEASURED, np.concatenate(answers) if len(shapes) == 1 else answers[0])
        self.enter("done")
        return timings


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    probe = Probe(json.loads(Path(args[0]).read_text(encoding="utf-8")))
    payload: dict[str, Any]
    try:
        payload = {"status": "ok", **probe.run()}
    except FloatingPointError as exc:
        payload = {"status": "nan", "error": repr(exc)[:500], "traceback": _tail()}
    except MemoryError:
        payload = {"status": "oom", "error": "MemoryError", "traceback": _tail()}
    except BadOutputError as exc:
        payload = {"status": "bad-output", "error": str(exc)[:500], "traceback": _tail()}
    except BaseException as exc:  # the workspace's code may raise anything, even SystemExit
        payload = {"status": "crash", "error": repr(exc)[:500], "traceback": _tail()}
    probe.write(payload)
    return 0


def _tail() -> str:
    return traceback.format_exc()[-TRACEBACK_CHARS:]


if __name__ == "__main__":
    sys.exit(main())
