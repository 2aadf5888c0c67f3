"""The catalogue of transformations the non-LLM Develop agent knows.

Six code transformations of the example workspace (`movierec`) and one config-level
transformation for any workspace (its manifest's search spaces). One transformation per family:
the brainstormer proposes families, the developer looks the family up here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from recloop.agents.transform import Transformation
from recloop.agents.transforms.coldstart import ColdStartFallback
from recloop.agents.transforms.config import CONFIG_FAMILY, ConfigSearch
from recloop.agents.transforms.debias import PopularityDebias
from recloop.agents.transforms.decay import HistoryDecay
from recloop.agents.transforms.diversity import MmrDiversity
from recloop.agents.transforms.ease import EaseCandidates
from recloop.agents.transforms.similarity import ItemSimilarity


class Catalogue:
    """Transformations keyed by family (at most one per family)."""

    def __init__(self, transformations: Iterable[Transformation]) -> None:
        self._by_family: dict[str, Transformation] = {}
        for transformation in transformations:
            if transformation.family in self._by_family:
                raise ValueError(f"two transformations of family {transformation.family!r}")
            self._by_family[transformation.family] = transformation

    def __iter__(self) -> Iterator[Transformation]:
        return iter(self._by_family.values())

    def __len__(self) -> int:
        return len(self._by_family)

    def __contains__(self, family: object) -> bool:
        return family in self._by_family

    @property
    def families(self) -> tuple[str, ...]:
        return tuple(self._by_family)

    def get(self, family: str) -> Transformation | None:
        return self._by_family.get(family)


def default_catalogue() -> Catalogue:
    """Every built-in transformation."""
    return Catalogue(
        [
            ConfigSearch(),
            EaseCandidates(),
            ItemSimilarity(),
            HistoryDecay(),
            PopularityDebias(),
            MmrDiversity(),
            ColdStartFallback(),
        ]
    )


__all__ = [
    "CONFIG_FAMILY",
    "Catalogue",
    "ColdStartFallback",
    "ConfigSearch",
    "EaseCandidates",
    "HistoryDecay",
    "ItemSimilarity",
    "MmrDiversity",
    "PopularityDebias",
    "default_catalogue",
]
