"""The reference recommenders and a registry that builds one by name with validated settings.

Every model is a `ScoringRecommender` taking one frozen pydantic config, so a name plus a dict of
params (from a CLI, a config file or an agent's proposal) is checked before anything is fitted.
"""

from __future__ import annotations

from typing import Any

from recloop.recsys.models._config import ModelConfig
from recloop.recsys.models.ease import EASE, EASEConfig
from recloop.recsys.models.itemknn import ItemKNN, ItemKNNConfig
from recloop.recsys.models.popular import MostPopular, PopConfig
from recloop.recsys.models.rp3beta import RP3beta, RP3betaConfig
from recloop.recsys.protocol import ScoringRecommender

_REGISTRY: dict[str, tuple[type[ScoringRecommender], type[ModelConfig]]] = {
    "pop": (MostPopular, PopConfig),
    "itemknn": (ItemKNN, ItemKNNConfig),
    "ease": (EASE, EASEConfig),
    "rp3beta": (RP3beta, RP3betaConfig),
}

MODEL_NAMES: tuple[str, ...] = tuple(_REGISTRY)  # ("pop", "itemknn", "ease", "rp3beta")


def config_type(name: str) -> type[ModelConfig]:
    """The config class of a registered model, e.g. to show or validate its settings."""
    return _lookup(name)[1]


def make_model(name: str, **params: Any) -> ScoringRecommender:
    """Build a registered model; params are validated by its config (pydantic ValidationError)."""
    model_type, cfg_type = _lookup(name)
    return model_type(cfg_type(**params))  # type: ignore[call-arg]


def _lookup(name: str) -> tuple[type[ScoringRecommender], type[ModelConfig]]:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(
            f"unknown model {name!r}; choose one of: {', '.join(MODEL_NAMES)}"
        ) from None


__all__ = [
    "EASE",
    "MODEL_NAMES",
    "EASEConfig",
    "ItemKNN",
    "ItemKNNConfig",
    "ModelConfig",
    "MostPopular",
    "PopConfig",
    "RP3beta",
    "RP3betaConfig",
    "config_type",
    "make_model",
]
