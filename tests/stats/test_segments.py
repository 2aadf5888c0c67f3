"""Segment effects: per-segment Welch, segment-vs-rest against robust OLS, Bonferroni."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats

from recloop.stats.segments import segment_effects
from recloop.stats.summary import ArmData


def _arms(
    rng: np.random.Generator, n: int, lift: dict[str, float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-unit values and segment labels; `lift` is the true effect per segment."""
    labels = np.array(list(lift))
    seg_c, seg_t = rng.choice(labels, n), rng.choice(labels, n)
    base = {"new": 1.0, "returning": 3.0, "heavy": 6.0}
    y_c = np.array([base[s] for s in seg_c]) + rng.exponential(1.0, n)
    y_t = np.array([base[s] + lift[s] for s in seg_t]) + rng.exponential(1.0, n)
    return y_c, y_t, seg_c, seg_t


def test_segment_effect_is_welch_on_the_segment_and_the_difference_is_robust_ols() -> None:
    rng = np.random.default_rng(0)
    y_c, y_t, seg_c, seg_t = _arms(rng, 3000, {"new": 0.3, "returning": 0.0, "heavy": 0.05})
    report = segment_effects("clicks", y_c, y_t, seg_c, seg_t, dimension="tenure")
    assert [s.segment for s in report.segments] == ["heavy", "new", "returning"]
    for seg in report.segments:
        inside_c, inside_t = y_c[seg_c == seg.segment], y_t[seg_t == seg.segment]
        welch = stats.ttest_ind(inside_t, inside_c, equal_var=False)
        assert seg.effect.p_value == pytest.approx(welch.pvalue, rel=1e-9)
        # independent route: OLS y ~ treated * in_segment with HC2 errors; the interaction
        # coefficient is Δ_segment - Δ_rest and its HC2 variance is Σ s²_g / n_g over 4 cells
        y = np.concatenate([y_c, y_t])
        treated = np.r_[np.zeros(len(y_c)), np.ones(len(y_t))]
        inside = np.r_[seg_c == seg.segment, seg_t == seg.segment].astype(float)
        design = sm.add_constant(np.column_stack([treated, inside, treated * inside]))
        fit = sm.OLS(y, design).fit(cov_type="HC2")
        assert seg.difference == pytest.approx(fit.params[3], rel=1e-9)
        assert seg.se == pytest.approx(fit.bse[3], rel=1e-9)
        assert seg.p_value == pytest.approx(fit.pvalues[3], rel=0.02, abs=1e-6)  # t vs normal
        assert seg.p_adjusted == pytest.approx(min(1.0, 3 * seg.p_value), rel=1e-12)
    assert report.heterogeneous == ("new",)


def test_homogeneous_effects_are_rarely_flagged() -> None:
    """Same lift in every segment: Bonferroni keeps the chance of any flag ≤ α (200 sims)."""
    rng = np.random.default_rng(1)
    flagged = 0
    for _ in range(200):
        y_c, y_t, seg_c, seg_t = _arms(rng, 600, {"new": 0.1, "returning": 0.1, "heavy": 0.1})
        flagged += bool(segment_effects("m", y_c, y_t, seg_c, seg_t).heterogeneous)
    assert flagged / 200 <= 0.08  # binomial sd at 5% over 200 sims is 1.5 points


def test_ratio_metrics_and_small_segments() -> None:
    rng = np.random.default_rng(2)
    den_c, den_t = rng.poisson(5, 500) + 1.0, rng.poisson(5, 500) + 1.0
    control = ArmData(rng.binomial(den_c.astype(int), 0.1).astype(float), denominator=den_c)
    treatment = ArmData(rng.binomial(den_t.astype(int), 0.1).astype(float), denominator=den_t)
    seg_c = np.where(np.arange(500) < 300, "web", "app")
    seg_c[-1] = "tv"  # a single tv unit in control: too few to test
    seg_t = rng.choice(["web", "app", "tv"], 500)
    report = segment_effects("ctr", control, treatment, seg_c, seg_t)
    assert report.skipped == ("tv",)
    assert [s.segment for s in report.segments] == ["app", "web"]
    web = report.segments[1]
    assert web.effect.kind == "ratio"
    assert web.effect.control_mean == pytest.approx(
        control.values[:300].sum() / den_c[:300].sum(), rel=1e-12
    )
    assert web.p_adjusted == pytest.approx(min(1.0, 2 * web.p_value), rel=1e-12)


def test_labels_must_align_with_units() -> None:
    with pytest.raises(ValueError, match="one segment label per unit"):
        segment_effects("m", np.ones(5), np.ones(5), np.array(["a"] * 4), np.array(["a"] * 5))
