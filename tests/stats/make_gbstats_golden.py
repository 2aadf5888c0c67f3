"""Write gbstats_golden.json: inputs and GrowthBook gbstats outputs for test_gbstats_golden.py.

gbstats (GrowthBook's statistics engine) is an independent implementation of the same formulas,
but gbstats 0.8.0 pins numpy<2 and pandas<2, so it cannot live in recloop's environment. Run it
in a throwaway venv (not collected by pytest: the file name has no test_ prefix):

    python3 -m venv /tmp/gbvenv && /tmp/gbvenv/bin/pip install gbstats==0.8.0
    /tmp/gbvenv/bin/python tests/stats/make_gbstats_golden.py

The per-unit arrays are stored (rounded to 6 decimals, and gbstats is fed the rounded values),
so the tests need neither gbstats nor the same random stream.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from importlib.metadata import version
from pathlib import Path

import numpy as np
from gbstats.frequentist.tests import (
    FrequentistConfig,
    OneSidedTreatmentGreaterTTest,
    OneSidedTreatmentLesserTTest,
    SequentialConfig,
    SequentialTwoSidedTTest,
    TwoSidedTTest,
)
from gbstats.models.statistics import (
    RatioStatistic,
    RegressionAdjustedStatistic,
    SampleMeanStatistic,
)
from gbstats.utils import check_srm

OUT = Path(__file__).with_name("gbstats_golden.json")


def arm(rng: np.random.Generator, n: int, lift: float) -> dict[str, list[float]]:
    """Skewed per-unit data: pre-period, correlated post-period, a ratio numerator/denominator."""
    pre = rng.gamma(2.0, 1.5, n)
    post = (0.7 * pre + rng.gamma(1.5, 1.0, n)) * (1 + lift)
    den = rng.poisson(6.0, n) + 1.0
    num = rng.binomial(den.astype(int), min(0.9, 0.15 * (1 + lift))).astype(float)
    return {k: np.round(v, 6).tolist() for k, v in
            {"pre": pre, "post": post, "num": num, "den": den}.items()}  # fmt: skip


def mean_stat(x: np.ndarray) -> SampleMeanStatistic:
    return SampleMeanStatistic(n=len(x), sum=float(x.sum()), sum_squares=float((x**2).sum()))


def result(test) -> dict[str, float]:  # type: ignore[no-untyped-def]
    r = asdict(test.compute_result())
    return {"expected": r["expected"], "ci_low": r["ci"][0], "ci_high": r["ci"][1],
            "p_value": r["p_value"], "stddev": r["uplift"]["stddev"]}  # fmt: skip


def main() -> None:
    rng = np.random.default_rng(20261125)
    data = {"control": arm(rng, 800, 0.0), "treatment": arm(rng, 850, 0.06)}
    c = {k: np.array(v) for k, v in data["control"].items()}
    t = {k: np.array(v) for k, v in data["treatment"].items()}
    out: dict[str, object] = {"gbstats_version": version("gbstats"), "data": data}

    for dt in ("absolute", "relative"):
        cfg = FrequentistConfig(alpha=0.05, difference_type=dt)
        out[f"welch_{dt}"] = result(TwoSidedTTest(mean_stat(c["post"]), mean_stat(t["post"]), cfg))
        scfg = SequentialConfig(alpha=0.05, difference_type=dt, sequential_tuning_parameter=5000)
        out[f"sequential_{dt}"] = result(
            SequentialTwoSidedTTest(mean_stat(c["post"]), mean_stat(t["post"]), scfg)
        )

        def ratio(a: dict[str, np.ndarray]) -> RatioStatistic:
            return RatioStatistic(
                n=len(a["num"]), m_statistic=mean_stat(a["num"]), d_statistic=mean_stat(a["den"]),
                m_d_sum_of_products=float((a["num"] * a["den"]).sum()),
            )  # fmt: skip

        out[f"ratio_{dt}"] = result(TwoSidedTTest(ratio(c), ratio(t), cfg))
        out[f"sequential_ratio_{dt}"] = result(SequentialTwoSidedTTest(ratio(c), ratio(t), scfg))

        def cuped(a: dict[str, np.ndarray]) -> RegressionAdjustedStatistic:
            return RegressionAdjustedStatistic(
                n=len(a["post"]), post_statistic=mean_stat(a["post"]),
                pre_statistic=mean_stat(a["pre"]),
                post_pre_sum_of_products=float((a["post"] * a["pre"]).sum()), theta=0.0,
            )  # fmt: skip

        test = TwoSidedTTest(cuped(c), cuped(t), cfg)
        out[f"cuped_{dt}"] = result(test) | {"theta": test.stat_a.theta}

        # non-inferiority: H0 Δ <= -margin (higher is better), H0 Δ >= +margin (lower is better)
        margin = 0.02 if dt == "relative" else 0.1
        ni_hi = FrequentistConfig(alpha=0.05, difference_type=dt, test_value=-margin)
        ni_lo = FrequentistConfig(alpha=0.05, difference_type=dt, test_value=margin)
        out[f"noninferiority_higher_{dt}"] = result(
            OneSidedTreatmentGreaterTTest(mean_stat(c["post"]), mean_stat(t["post"]), ni_hi)
        ) | {"margin": margin}
        out[f"noninferiority_lower_{dt}"] = result(
            OneSidedTreatmentLesserTTest(mean_stat(c["post"]), mean_stat(t["post"]), ni_lo)
        ) | {"margin": margin}

    out["srm"] = [
        {"counts": counts, "weights": weights, "p_value": check_srm(counts, weights)}
        for counts, weights in (
            ([5050, 4950], [0.5, 0.5]),
            ([505_000, 495_000], [0.5, 0.5]),
            ([1010, 2050, 1940], [0.2, 0.4, 0.4]),
        )
    ]
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
