"""The champion's measurements, made once per champion and cached in the workspace.

The local stage compares a candidate's costs with the champion's (best of `champion_runs`
runs on the same local sample) and the offline stage its metrics, user by user, with the
champion's lists and per-user metrics on the same split. Both are measured on a clean detached
checkout of the champion's commit and saved to `.recloop/cache/champion-<key>.npz` (numpy arrays
and one JSON document, no pickle). The key hashes the champion's commit, its manifest, a
fingerprint of the split's arrays and the settings that shape the measurement, so a new champion,
a changed manifest or different data is measured afresh. The cache folder is hidden from every
sandboxed run: it holds held-out results.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recloop.cascade.context import (
    CACHE_DIR,
    MEASURE_LOCK,
    CascadeContext,
    ChampionFailedError,
)
from recloop.cascade.local import LocalMeasurement, measure_local
from recloop.cascade.offline import OfflineRun, measure_offline
from recloop.cascade.verdict import Cost
from recloop.filelock import exclusive
from recloop.recsys.splits import Split
from recloop.workspace.sandbox import SandboxResult

CACHE_VERSION = 2  # 2: CPU per phase from the kernel, not the child


@dataclass(frozen=True)
class ChampionBaseline:
    """The champion's local costs and offline lists and metrics, for one cache key."""

    commit: str
    key: str
    local: LocalMeasurement
    offline: OfflineRun


def cache_key(context: CascadeContext) -> str:
    """What the champion's measurements depend on, hashed (see the module docstring)."""
    s = context.settings
    material = {
        "version": CACHE_VERSION,
        "commit": context.champion_commit,
        "manifest": hashlib.sha256(context.manifest_text.encode()).hexdigest(),
        "split": split_fingerprint(context.split),
        "local_users": s.local_users,
        "sample_seed": s.sample_seed,
        "champion_runs": s.champion_runs,
        "latency_repeats": s.latency_repeats,
        "isolate": s.isolate,
        "threads": s.threads,
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def split_fingerprint(split: Split) -> str:
    digest = hashlib.sha256()
    for part in (split.train, split.test):
        digest.update(np.array(part.shape, dtype=np.int64).tobytes())
        digest.update(np.ascontiguousarray(part.users, dtype=np.int64).tobytes())
        digest.update(np.ascontiguousarray(part.items, dtype=np.int64).tobytes())
    return digest.hexdigest()


def cache_path(context: CascadeContext, key: str) -> Path:
    return context.root / CACHE_DIR / f"champion-{key[:24]}.npz"


def load_or_measure(context: CascadeContext) -> ChampionBaseline:
    """The cached baseline for the context's key, or a fresh measurement (then cached)."""
    key = cache_key(context)
    path = cache_path(context, key)
    with exclusive(context.root / MEASURE_LOCK):  # workers wait for one measurement
        cached = load(path, key)
        if cached is not None:
            return cached
        baseline = measure(context, key)
        save(path, baseline)
    return baseline


def measure(context: CascadeContext, key: str) -> ChampionBaseline:
    """Measure the champion on a clean checkout of its commit (`context.champion_checkout`)."""
    checkout = context.champion_checkout()
    budget = context.manifest.budgets
    runs = []
    for _ in range(context.settings.champion_runs):
        run = measure_local(checkout, context, budget.local.wall_seconds)
        if run.measurement is None:
            raise ChampionFailedError(
                f"the champion itself failed its local run ({run.cause}: {run.sentence}); no "
                f"candidate can be judged against it. {run.evidence.log_tail[-1000:]}".strip()
            )
        runs.append(run.measurement)
    offline = measure_offline(checkout, context, budget.offline.wall_seconds)
    if isinstance(offline, SandboxResult):
        tail = (offline.traceback_tail or offline.stderr_tail)[-1000:]
        raise ChampionFailedError(
            f"the champion itself failed its offline run ({offline.status}: {offline.detail}); "
            f"no candidate can be judged against it. {tail}".strip()
        )
    return ChampionBaseline(context.champion_commit, key, LocalMeasurement.best(runs), offline)


def save(path: Path, baseline: ChampionBaseline) -> None:
    """Write the baseline atomically (npz arrays plus a JSON `meta` entry)."""
    off = baseline.offline
    meta = {
        "key": baseline.key,
        "commit": baseline.commit,
        "local": baseline.local.model_dump(),
        "aggregates": off.aggregates,
        "summary": off.summary,
        "cost": off.cost.model_dump(),
    }
    arrays = {f"per_user__{name}": values for name, values in off.per_user.items()}
    buffer = io.BytesIO()
    np.savez(
        buffer,
        allow_pickle=False,
        meta=np.array(json.dumps(meta)),
        user_ids=off.user_ids,
        recs=off.recs,
        **arrays,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(buffer.getvalue())
    os.replace(partial, path)


def load(path: Path, key: str) -> ChampionBaseline | None:
    """The cached baseline at `path` if it is readable and made for `key`; else None."""
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            if meta.get("key") != key:
                return None
            per_user = {
                name.removeprefix("per_user__"): data[name]
                for name in data.files
                if name.startswith("per_user__")
            }
            offline = OfflineRun(
                user_ids=data["user_ids"],
                per_user=per_user,
                aggregates={k: float(v) for k, v in meta["aggregates"].items()},
                recs=data["recs"],
                summary={k: float(v) for k, v in meta["summary"].items()},
                cost=Cost.model_validate(meta["cost"]),
            )
            local = LocalMeasurement.model_validate(meta["local"])
    except (OSError, ValueError, KeyError):
        return None
    return ChampionBaseline(meta["commit"], key, local, offline)


def cached_summaries(root: Path) -> dict[str, dict[str, float]]:
    """Every champion measured in the workspace: its offline summary by commit (the newest
    cache file of a commit), as recloop's trusted evaluator measured it — for reports."""
    out: dict[str, dict[str, float]] = {}
    files = sorted((root / CACHE_DIR).glob("champion-*.npz"), key=lambda p: p.stat().st_mtime)
    for path in files:
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
            out[str(meta["commit"])] = {k: float(v) for k, v in meta["summary"].items()}
        except (OSError, ValueError, KeyError):
            continue
    return out
