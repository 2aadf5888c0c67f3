"""The typed settings of a simulation, validated before anything runs and saved with the run.

One frozen pydantic model per concern: who arrives (`TrafficConfig`), how they respond to a slate
(`ResponseConfig`), what is tested on them (`ExperimentConfig`) and which faults are switched on
(`FaultConfig`); `SimConfig` holds them with the world, the two policies and the calendar.
"""

from __future__ import annotations

from datetime import date
from itertools import pairwise
from typing import Literal, Self, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

WorldName = Literal["synthetic", "ml-100k"]
WORLD_NAMES: tuple[str, ...] = get_args(WorldName)

FaultName = Literal[
    "srm-assignment", "srm-logging", "novelty-only", "seasonal-shock", "traffic-spike", "bots"
]
FAULT_NAMES: tuple[str, ...] = get_args(FaultName)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TrafficConfig(_Frozen):
    """Who visits and when: a user base with heavy and light users, weekly rhythm, noise, spikes."""

    daily_users: int = Field(
        default=5_000, ge=10, description="expected daily active users at the start"
    )
    population_ratio: float = Field(
        default=3.0, gt=1.0, description="users in the base per daily active user"
    )
    activity_sigma: float = Field(
        default=1.2, ge=0.0, description="log-normal sigma of users' visit rates (heavy and light)"
    )
    weekly: tuple[float, float, float, float, float, float, float] = Field(
        default=(0.97, 0.96, 0.96, 0.98, 1.02, 1.07, 1.04),
        description="traffic multiplier Monday..Sunday (normalised to mean 1)",
    )
    day_noise: float = Field(
        default=0.05, ge=0.0, description="log-normal sigma of day-to-day noise"
    )
    spike_probability: float = Field(
        default=0.03, ge=0.0, le=1.0, description="chance a day spikes"
    )
    spike_multiplier: tuple[float, float] = Field(
        default=(1.3, 2.0), description="range of a spike"
    )
    new_user_rate: float = Field(
        default=0.005, ge=0.0, description="new users per day as a share of the initial user base"
    )
    max_sessions_per_day: int = Field(default=24, ge=1, le=100)

    @model_validator(mode="after")
    def _check(self) -> Self:
        if min(self.weekly) <= 0:
            raise ValueError("weekly multipliers must be positive")
        low, high = self.spike_multiplier
        if not 1.0 <= low <= high:
            raise ValueError("spike_multiplier must be (low, high) with 1 <= low <= high")
        return self


