"""Who visits and when: a user base, its arrivals over simulated days, and its sessions.

The base starts with `daily_users * population_ratio` users. Each has a visit rate (sessions per
day) drawn log-normal, scaled so that on an average day `daily_users` of them visit: a few heavy
users come several times a day, most come now and then. New users join every day (and visit on
the day they join); a day's traffic follows the weekly pattern, day-to-day log-normal noise and
occasional spikes. Within a day, session times follow a diurnal profile peaking in the evening.
Users also leave for good (see `response.return_probability`), so the base drifts over a test.

Every random number of a day is drawn, in a fixed order and for every user of the base, from a
generator seeded by (seed, stream, day) — whether or not the user is still there — so two runs of
the same population that serve different policies share their random numbers (the oracle's common
random numbers) even after their users' histories part.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recloop.sim.config import FaultConfig, TrafficConfig

SECONDS_PER_DAY = 86_400
# Share of a day's sessions in each hour (00-01 ... 23-24), evening peak; normalised below.
DIURNAL = np.array(
    [
        *(0.30, 0.20, 0.15, 0.12, 0.12, 0.20, 0.40, 0.70, 0.90, 1.00, 1.00, 1.05),
        *(1.10, 1.05, 1.00, 1.00, 1.05, 1.15, 1.35, 1.55, 1.60, 1.40, 1.00, 0.60),
    ]
)
_DIURNAL_CDF = np.concatenate([[0.0], np.cumsum(DIURNAL) / DIURNAL.sum()])
_HOUR_EDGES = np.arange(25) * 3600.0
SPIKE_USER_BIAS = -1.0  # users brought by a traffic spike click less than the base
_BASE_STREAM, _DAY_STREAM = 101, 102


@dataclass(frozen=True, eq=False)
class Population:
    """Every user the simulation may see, including those who join later; index = user."""

    unit_id: np.ndarray  # int64, the id logged in the tables
    persona: np.ndarray  # int64 index of the world user whose tastes this user has
    rate: np.ndarray  # float64 expected sessions per day on an average day
    loyalty: np.ndarray  # float32 log of the rate over a typical user's (heavy users stay)
    bias: np.ndarray  # float32 the user's own click logit offset
    join_day: np.ndarray  # int64 day of the first visit (-1: in the base before day 0)
    last_visit: np.ndarray  # float64 day of the last visit before day 0 (NaN: none yet)
    bot: np.ndarray  # bool

    @property
    def size(self) -> int:
        return len(self.unit_id)

    def take(self, index: np.ndarray) -> Population:
        """The users at `index`, in that order."""
        return Population(
            **{name: getattr(self, name)[index] for name in self.__dataclass_fields__}
        )


def rate_scale(activity: np.ndarray, active_share: float) -> float:
    """s such that a user with rate s * activity visits on a given day with mean prob. share."""
    low, high = 1e-9, 1e6
    for _ in range(100):  # mean(1 - exp(-s a)) increases in s: bisection on a log scale
        mid = np.sqrt(low * high)
        if np.mean(-np.expm1(-mid * activity)) < active_share:
            low = mid
        else:
            high = mid
    return float(np.sqrt(low * high))


def build_population(
    traffic: TrafficConfig,
    faults: FaultConfig,
    n_personas: int,
    total_days: int,
    spike_day: int,
    bias_sd: float,
    seed: int,
    stream: int = 0,
) -> Population:
    """The base, the users who join day by day, and (as faults) spike users and bots."""
    rng = np.random.default_rng([seed, _BASE_STREAM, stream])
    n0 = round(traffic.daily_users * traffic.population_ratio)
    activity = rng.lognormal(0.0, traffic.activity_sigma, n0)
    scale = rate_scale(activity, 1.0 / traffic.population_ratio)
    joins = rng.poisson(traffic.new_user_rate * n0, max(total_days - 1, 0))
    join_day = np.concatenate([np.full(n0, -1), np.repeat(np.arange(1, total_days), joins)])
    n_new = len(join_day) - n0
    rate = scale * np.concatenate([activity, rng.lognormal(0.0, traffic.activity_sigma, n_new)])
    bias = rng.normal(0.0, bias_sd, len(rate))
    bot = np.zeros(len(rate), bool)
    if "traffic-spike" in faults:
        n_spike = round((faults.spike_multiplier - 1.0) * traffic.daily_users)
        join_day = np.concatenate([join_day, np.full(n_spike, spike_day)])
        rate = np.concatenate([rate, scale * rng.lognormal(-1.0, traffic.activity_sigma, n_spike)])
        bias = np.concatenate([bias, np.full(n_spike, SPIKE_USER_BIAS)])
        bot = np.concatenate([bot, np.zeros(n_spike, bool)])
    if "bots" in faults:
        n_bots = max(1, round(faults.bot_share * n0))
        join_day = np.concatenate([join_day, np.full(n_bots, -1)])
        rate = np.concatenate([rate, np.full(n_bots, faults.bot_sessions)])
        bias = np.concatenate([bias, np.zeros(n_bots)])
        bot = np.concatenate([bot, np.ones(n_bots, bool)])
    n = len(rate)
    gap = np.minimum(rng.exponential(1.0 / np.maximum(rate, 1e-3)), 60.0)
    last_visit = np.where(join_day < 0, -gap, np.nan)
    last_visit[bot] = np.nan
    return Population(
        unit_id=np.arange(1, n + 1, dtype=np.int64),
        persona=rng.integers(0, n_personas, n),
        rate=rate,
        loyalty=np.clip(np.log(rate / scale), -3.0, 3.0).astype(np.float32),
        bias=bias.astype(np.float32),
        join_day=join_day,
        last_visit=last_visit,
        bot=bot,
    )


def day_multipliers(
    traffic: TrafficConfig, total_days: int, first_weekday: int, seed: int
) -> np.ndarray:
    """Each day's traffic relative to an average day: weekly pattern x noise x spikes."""
    rng = np.random.default_rng([seed, _DAY_STREAM])
    weekly = np.asarray(traffic.weekly) / np.mean(traffic.weekly)
    days = np.arange(total_days)
    sigma = traffic.day_noise
    noise = np.exp(sigma * rng.standard_normal(total_days) - sigma**2 / 2)
    spiking = rng.random(total_days) < traffic.spike_probability
    spikes = np.where(spiking, rng.uniform(*traffic.spike_multiplier, total_days), 1.0)
    return np.asarray(weekly[(first_weekday + days) % 7] * noise * spikes)


