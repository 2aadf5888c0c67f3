"""The shared shape of a model's typed config: frozen, validated, unknown fields rejected.

Each model takes one config object (like lenskit's `PopConfig`) so its settings are checked when
the model is built and can be saved with the run, not discovered wrong half-way through a fit.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict


class ModelConfig(BaseModel):
    """Base of every model config: immutable, and a misspelt setting is an error, not a no-op."""

    model_config = ConfigDict(frozen=True, extra="forbid")


C = TypeVar("C", bound=ModelConfig)


def resolve_config(config_type: type[C], config: C | None, overrides: dict[str, Any]) -> C:
    """The config a model runs with: `config` (or the defaults) with keyword overrides validated.

    Passing both is allowed so `EASE(cfg, l2=100.0)` reads naturally; the result is re-validated.
    """
    if config is not None and not isinstance(config, config_type):
        raise TypeError(f"expected a {config_type.__name__}, got {type(config).__name__}")
    base = {} if config is None else config.model_dump()
    if config is not None and not overrides:
        return config
    return config_type.model_validate({**base, **overrides})