class ResponseConfig(_Frozen):
    """How a simulated user responds to a slate (see `response` for the model itself)."""

    slate_size: int = Field(default=10, ge=1, le=100)
    candidates: int = Field(
        default=50, ge=1, description="items asked of a policy per user; consumed ones are skipped"
    )
    position_decay: float = Field(
        default=0.8, ge=0.0, description="examination of rank r is r ** -position_decay"
    )
    base_ctr: float = Field(
        default=0.01, gt=0.0, lt=1.0, description="P(click | examined) of a random unseen item"
    )
    top_ctr: float = Field(
        default=0.25,
        gt=0.0,
        lt=1.0,
        description="P(click | examined) of a user's 10 best unseen items",
    )
    clickbait: float = Field(
        default=0.5, ge=0.0, description="logit weight of item bait: + on clicks, - on satisfaction"
    )
    user_bias_sd: float = Field(
        default=0.5, ge=0.0, description="sd of users' own click logit offset"
    )
    fatigue: float = Field(
        default=0.5, ge=0.0, description="click logit lost per log(1 + recent views of the item)"
    )
    fatigue_decay: float = Field(
        default=0.8, gt=0.0, le=1.0, description="views remembered per day"
    )
    novelty_lift: float = Field(
        default=0.2,
        ge=0.0,
        description="click logit lift of a changed policy at a user's first exposure",
    )
    novelty_exposures: float = Field(
        default=4.0, gt=0.0, description="exposures over which the novelty lift decays by 1/e"
    )
    satisfaction_intercept: float = -0.5
    satisfaction_relevance: float = 0.8
    satisfaction_quality: float = 0.5
    satisfaction_noise: float = Field(default=0.5, ge=0.0)
    disappointment: float = Field(
        default=0.5, ge=0.0, description="satisfaction lost per click that is not consumed"
    )
    boredom: float = Field(
        default=0.3, ge=0.0, description="satisfaction lost in a session without any click"
    )
    memory: float = Field(
        default=0.7, ge=0.0, lt=1.0, description="weight of past satisfaction kept per session"
    )
    retention_intercept: float = Field(
        default=5.0,
        description="logit of returning after an active day, typical user, no satisfaction",
    )
    retention_activity: float = Field(
        default=0.8,
        ge=0.0,
        description="logit of returning per log of visit rate over the median's",
    )
    retention_slope: float = Field(
        default=8.0, ge=0.0, description="logit of returning per unit of recent satisfaction"
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.top_ctr <= self.base_ctr:
            raise ValueError("top_ctr must exceed base_ctr")
        if self.candidates < self.slate_size:
            raise ValueError("candidates must be at least slate_size")
        return self


class ExperimentConfig(_Frozen):
    """A two-arm test: hashing salt, treatment share, ramp schedule and a holdout."""

    name: str = Field(default="exp-1", min_length=1, max_length=100)
    treatment_share: float = Field(default=0.5, gt=0.0, lt=1.0)
    ramp: tuple[tuple[int, float], ...] = Field(
        default=((0, 1.0),),
        description="(test day, share of eligible users in the test), from day 0, non-decreasing",
    )
    holdout: float = Field(
        default=0.0, ge=0.0, lt=1.0, description="share of users kept out and served the control"
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        days = [d for d, _ in self.ramp]
        shares = [s for _, s in self.ramp]
        if not self.ramp or days[0] != 0:
            raise ValueError("the ramp must start on test day 0, e.g. ((0, 0.01), (2, 0.1))")
        if any(b <= a for a, b in pairwise(days)):
            raise ValueError("ramp days must increase")
        if any(not 0.0 < s <= 1.0 for s in shares):
            raise ValueError("ramp shares must lie in (0, 1]")
        if any(b < a for a, b in pairwise(shares)):
            raise ValueError("ramp shares must not decrease (units never leave a test)")
        return self


class FaultConfig(_Frozen):
    """Faults and confounders, all off unless named in `enabled`; the rest are their sizes.

    srm-assignment  a share `srm_share` of units hashed to the treatment are served and logged as
                    control (biased assignment: the control arm is too big)
    srm-logging     rows of light treatment users (about `srm_share` of the arm) are lost from
                    their first exposure on (selective logging loss: the treatment looks better)
    novelty-only    the treatment serves the control's slates, restyled: a novelty lift of
                    `novelty_only_lift` that fades, and no lasting effect (`policy_b` is ignored)
    seasonal-shock  from mid-test on, click and satisfaction logits shift by `shock_logit`
    traffic-spike   mid-test, `spike_multiplier` x a day's users arrive: new, low-intent users
    bots            `bot_share` of the base are bots: `bot_sessions` a day, clicking any item
                    with probability `bot_click`, never consuming, never leaving

    One knob is a size alone, off at 0: `treatment_churn_logit` shifts the return logit of users
    served the treatment (a change that pleases in the session but drives users away, e.g.
    pushier notifications shipped with a better ranker): a guardrail harm that a gain on the
    primary metric can hide.
    """

    enabled: frozenset[FaultName] = frozenset()
    srm_share: float = Field(
        default=0.15, gt=0.0, lt=1.0, description="share of treatment users hit by an SRM bug"
    )
    novelty_only_lift: float = Field(
        default=0.6, gt=0.0, description="novelty lift of novelty-only"
    )
    shock_logit: float = Field(
        default=-0.6, description="click and satisfaction shift of the shock"
    )
    spike_multiplier: float = Field(default=4.0, gt=1.0, description="traffic of the spike day")
    bot_share: float = Field(default=0.01, gt=0.0, lt=1.0, description="bots per user in the base")
    bot_sessions: float = Field(default=20.0, gt=0.0, description="sessions per day of a bot")
    bot_click: float = Field(default=0.3, gt=0.0, lt=1.0, description="P(click) of a bot per item")
    treatment_churn_logit: float = Field(
        default=0.0, le=0.0, description="return logit shift of users served the treatment"
    )

    def __contains__(self, name: object) -> bool:
        return name in self.enabled


class SimConfig(_Frozen):
    """One simulated A/B test: world, policies, calendar, traffic, response, faults, oracle."""

    world: WorldName = "synthetic"
    policy_a: str = Field(
        default="pop", description="control policy (a reference model or 'random')"
    )
    policy_b: str = Field(
        default="ease", description="treatment policy; equal to policy_a = an A/A test"
    )
    days: int = Field(default=14, ge=1, le=365, description="test days")
    pre_days: int = Field(
        default=7, ge=0, le=365, description="days logged before the test (CUPED)"
    )
    start: date = Field(default=date(2026, 1, 5), description="first pre-period day (a Monday)")
    seed: int = Field(default=0, ge=0)
    traffic: TrafficConfig = TrafficConfig()
    response: ResponseConfig = ResponseConfig()
    experiment: ExperimentConfig = ExperimentConfig()
    faults: FaultConfig = FaultConfig()
    oracle_daily_users: int = Field(
        default=20_000, ge=0, description="daily users of the oracle's population; 0 = no oracle"
    )

    @property
    def is_aa(self) -> bool:
        """Both arms serve the same policy (and no fault changes the treatment)."""
        return self.policy_a == self.policy_b and "novelty-only" not in self.faults

    @property
    def total_days(self) -> int:
        return self.pre_days + self.days
