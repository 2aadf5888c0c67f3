"""How a simulated user responds to a slate: examine, click, consume, feel, come back.

For the item at rank r (1-based) of a slate served to user u (a clone of persona p) at a session:

    examined     with probability  r ** -position_decay          (position-based model)
    click logit  = a + b * relevance(p, i) + clickbait * bait_i   (the calibrated `ClickModel`)
                   + bias_u                                       (some users click more)
                   + novelty_lift * exp(-n_u / novelty_exposures) (n_u = u's earlier sessions
                                                                   served by a changed policy)
                   - fatigue * log(1 + views_ui)                  (views_ui: u's recent views of i,
                                                                   decayed by fatigue_decay a day)
                   + shock                                        (a seasonal-shock fault)
    click        with probability  examined * sigmoid(click logit)
    satisfaction logit s = c0 + c1 * relevance + c2 * quality_i - clickbait * bait_i (+ shock)
    consume      a click is consumed with probability sigmoid(s); the consume event's value,
                 the user's satisfaction in (0, 1), is sigmoid(s + satisfaction_noise * N(0, 1))

A session's satisfaction is the sum of its consume values minus `disappointment` per click not
consumed; u's recent satisfaction h_u is its moving average (h_u <- memory * h_u + (1 - memory) *
session satisfaction). After a day with a session, u comes back (stays a user) with probability
sigmoid(retention_intercept + retention_activity * loyalty_u + retention_slope * h_u), where
loyalty_u is the log of u's visit rate over a typical user's (habits keep heavy users; light and
new users are fragile), else she leaves for good. So
retention, the long-term north star, follows satisfaction, while clicks follow relevance and bait:
a bait-heavy policy can win clicks and lose users (RecSim's long-term satisfaction, KuaiSim's
leave model, SARDINE's position-based examination; see REFERENCES.md).

Calibration. (a, b) are solved so that, on the world's own personas, a random unseen item is
clicked when examined with probability `base_ctr` (default 1%) and the 10 most clickable unseen
items of a persona with mean probability `top_ctr` (default 25%), before user bias, novelty and
fatigue. With the default position decay that puts a perfect top-10 slate near 9% CTR and a
random slate near 0.3% — the range public recommendation CTRs fall in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from recloop.sim.config import ResponseConfig
from recloop.sim.truth import GroundTruth

CALIBRATION_PERSONAS = 300
CALIBRATION_PAIRS = 50_000
TOP_N = 10
_BISECTION_STEPS = 40


@dataclass(frozen=True)
class ClickModel:
    """The calibrated map from hidden truth to click and satisfaction logits."""

    intercept: float
    slope: float
    clickbait: float
    satisfaction: tuple[float, float, float]  # intercept, relevance, quality weights

    def click_logit(self, relevance: np.ndarray, bait: np.ndarray) -> np.ndarray:
        return (self.intercept + self.slope * relevance + self.clickbait * bait).astype(np.float32)

    def satisfaction_logit(
        self, relevance: np.ndarray, quality: np.ndarray, bait: np.ndarray
    ) -> np.ndarray:
        c0, c1, c2 = self.satisfaction
        return (c0 + c1 * relevance + c2 * quality - self.clickbait * bait).astype(np.float32)


def calibrate(truth: GroundTruth, config: ResponseConfig, seed: int = 0) -> ClickModel:
    """Solve the click intercept and slope for the configured base and top click rates."""
    rng = np.random.default_rng([seed, 11])
    train = truth.train
    n_users = train.n_users
    personas = np.sort(rng.choice(n_users, min(n_users, CALIBRATION_PERSONAS), replace=False))
    rel = truth.relevance(personas[:, None], np.arange(train.n_items)[None, :])
    rel = np.where(train.binary[personas].toarray() > 0, np.nan, rel)  # unseen pairs only
    bait = truth.item_bait[None, :]
    unseen = np.argwhere(~np.isnan(rel))
    sample = unseen[rng.choice(len(unseen), min(len(unseen), CALIBRATION_PAIRS), replace=False)]
    rand_rel, rand_bait = rel[sample[:, 0], sample[:, 1]], truth.item_bait[sample[:, 1]]
    w = config.clickbait

    def intercept_for(slope: float) -> float:
        shift = slope * rand_rel + w * rand_bait
        return _bisect(lambda a: float(expit(a + shift).mean()) - config.base_ctr, -30.0, 30.0)

    def top_rate(slope: float) -> float:
        a = intercept_for(slope)
        score = np.nan_to_num(slope * rel + w * bait, nan=-np.inf)
        top = np.sort(np.partition(score, -TOP_N, axis=1)[:, -TOP_N:], axis=1)
        return float(expit(a + top).mean())

    slope = _bisect(lambda b: top_rate(b) - config.top_ctr, 0.0, 20.0)
    return ClickModel(
        intercept=intercept_for(slope),
        slope=slope,
        clickbait=w,
        satisfaction=(
            config.satisfaction_intercept,
            config.satisfaction_relevance,
            config.satisfaction_quality,
        ),
    )


def _bisect(f: Callable[[float], float], low: float, high: float) -> float:
    """The root of an increasing function on [low, high] (clamped to the ends)."""
    for _ in range(_BISECTION_STEPS):
        mid = 0.5 * (low + high)
        if f(mid) < 0:
            low = mid
        else:
            high = mid
    return 0.5 * (low + high)


def examination(slate_size: int, decay: float) -> np.ndarray:
    """P(examined) of ranks 1..slate_size: rank ** -decay (float32)."""
    return (np.arange(1, slate_size + 1, dtype=np.float64) ** -decay).astype(np.float32)


def novelty(previous_exposures: np.ndarray, lift: float, exposures: float) -> np.ndarray:
    """Click logit lift of a changed policy after a user's earlier exposures to it."""
    return (lift * np.exp(-np.asarray(previous_exposures, np.float32) / exposures)).astype(
        np.float32
    )


def return_probability(
    recent_satisfaction: np.ndarray,
    loyalty: np.ndarray,
    config: ResponseConfig,
    shift: np.ndarray | None = None,
) -> np.ndarray:
    """P(a user comes back after an active day) from her recent satisfaction and habit
    (`shift`: a per-user logit shift, the `treatment_churn_logit` knob)."""
    logit = (
        config.retention_intercept
        + config.retention_activity * loyalty
        + config.retention_slope * recent_satisfaction
    )
    if shift is not None:
        logit = logit + shift
    return expit(logit)


@dataclass(frozen=True)
class SlateResponse:
    """What happened at each impression of a batch (aligned arrays)."""

    click: np.ndarray  # bool
    consume: np.ndarray  # bool, implies click
    value: np.ndarray  # float32 satisfaction of a consume, 0 elsewhere


def respond(
    click_prob: np.ndarray,
    satisfaction_logit: np.ndarray,
    draws: tuple[np.ndarray, np.ndarray, np.ndarray],
    noise_sd: float,
) -> SlateResponse:
    """Clicks, consumes and satisfaction of impressions, from pre-drawn random numbers.

    `draws` = (uniform for the click, uniform for the consume, standard normal for the value),
    one per impression: drawing them outside keeps common random numbers across worlds.
    """
    u_click, u_consume, z = draws
    click = u_click < click_prob
    consume = click & (u_consume < expit(satisfaction_logit))
    value = np.where(consume, expit(satisfaction_logit + noise_sd * z), 0.0).astype(np.float32)
    return SlateResponse(click=click, consume=consume, value=value)
