"""End-to-end behaviours of a simulated test, read from the tables it writes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest
from scipy import stats

from recloop.sim.assignment import NEVER, plan_assignment
from recloop.sim.config import ExperimentConfig, FaultConfig, SimConfig, TrafficConfig
from recloop.sim.simulate import SimulationResult, simulate
from recloop.sim.tables import SCHEMA
from recloop.sim.truth import SyntheticTruth

MEASURED = {"exposures": "latency_ms", "serving": "fit_seconds, serve_seconds, ms_per_1000_users"}
BASE = SimConfig(traffic=TrafficConfig(daily_users=2_000), days=7, pre_days=3, oracle_daily_users=0)


def _run(truth: SyntheticTruth, out: Path | None = None, **changes: Any) -> SimulationResult:
    return simulate(BASE.model_copy(update=changes), out=out, truth=truth)


def _srm_pvalue(result: SimulationResult, share: float = 0.5) -> float:
    arms = result.summary["arms"]
    counts = np.array([arms["control"]["units"], arms["treatment"]["units"]])
    return float(stats.chisquare(counts, counts.sum() * np.array([1 - share, share])).pvalue)


@pytest.fixture(scope="module")
def aa(truth: SyntheticTruth) -> SimulationResult:
    return _run(truth, policy_b="pop", oracle_daily_users=2_000)


def test_an_aa_test_shows_no_effect(aa: SimulationResult) -> None:
    assert aa.config.is_aa
    for name in ("sessions_per_user", "clicks_per_user", "ctr", "consumption_per_user"):
        row = aa.summary["observed"][name]
        assert abs(row["effect"]) < 4 * row["se"], name
    assert _srm_pvalue(aa) > 0.001
    assert aa.truth is not None
    for effect in aa.truth.effects.values():  # same policy, common random numbers: exactly 0
        assert effect.effect == 0.0


def test_a_better_policy_has_a_true_and_observed_click_lift(truth: SyntheticTruth) -> None:
    result = _run(truth, oracle_daily_users=2_000)  # pop -> ease
    assert result.truth is not None
    true = result.truth.effects["clicks_per_user"]
    assert true.effect > 10 * true.se > 0
    observed = result.summary["observed"]["clicks_per_user"]
    assert abs(observed["effect"] - true.effect) < 4 * np.hypot(observed["se"], true.se)


def _tables(path: Path) -> dict[str, dict[str, np.ndarray]]:
    """Every table's columns, rows sorted; serving latency is measured wall time, so left out."""
    with duckdb.connect(str(path), read_only=True) as con:
        return {
            t: con.execute(f"SELECT * {skip} FROM {t} ORDER BY ALL").fetchnumpy()
            for t in SCHEMA
            for skip in [f"EXCLUDE ({MEASURED[t]})" if t in MEASURED else ""]
        }


def _same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_a_seeded_run_is_reproducible(truth: SyntheticTruth, tmp_path: Path) -> None:
    runs = {}
    for name, seed in (("a", 0), ("b", 0), ("c", 1)):
        _run(truth, out=tmp_path / name, days=3, pre_days=1, policy_b="random", seed=seed)
        runs[name] = _tables(tmp_path / name)
    assert len(runs["a"]["events"]["unit_id"]) > 10_000
    for table in SCHEMA:
        assert _same(runs["a"][table], runs["b"][table]), table
    assert not _same(runs["a"]["events"], runs["c"]["events"])


@pytest.mark.parametrize("fault", ["srm-assignment", "srm-logging"])
def test_an_srm_fault_produces_a_visible_imbalance(truth: SyntheticTruth, fault: str) -> None:
    result = _run(truth, policy_b="pop", faults=FaultConfig(enabled=frozenset({fault})))
    arms = result.summary["arms"]
    assert arms["treatment"]["units"] < 0.95 * arms["control"]["units"]
    assert _srm_pvalue(result) < 0.001


def test_srm_logging_loses_light_users_and_flatters_the_treatment(truth: SyntheticTruth) -> None:
    faults = FaultConfig(enabled=frozenset({"srm-logging"}), srm_share=0.3)
    result = _run(truth, policy_b="pop", faults=faults)
    row = result.summary["observed"]["sessions_per_user"]
    assert row["effect"] > 2 * row["se"]  # the same policy looks better: lost light users


