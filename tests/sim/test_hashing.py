from __future__ import annotations

import numpy as np
from scipy import stats

from recloop.sim.hashing import bucket, fnv1a64, mix64, unit_hash


def test_fnv1a64_matches_the_published_test_vectors() -> None:
    assert fnv1a64("") == 0xCBF29CE484222325
    assert fnv1a64("a") == 0xAF63DC4C8601EC8C
    assert fnv1a64("foobar") == 0x85944171F73967E8


def test_mix64_is_the_splitmix64_finaliser() -> None:
    # SplitMix64 seeded with 0 outputs mix64(0x9E3779B97F4A7C15) first (Vigna's reference code)
    assert int(mix64(np.array([0x9E3779B97F4A7C15], np.uint64))[0]) == 0xE220A8397B1DCDAF


def test_buckets_are_deterministic_and_differ_between_salts() -> None:
    units = np.arange(1, 10_001)
    np.testing.assert_array_equal(bucket(units, "exp"), bucket(units.copy(), "exp"))
    other = bucket(units, "exp/variant")
    assert abs(np.corrcoef(bucket(units, "exp"), other)[0, 1]) < 0.05


def test_buckets_are_uniform() -> None:
    counts = np.bincount((bucket(np.arange(200_000), "salt") * 20).astype(int), minlength=20)
    assert stats.chisquare(counts).pvalue > 0.001


def test_distinct_units_never_collide() -> None:
    units = np.arange(0, 200_000)
    assert len(np.unique(unit_hash(units, "s"))) == len(units)
