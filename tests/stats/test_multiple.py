"""Multiple-metric correction: hand-worked cases and equality with statsmodels' multipletests."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from recloop.stats.multiple import adjust_p_values

P = [0.01, 0.04, 0.03, 0.005]


def test_holm_by_hand() -> None:
    # sorted 0.005, 0.01, 0.03, 0.04 → 4·0.005 = 0.02, 3·0.01 = 0.03, 2·0.03 = 0.06,
    # 1·0.04 = 0.04 → running max 0.06; back in input order:
    result = adjust_p_values(P, "holm", alpha=0.05)
    assert result.adjusted == pytest.approx((0.03, 0.06, 0.06, 0.02), abs=1e-15)
    assert result.reject == (True, False, False, True)


def test_benjamini_hochberg_by_hand() -> None:
    # m p / rank: 0.005·4/1 = 0.02, 0.01·4/2 = 0.02, 0.03·4/3 = 0.04, 0.04·4/4 = 0.04;
    # running min from the largest rank down leaves them; back in input order:
    result = adjust_p_values(P, "bh", alpha=0.05)
    assert result.adjusted == pytest.approx((0.02, 0.04, 0.04, 0.02), abs=1e-15)
    assert all(result.reject)


@pytest.mark.parametrize(
    ("ours", "theirs"), [("holm", "holm"), ("bh", "fdr_bh"), ("bonferroni", "bonferroni")]
)
@pytest.mark.parametrize("seed", range(5))
def test_equals_statsmodels_multipletests(ours: str, theirs: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 30))
    p = np.concatenate([rng.uniform(0, 0.05, m // 2), rng.uniform(0, 1, m - m // 2)])
    p[rng.integers(0, m, 2)] = p[0]  # ties
    reject, adjusted, _, _ = multipletests(p, alpha=0.05, method=theirs)
    result = adjust_p_values(p, ours, alpha=0.05)  # type: ignore[arg-type]
    np.testing.assert_allclose(result.adjusted, adjusted, rtol=1e-14, atol=0)
    assert result.reject == tuple(reject)


def test_none_and_edge_cases() -> None:
    assert adjust_p_values(P, "none").adjusted == tuple(P)
    assert adjust_p_values([], "holm").adjusted == ()
    assert adjust_p_values([0.3], "bh").adjusted == (0.3,)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        adjust_p_values([0.1, 1.2])
    with pytest.raises(ValueError, match="unknown correction"):
        adjust_p_values([0.1], "sidak")  # type: ignore[arg-type]
