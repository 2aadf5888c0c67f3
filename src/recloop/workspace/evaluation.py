"""Judge a workspace's champion or a candidate: its code in the sandbox, recloop's evaluator.

The manifest says what data, split and list length; the sandbox runs the team's code on the
training split only; the trusted evaluator validates and scores the lists. The report carries the
costs recloop measured itself and the isolation the sandbox achieved.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from recloop.progress import ProgressCallback
from recloop.recsys.evaluate import evaluate
from recloop.workspace.git import Candidates
from recloop.workspace.manifest import Manifest, load_manifest
from recloop.workspace.sandbox import SandboxLimits
from recloop.workspace.sandboxed_recommender import SandboxedRecommender


def code_folder(root: Path, manifest: Manifest, candidate: str | None) -> Path:
    """The champion's checkout (the workspace root) or a candidate's worktree."""
    if candidate is None:
        return root
    return Candidates(root, champion=manifest.main_branch).get(candidate).path


def evaluate_workspace(
    root: str | Path, candidate: str | None = None, progress: ProgressCallback | None = None
) -> dict[str, Any]:
    """Evaluate the champion (or `candidate`) of the workspace at `root`; a JSON-ready report."""
    root = Path(root).resolve()
    manifest = load_manifest(root)
    data = manifest.load_data(root)
    split = manifest.build_split(data)
    budget = manifest.budgets.for_stage("offline")
    model = SandboxedRecommender(
        code_folder(root, manifest, candidate),
        manifest.recommender.entry_point,
        max_k=manifest.k,
        limits=SandboxLimits(
            wall_seconds=budget.wall_seconds,
            memory_mb=budget.memory_mb,
            cpu_seconds=budget.cpu_seconds,
        ),
        source_dir=manifest.recommender.source_dir,
    )
    result = evaluate(model, split, k=manifest.k, progress=progress)
    sandbox = model.result
    assert sandbox is not None  # fit() succeeded, or SandboxFailedError was raised
    report: dict[str, Any] = dict(result.summary())
    report.update(
        {
            "workspace": str(root),
            "candidate": candidate or "champion",
            "k": manifest.k,
            "n_users": result.n_users,
            "seconds": round(result.eval_seconds, 4),
            "sandbox_wall_seconds": round(sandbox.wall_seconds, 3),
            "peak_memory_mb": sandbox.peak_memory_mb,
            "latency_ms_per_1k_users": sandbox.latency_ms_per_1k_users,
            "isolation": sandbox.isolation.model_dump(),
            "dataset": data.describe(),
        }
    )
    return report