def test_ramp_schedule_is_respected_in_the_tables(truth: SyntheticTruth, tmp_path: Path) -> None:
    experiment = ExperimentConfig(name="ramped", ramp=((0, 0.05), (2, 0.2), (4, 0.6)))
    path = tmp_path / "ramp.duckdb"
    result = _run(truth, out=path, experiment=experiment)
    start = np.datetime64(BASE.start) + np.timedelta64(BASE.pre_days, "D")
    with duckdb.connect(str(path), read_only=True) as con:
        cols = con.execute("SELECT unit_id, first_exposure FROM assignments").fetchnumpy()
    day = ((cols["first_exposure"] - start) // np.timedelta64(1, "D")).astype(int)
    plan = plan_assignment(np.asarray(cols["unit_id"]), experiment)
    assert (plan.eligible_day < NEVER).all()
    assert (day >= plan.eligible_day).all()
    assert 0 < (day < 2).sum() < 0.2 * len(day)  # 5% of traffic, then 20%, then 60%
    assert result.summary["arms"]["treatment"]["units"] > 0


def _lift_by_days_since_exposure(path: Path) -> dict[int, float]:
    sql = """
        SELECT least(date_diff('day', a.first_exposure, e.ts), 6) AS since, a.variant,
               count(*) FILTER (WHERE event_type = 'click') AS clicks,
               count(*) FILTER (WHERE event_type = 'impression') AS impressions
        FROM events e JOIN assignments a USING (unit_id)
        WHERE e.ts >= a.first_exposure GROUP BY ALL
    """
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(sql).fetchall()
    ctr = {(since, variant): c / i for since, variant, c, i in rows}
    return {s: ctr[s, "treatment"] / ctr[s, "control"] - 1 for s in range(7)}


def test_a_novelty_only_change_lifts_clicks_then_fades(
    truth: SyntheticTruth, tmp_path: Path
) -> None:
    path = tmp_path / "novelty.duckdb"
    faults = FaultConfig(enabled=frozenset({"novelty-only"}), novelty_only_lift=0.8)
    result = _run(
        truth, out=path, faults=faults, traffic=TrafficConfig(daily_users=4_000),
        oracle_daily_users=2_000,
    )  # fmt: skip
    lift = _lift_by_days_since_exposure(path)
    assert lift[0] > 0.2
    assert np.mean([lift[4], lift[5], lift[6]]) < 0.5 * lift[0]
    assert result.truth is not None
    clicks = result.truth.effects["clicks_per_user"]
    assert clicks.effect > 5 * clicks.se
    assert result.truth.without_novelty["clicks_per_user"].effect == 0.0


def _daily(path: Path, sql: str) -> dict[Any, Any]:
    with duckdb.connect(str(path), read_only=True) as con:
        return dict(con.execute(sql).fetchall())


def test_shock_and_spike_faults_show_in_the_daily_series(
    truth: SyntheticTruth, tmp_path: Path
) -> None:
    path = tmp_path / "faults.duckdb"
    faults = FaultConfig(enabled=frozenset({"seasonal-shock", "traffic-spike"}))
    _run(truth, out=path, policy_b="pop", days=8, faults=faults)
    start = np.datetime64(BASE.start) + np.timedelta64(BASE.pre_days, "D")
    day = f"date_diff('day', TIMESTAMP '{start}', ts)"
    users = _daily(path, f"SELECT {day}, count(DISTINCT unit_id) FROM events GROUP BY 1")
    assert users[4] > 2.5 * np.mean([users[d] for d in (1, 2, 3)])  # the spike, mid-test
    ctr = _daily(
        path,
        f"SELECT {day}, count(*) FILTER (WHERE event_type = 'click') / "
        "count(*) FILTER (WHERE event_type = 'impression') FROM events GROUP BY 1",
    )
    before, after = np.mean([ctr[d] for d in (0, 1, 2, 3)]), np.mean([ctr[d] for d in (5, 6, 7)])
    assert after < 0.85 * before  # the seasonal shock from mid-test on


def test_bots_are_a_few_units_with_many_sessions(truth: SyntheticTruth) -> None:
    plain = _run(truth, policy_b="pop")
    bots = _run(truth, policy_b="pop", faults=FaultConfig(enabled=frozenset({"bots"})))
    for arm in ("control", "treatment"):
        with_bots, without = bots.summary["arms"][arm], plain.summary["arms"][arm]
        assert with_bots["units"] < 1.05 * without["units"]  # about 1% more units...
        assert with_bots["sessions_per_user"] > 1.15 * without["sessions_per_user"]
        assert with_bots["clicks_per_user"] > 2 * without["clicks_per_user"]  # ...clicking a lot


def test_holdout_units_are_logged_apart(truth: SyntheticTruth) -> None:
    result = _run(truth, experiment=ExperimentConfig(holdout=0.1))
    arms = result.summary["arms"]
    total = sum(arms[v]["units"] for v in ("control", "treatment", "holdout"))
    assert arms["holdout"]["units"] / total == pytest.approx(0.1, abs=0.02)


def test_the_pre_period_predicts_the_test_period(truth: SyntheticTruth, tmp_path: Path) -> None:
    path = tmp_path / "cuped.duckdb"
    _run(truth, out=path, pre_days=7)
    start = np.datetime64(BASE.start) + np.timedelta64(7, "D")
    sql = f"""
        SELECT a.unit_id,
            count(*) FILTER (WHERE e.ts < TIMESTAMP '{start}') AS pre,
            count(*) FILTER (WHERE e.ts >= a.first_exposure) AS post
        FROM assignments a JOIN events e USING (unit_id)
        WHERE e.event_type = 'impression' GROUP BY ALL
    """
    with duckdb.connect(str(path), read_only=True) as con:
        cols = con.execute(sql).fetchnumpy()
    assert (cols["pre"] > 0).mean() > 0.5  # most units were seen before the test
    assert np.corrcoef(cols["pre"], cols["post"])[0, 1] > 0.5  # CUPED has a covariate
