"""Datasets by name: the one place the CLI, the demo and workspaces resolve `--data`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from recloop.recsys.data import Interactions
from recloop.recsys.datadir import DataUnavailableError
from recloop.recsys.movielens import load_ml1m, load_ml100k
from recloop.recsys.synthetic import SyntheticConfig, synthetic_interactions

DATASET_NAMES = ("ml-100k", "ml-1m", "synthetic", "synthetic-1m")


def _loaders(seed: int) -> dict[str, Callable[[Path | None], Interactions]]:
    return {
        "ml-100k": load_ml100k,
        "ml-1m": load_ml1m,
        "synthetic": lambda _: synthetic_interactions(SyntheticConfig.small(seed=seed)),
        "synthetic-1m": lambda _: synthetic_interactions(SyntheticConfig.ml1m_scale(seed=seed)),
    }


def is_dataset_name(name: str) -> bool:
    """A built-in dataset name, as opposed to the path of a team's own log."""
    return name in DATASET_NAMES


def load_dataset(name: str, root: Path | None = None, seed: int = 0) -> Interactions:
    """Load a built-in dataset by name (raw ratings; see `Interactions.implicit` for positives)."""
    loaders = _loaders(seed)
    if name not in loaders:
        raise ValueError(
            f"unknown dataset {name!r}: neither one of {', '.join(DATASET_NAMES)} nor an "
            "existing file or folder"
        )
    return loaders[name](root)


def load_or_synthetic(
    name: str, root: Path | None = None, seed: int = 0
) -> tuple[Interactions, str, str]:
    """Load `name`, or the synthetic world when it is unreachable.

    Returns the data, the name of what was loaded and a note for people saying which it was.
    """
    try:
        return load_dataset(name, root, seed), name, f"dataset: {name}"
    except DataUnavailableError as exc:
        data = load_dataset("synthetic", root, seed)
        return data, "synthetic", f"dataset: synthetic world, because {name} is unavailable: {exc}"