@dataclass(frozen=True, eq=False)
class DaySessions:
    """A day's potential sessions (also of users who have left), sorted by user then time."""

    user: np.ndarray  # int64 index into the population
    round: np.ndarray  # int64 0 for a user's first session of the day, 1 for the second, ...
    second: np.ndarray  # int64 seconds after midnight


def day_sessions(
    population: Population,
    day: int,
    multiplier: float,
    max_per_day: int,
    rng: np.random.Generator,
) -> DaySessions:
    """Session counts (Poisson, +1 on a user's join day) and times for every joined user."""
    counts = rng.poisson(population.rate * multiplier)
    counts[population.join_day > day] = 0
    counts[population.join_day == day] += 1
    np.minimum(counts, max_per_day, out=counts)
    total = int(counts.sum())
    seconds = np.interp(rng.random(total), _DIURNAL_CDF, _HOUR_EDGES).astype(np.int64)
    user = np.repeat(np.arange(population.size), counts)
    seconds = seconds[np.lexsort((seconds, user))]
    rnd = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    # a user's sessions a second apart at least: running max of (second - round) per user
    offset = user * (2 * SECONDS_PER_DAY)
    seconds = np.maximum.accumulate(seconds - rnd + offset) - offset + rnd
    return DaySessions(user=user, round=rnd, second=seconds)
