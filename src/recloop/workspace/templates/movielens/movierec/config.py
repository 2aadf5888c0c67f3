"""The pipeline's parameters: typed, validated, read from a TOML file.

Every stage takes its own frozen section. Unknown keys and values out of range are errors, so a
typo in the config file fails loudly instead of silently running the defaults.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "config" / "pipeline.toml"


class ConfigError(ValueError):
    """A config value that is missing, unknown or out of range."""


@dataclass(frozen=True)
class DataConfig:
    recency_half_life_days: float = 0.0  # 0 disables recency weighting

    def __post_init__(self) -> None:
        _at_least(self, "recency_half_life_days", 0.0)


@dataclass(frozen=True)
class CandidateConfig:
    popular: int = 100  # most popular unseen items proposed to every user
    cooccurrence: int = 200  # items co-occurring most with the user's history
    neighbours: int = 50  # neighbours kept per item in the co-occurrence index

    def __post_init__(self) -> None:
        for name in ("popular", "cooccurrence", "neighbours"):
            _at_least(self, name, 0 if name == "popular" else 1)


@dataclass(frozen=True)
class RankingWeights:
    popularity: float = 0.5
    cooccurrence: float = 1.0
    genre_affinity: float = 0.0

    def __post_init__(self) -> None:
        for name in ("popularity", "cooccurrence", "genre_affinity"):
            _at_least(self, name, 0.0)

    def as_dict(self) -> dict[str, float]:
        return {f.name: float(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True)
class RankingConfig:
    weights: RankingWeights = field(default_factory=RankingWeights)


@dataclass(frozen=True)
class RerankConfig:
    max_per_genre: int = 10  # items sharing a main genre allowed in one list
    min_item_interactions: int = 1  # items with fewer training interactions are never shown

    def __post_init__(self) -> None:
        _at_least(self, "max_per_genre", 1)
        _at_least(self, "min_item_interactions", 0)


@dataclass(frozen=True)
class PipelineConfig:
    data: DataConfig = field(default_factory=DataConfig)
    candidates: CandidateConfig = field(default_factory=CandidateConfig)
    ranking: RankingConfig = field(default_factory=RankingConfig)
    rerank: RerankConfig = field(default_factory=RerankConfig)


def load_config(path: str | Path = DEFAULT_CONFIG) -> PipelineConfig:
    """Read and validate the pipeline config (raises ConfigError naming the bad key)."""
    with open(path, "rb") as handle:
        return config_from_dict(tomllib.load(handle))


def config_from_dict(raw: dict[str, Any]) -> PipelineConfig:
    """Build a PipelineConfig from nested dicts; sections left out keep their defaults."""
    return _build(PipelineConfig, raw, "")


def _build(cls: type, raw: dict[str, Any], prefix: str) -> Any:
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ConfigError(f"unknown key {prefix}{unknown[0]}; expected one of {sorted(known)}")
    values: dict[str, Any] = {}
    for name, value in raw.items():
        key = f"{prefix}{name}"
        section = known[name].default_factory
        if is_dataclass(section):
            if not isinstance(value, dict):
                raise ConfigError(f"{key} must be a table of settings")
            values[name] = _build(section, value, f"{key}.")
        else:
            values[name] = _typed(value, known[name].type, key)
    return cls(**values)


def _typed(value: Any, annotation: Any, key: str) -> float | int:
    if annotation == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if annotation == "float" and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise ConfigError(f"{key} must be {'an integer' if annotation == 'int' else 'a number'}")


def _at_least(section: object, name: str, low: float) -> None:
    value = getattr(section, name)
    if value < low:
        raise ConfigError(f"{type(section).__name__}.{name} must be >= {low}, got {value}")
