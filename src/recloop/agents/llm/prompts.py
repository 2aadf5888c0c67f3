"""Prompt pieces the LLM agents share: sections, trimming to a budget, and the harness' facts.

Each helper renders one thing recloop knows (the paths an agent may edit, the active forbidden
directions, failure records, the repository map) as plain prompt text, cut to a character
budget where it can grow with the workspace. Trimming keeps whole lines and says how much was
cut, so a model never reads half a signature or mistakes an excerpt for the whole.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from recloop.knowledge.champion import Champion
from recloop.knowledge.failures import FailureRecord
from recloop.knowledge.forbidden import ForbiddenDirection
from recloop.workspace.manifest import Manifest
from recloop.workspace.repomap import build_repo_map


def section(title: str, body: str) -> str:
    """A titled block of a prompt (`(none)` for an empty body)."""
    return f"## {title}\n{body.strip() or '(none)'}"


def trim(text: str, budget: int) -> str:
    """`text` cut to `budget` characters, at a line boundary when there is one, and a line
    saying how much was cut."""
    if len(text) <= budget:
        return text
    boundary = text.rfind("\n", 0, budget + 1)
    kept = text[:boundary] if boundary > 0 else text[:budget]
    return f"{kept}\n… ({len(text) - len(kept):,} more characters not shown)"


def objective_text(manifest: Manifest) -> str:
    """What a change is judged on: the primary metric and the guardrails of the contract."""
    primary = manifest.metrics.primary
    unit = "relative" if primary.min_effect_kind == "relative" else "absolute"
    lines = [
        f"Primary metric: {primary.name} ({primary.direction}); a change ships from a "
        f"{unit} improvement of {primary.min_effect:g}.",
        *(
            f"Guardrail: {g.name} ({g.direction}) may worsen by at most {g.threshold:g} ({g.kind})"
            + ("" if g.limit is None else f" and never past {g.limit:g}")
            for g in manifest.metrics.guardrails
        ),
    ]
    return "\n".join(lines)


def paths_text(manifest: Manifest) -> str:
    """Which files an agent may change and which it must never touch."""
    paths = manifest.paths
    return (
        f"Editable (globs): {', '.join(paths.editable)}\n"
        f"Protected, never to be touched (globs): {', '.join(paths.all_protected)}"
    )


def directions_text(
    directions: Iterable[ForbiddenDirection], now: datetime, champion: Champion
) -> str:
    """The active forbidden directions, one per line."""
    active = [d for d in directions if d.is_active(now, champion)]
    return "\n".join(f"- {d.describe()}" for d in active)


def failure_text(record: FailureRecord) -> str:
    """One failure record as a retrievable document."""
    params = ", ".join(f"{k}={v}" for k, v in record.parameters.items())
    files = ", ".join(record.changed_files)
    return (
        f"Failure {record.describe()} (family {record.family or 'unknown'}"
        f"{f'; parameters {params}' if params else ''}{f'; files {files}' if files else ''})"
    )


def repo_map_text(workspace: Path, manifest: Manifest, budget: int) -> str:
    """The workspace's repository map (from the AST), trimmed to `budget` characters."""
    repo = build_repo_map(workspace, manifest.recommender.source_dir)
    return trim(repo.render(), budget)
