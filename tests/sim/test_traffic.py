from __future__ import annotations

import numpy as np
import pytest

from recloop.sim.config import FaultConfig, TrafficConfig
from recloop.sim.traffic import build_population, day_multipliers, day_sessions, rate_scale

TRAFFIC = TrafficConfig(daily_users=4_000, spike_probability=0.0, day_noise=0.0)
DAYS = 28


def _sessions(traffic: TrafficConfig = TRAFFIC, faults: FaultConfig | None = None) -> list:
    pop = build_population(traffic, faults or FaultConfig(), 100, DAYS, 14, 0.5, seed=0)
    mult = day_multipliers(traffic, DAYS, 0, seed=0)  # day 0 is a Monday
    return [day_sessions(pop, d, mult[d], 24, np.random.default_rng([0, d])) for d in range(DAYS)]


@pytest.fixture(scope="module")
def days() -> list:
    return _sessions()


def test_daily_active_users_match_the_configured_traffic(days: list) -> None:
    active = np.array([len(np.unique(d.user)) for d in days[:7]])
    assert active.mean() == pytest.approx(4_000, rel=0.1)


def test_weekends_are_busier_as_configured(days: list) -> None:
    sessions = np.array([len(d.user) for d in days]).reshape(4, 7).mean(axis=0)
    weekly = np.asarray(TRAFFIC.weekly)
    assert sessions[5] / sessions[1] == pytest.approx(weekly[5] / weekly[1], rel=0.05)
    assert sessions[5] > sessions[2]


def test_heavy_and_light_users(days: list) -> None:
    per_user = np.bincount(np.concatenate([d.user for d in days]))
    ranked = np.sort(per_user[per_user > 0])[::-1]
    assert ranked[: len(ranked) // 10].sum() > 0.4 * ranked.sum()  # a heavy tail
    assert np.percentile(ranked, 25) <= 4  # many light users
    assert ranked[: len(ranked) // 100].mean() > 10 * np.median(ranked)


def test_new_users_join_and_visit_on_their_first_day() -> None:
    pop = build_population(TRAFFIC, FaultConfig(), 100, DAYS, 14, 0.5, seed=0)
    joined = pop.join_day[pop.join_day > 0]
    assert len(joined) > 0.005 * 12_000 * (DAYS - 2)
    day = day_sessions(pop, 10, 1.0, 24, np.random.default_rng(0))
    newcomers = np.flatnonzero(pop.join_day == 10)
    assert np.isin(newcomers, day.user).all()
    assert not np.isin(np.flatnonzero(pop.join_day > 10), day.user).any()
    assert np.isnan(pop.last_visit[newcomers]).all()


def test_a_users_sessions_are_ordered_and_a_second_apart(days: list) -> None:
    d = days[3]
    same = d.user[1:] == d.user[:-1]
    assert (np.diff(d.second)[same] >= 1).all()
    assert (d.round[1:][same] == d.round[:-1][same] + 1).all()
    assert (d.round[1:][~same] == 0).all()


def test_evenings_are_busier_than_nights(days: list) -> None:
    hours = np.concatenate([d.second for d in days]) // 3600
    counts = np.bincount(np.minimum(hours, 23), minlength=24)
    assert counts[20] > 5 * counts[3]


def test_spike_and_bot_faults_add_users() -> None:
    plain = build_population(TRAFFIC, FaultConfig(), 100, DAYS, 14, 0.5, seed=0)
    faults = FaultConfig(enabled=frozenset({"traffic-spike", "bots"}))
    both = build_population(TRAFFIC, faults, 100, DAYS, 14, 0.5, seed=0)
    spike = both.join_day == 14
    assert spike.sum() > (plain.join_day == 14).sum() + 2 * 4_000
    assert both.bot.sum() == round(0.01 * 12_000) and (both.rate[both.bot] == 20.0).all()
    mult = day_multipliers(TRAFFIC, DAYS, 0, 0)
    d14 = day_sessions(both, 14, mult[14], 24, np.random.default_rng(1))
    d13 = day_sessions(both, 13, mult[13], 24, np.random.default_rng(1))
    assert len(np.unique(d14.user)) > 2.5 * len(np.unique(d13.user))


def test_rate_scale_solves_the_active_share() -> None:
    activity = np.random.default_rng(0).lognormal(0, 1.2, 50_000)
    s = rate_scale(activity, 0.25)
    assert np.mean(-np.expm1(-s * activity)) == pytest.approx(0.25, rel=1e-6)
