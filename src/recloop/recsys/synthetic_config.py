"""The settings of a synthetic world, with presets at MovieLens scales.

Kept apart from the world itself so that a config can be validated, saved with a run and shown to
a person without building anything.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

SECONDS_PER_DAY = 86_400
_USER_CAP_SHARE = 0.5  # a user rates at most half the items released before the log starts


class SyntheticConfig(BaseModel):
    """Everything that determines a synthetic world and the log sampled from it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    n_users: int = Field(ge=1)
    n_items: int = Field(ge=2)
    n_interactions: int = Field(ge=1, description="target size of a sampled log")
    n_factors: int = Field(16, ge=2)
    n_genres: int = Field(18, ge=3, le=100)
    genre_coherence: float = Field(
        0.7, ge=0.0, le=1.0, description="share of a factor vector that comes from its genres"
    )
    popularity_exponent: float = Field(
        1.8,
        ge=0.0,
        description="Zipf exponent a of base item popularity (Zipf-Mandelbrot)",
    )
    activity_sigma: float = Field(
        1.0, ge=0.0, description="log-normal sigma of user activity; 0 = all users alike"
    )
    min_user_interactions: int = Field(5, ge=1)
    taste_strength: float = Field(
        3.0, ge=0.0, description="weight of affinity against log popularity in choices"
    )
    days: int = Field(365, ge=1, description="time span of the log")
    start: date = date(2000, 1, 1)
    new_item_fraction: float = Field(
        0.3, ge=0.0, le=0.9, description="share of items released during the span"
    )
    drift: float = Field(
        0.3, ge=0.0, le=2.0, description="taste rotation over the span, in quarter turns"
    )
    rating_noise: float = Field(
        0.5, ge=0.0, description="sd of the noise added to affinity (sd 1) before rating"
    )
    seed: int = 0

    @classmethod
    def small(cls, **overrides: Any) -> SyntheticConfig:
        """MovieLens-100K scale: 943 users, 1,682 items, 100,000 ratings over 215 days."""
        base: dict[str, Any] = {
            "n_users": 943,
            "n_items": 1682,
            "n_interactions": 100_000,
            "min_user_interactions": 20,
            "days": 215,
            "start": date(1997, 9, 20),
        }
        return cls(**(base | overrides))

    @classmethod
    def ml1m_scale(cls, **overrides: Any) -> SyntheticConfig:
        """MovieLens-1M scale: 6,040 users, 3,706 items, 1,000,000 ratings over 1,038 days."""
        base: dict[str, Any] = {
            "n_users": 6040,
            "n_items": 3706,
            "n_interactions": 1_000_000,
            "min_user_interactions": 20,
            "days": 1038,
            "start": date(2000, 4, 25),
        }
        return cls(**(base | overrides))

    @property
    def span_start(self) -> int:
        """Start of the span in seconds since the epoch (UTC midnight of `start`)."""
        day = self.start
        return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())

    @property
    def span_end(self) -> int:
        return self.span_start + self.days * SECONDS_PER_DAY

    @property
    def n_new_items(self) -> int:
        return round(self.new_item_fraction * self.n_items)

    @property
    def max_user_interactions(self) -> int:
        """The most items one user rates (keeps every user's picks feasible at every time)."""
        return int(_USER_CAP_SHARE * (self.n_items - self.n_new_items))

    @model_validator(mode="after")
    def _feasible(self) -> Self:
        cap = self.max_user_interactions
        if self.min_user_interactions > cap:
            raise ValueError(
                f"min_user_interactions={self.min_user_interactions} exceeds the per-user cap "
                f"of {cap} (half the items released before the span)"
            )
        low, high = self.n_users * self.min_user_interactions, self.n_users * cap
        if not low <= self.n_interactions <= high:
            raise ValueError(
                f"n_interactions={self.n_interactions} must lie in [{low}, {high}] for "
                f"{self.n_users} users with {self.min_user_interactions}..{cap} items each"
            )
        return self
