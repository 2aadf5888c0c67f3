"""The sandbox's child: run a workspace's recommender on the training split, write the answer.

Run as `python -P -s -B path/to/sandbox_child.py REQUEST_JSON` (or with `-m`). By file path, it
skips the `recloop.workspace` package's imports; `-P` keeps the worktree from shadowing any module
this file imports, so the limits below are always applied by recloop's own code. It:

1. applies the resource limits (RLIMIT_AS, RLIMIT_CPU, RLIMIT_FSIZE, no core files);
2. reads `train.npz` into `recloop.recsys.data.Interactions`;
3. enters the worktree, puts its source folder first on `sys.path`, imports the entry point
   `package.module:Factory` and calls `Factory()`;
4. `fit(train)`, then `recommend(users, k, exclude_seen=True)` for ALL users in batches, so
   nothing here tells which users will be evaluated;
5. writes `out/recs.npy` and `out/result.json` (status, timings, traceback tail).

The workspace's code runs in this process, so it could rewrite `result.json`: the parent treats
the timings as the child's own report and judges only the recommendations, which it validates.
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import sys
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from recloop.recsys.data import Interactions

TRACEBACK_CHARS = 4000
RESULT_FILE = "result.json"
RECS_FILE = "recs.npy"


class BadOutputError(Exception):
    """The recommender's answer breaks the protocol's shape or type."""


def apply_limits(limits: dict[str, Any]) -> None:
    """Address-space, CPU-time and file-size limits for this process and its children."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if limits.get("memory_mb"):
        size = int(limits["memory_mb"]) * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (size, size))
    if limits.get("cpu_seconds"):
        seconds = max(1, int(limits["cpu_seconds"] + 0.999))
        resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 1))
    if limits.get("max_output_mb"):
        size = int(limits["max_output_mb"]) * 2**20
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))


def read_train(path: Path) -> Interactions:
    """The training split `sandbox_files.write_train` saved, as `Interactions`."""
    import numpy as np
    import scipy.sparse as sp

    from recloop.recsys.data import Interactions, ItemInfo

    with np.load(path, allow_pickle=False) as data:
        item_info = None
        if "genres_data" in data:
            genres = sp.csr_matrix(
                (data["genres_data"], data["genres_indices"], data["genres_indptr"]),
                shape=tuple(int(v) for v in data["genres_shape"]),
            )
            item_info = ItemInfo(genres, tuple(str(g) for g in data["genre_names"]), data["year"])
        train = Interactions(
            users=data["users"],
            items=data["items"],
            ratings=data["ratings"],
            timestamps=data["timestamps"],
            user_ids=data["user_ids"],
            item_ids=data["item_ids"],
            name=str(data["name"]),
            item_info=item_info,
        )
        if train.n_users != int(data["n_users"]) or train.n_items != int(data["n_items"]):
            raise ValueError("train.npz: the id maps disagree with n_users / n_items")
    return train


def run(request: dict[str, Any], timings: dict[str, float]) -> None:
    """Fit and recommend as the request says; fills `timings`; writes the recommendations."""
    import numpy as np

    train = read_train(Path(request["train"]))
    worktree = Path(request["worktree"])
    os.chdir(worktree)
    sys.path.insert(0, str(worktree / request.get("source_dir", ".")))
    module_name, _, attr = request["entry_point"].partition(":")
    factory = getattr(importlib.import_module(module_name), attr)
    model = factory()

    started = time.perf_counter()
    model.fit(train)
    timings["fit_seconds"] = time.perf_counter() - started

    k = int(request["k"])
    batch_users = int(request.get("batch_users", 1024))
    users = np.arange(train.n_users, dtype=np.int64)
    recs = np.empty((len(users), k), dtype=np.int64)
    started = time.perf_counter()
    for start in range(0, len(users), batch_users):
        batch = users[start : start + batch_users]
        answer = np.asarray(model.recommend(batch, k, exclude_seen=True))
        if answer.shape != (len(batch), k) or not np.issubdtype(answer.dtype, np.integer):
            raise BadOutputError(
                f"recommend(users[{start}:{start + len(batch)}], k={k}) returned an array of "
                f"shape {answer.shape} and dtype {answer.dtype}; expected ({len(batch)}, {k}) "
                "integers"
            )
        recs[start : start + len(batch)] = answer
    timings["recommend_seconds"] = time.perf_counter() - started
    with open(Path(request["out_dir"]) / RECS_FILE, "wb") as handle:
        np.save(handle, recs, allow_pickle=False)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    request = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    apply_limits(request.get("limits", {}))
    timings: dict[str, float] = {}
    payload: dict[str, Any]
    try:
        run(request, timings)
        payload = {"status": "ok"}
    except MemoryError:
        payload = {"status": "oom", "error": "MemoryError", "traceback": _tail()}
    except BadOutputError as exc:
        payload = {"status": "bad-output", "error": str(exc), "traceback": _tail()}
    except BaseException as exc:  # the workspace's code may raise anything, even SystemExit
        payload = {"status": "crash", "error": repr(exc)[:500], "traceback": _tail()}
    payload.update(timings)
    out = Path(request["out_dir"]) / RESULT_FILE
    partial = out.with_name(RESULT_FILE + ".partial")
    partial.write_text(json.dumps(payload), encoding="utf-8")
    os.replace(partial, out)
    return 0


def _tail() -> str:
    return traceback.format_exc()[-TRACEBACK_CHARS:]


if __name__ == "__main__":
    sys.exit(main())
