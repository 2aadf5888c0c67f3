"""Splits: invariants on random logs full of ties and repeats, and hand-made exact cases.

Each test log carries its row number in `ratings`, so every part of a split can be traced back to
the input rows it holds.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recloop.recsys.data import Interactions
from recloop.recsys.splits import (
    DROP_REASONS,
    Split,
    global_temporal,
    make_split,
    random_holdout,
    temporal_leave_last_n,
)

T0 = 1_600_000_000


def log(users: list[int], items: list[int], times: list[int], n_users: int = 0) -> Interactions:
    """A log in index space whose ratings are the row numbers (0, 1, 2, ...)."""
    n_users = max(n_users, max(users, default=-1) + 1)
    n_items = max(items, default=-1) + 1
    return Interactions(
        users=np.asarray(users, np.int32),
        items=np.asarray(items, np.int32),
        ratings=np.arange(len(users), dtype=np.float32),
        timestamps=np.asarray(times, np.int64),
        user_ids=np.arange(n_users),
        item_ids=np.arange(n_items),
    )


@st.composite
def logs(draw: st.DrawFn) -> Interactions:
    """Small logs: few users, items and distinct timestamps, so ties and repeated pairs abound.

    Half are drawn element by element (hypothesis' edge cases, good shrinking), half filled by a
    seeded generator (varied logs big enough that most splits leave test users).
    """
    n_users = draw(st.integers(1, 20))
    n_items = draw(st.integers(1, 30))
    n = draw(st.integers(0, 80))
    base = draw(st.sampled_from([0, T0]))
    if draw(st.booleans()):
        rng = np.random.default_rng(draw(st.integers(0, 2**32)))
        users = rng.integers(0, n_users, n).tolist()
        items = rng.integers(0, n_items, n).tolist()
        times = rng.integers(base, base + 5, n).tolist()
    else:
        users = draw(st.lists(st.integers(0, n_users - 1), min_size=n, max_size=n))
        items = draw(st.lists(st.integers(0, n_items - 1), min_size=n, max_size=n))
        times = draw(st.lists(st.integers(base, base + 4), min_size=n, max_size=n))
    return log(users, items, times, n_users=n_users)


def rows(part: Interactions | None) -> np.ndarray:
    return np.empty(0, int) if part is None else part.ratings.astype(int)


def split_or_none(make: Callable[[], Split]) -> Split | None:
    """The split, or None when it rightly refuses because no test user is left."""
    try:
        return make()
    except ValueError as err:
        assert "left no test users" in str(err)
        return None


def pairs(part: Interactions) -> set[tuple[int, int]]:
    return set(zip(part.users.tolist(), part.items.tolist(), strict=True))


def check_common(data: Interactions, split: Split) -> None:
    """Invariants every split kind keeps."""
    parts = [split.train, split.test] + ([split.validation] if split.validation is not None else [])
    for part in parts:  # each part is a set of input rows, unchanged
        ids = rows(part)
        assert len(set(ids.tolist())) == len(ids)
        np.testing.assert_array_equal(part.users, data.users[ids])
        np.testing.assert_array_equal(part.items, data.items[ids])
        np.testing.assert_array_equal(part.timestamps, data.timestamps[ids])
        assert part.shape == data.shape
    all_ids = np.concatenate([rows(p) for p in parts])
    assert len(set(all_ids.tolist())) == len(all_ids)  # no row in two parts

    p = split.params
    held = p["test_held_out"] + p.get("validation_held_out", 0)
    assert split.train.n_interactions + held == data.n_interactions  # train is never cleaned
    for prefix, part in [("test", split.test), ("validation", split.validation)]:
        if part is None:
            continue
        dropped = sum(p.get(f"{prefix}_dropped_{r}", 0) for r in DROP_REASONS)
        assert part.n_interactions == p[f"{prefix}_held_out"] - dropped

    train_pairs = pairs(split.train)
    assert not pairs(split.test) & train_pairs
    assert set(split.test.items.tolist()) <= set(split.train.items.tolist())
    assert set(split.test.users.tolist()) <= set(split.train.users.tolist())
    if split.validation is not None:
        assert not pairs(split.validation) & train_pairs
        assert not pairs(split.test) & pairs(split.validation)
        assert set(split.validation.items.tolist()) <= set(split.train.items.tolist())
    assert len(split.test_users) > 0
    np.testing.assert_array_equal(split.test_users, np.unique(split.test.users))


def user_ts(part: Interactions | None, user: int) -> np.ndarray:
    return np.empty(0, np.int64) if part is None else part.timestamps[part.users == user]


@settings(max_examples=300, deadline=None)
@given(
    data=logs(),
    n=st.integers(1, 3),
    validation_n=st.integers(0, 2),
    min_user=st.integers(0, 4),
    seed=st.integers(0, 3),
)
def test_temporal_loo_invariants(
    data: Interactions, n: int, validation_n: int, min_user: int, seed: int
) -> None:
    split = split_or_none(lambda: temporal_leave_last_n(data, n, validation_n, min_user, seed=seed))
    if split is None:
        return
    check_common(data, split)
    assert (split.validation is None) == (validation_n == 0)
    counts = np.bincount(data.users, minlength=data.n_users)
    # Before cleaning, an eligible user with c interactions holds out min(n, c - 1) for test and
    # then min(validation_n, c - 1 - that) for validation; train keeps exactly the rest.
    eligible = counts >= max(min_user, 1)
    n_test = np.where(eligible, np.minimum(n, counts - 1), 0)
    n_val = np.where(eligible, np.minimum(validation_n, counts - 1 - n_test), 0)
    train_counts = np.bincount(split.train.users, minlength=data.n_users)
    np.testing.assert_array_equal(train_counts, counts - n_test - n_val)
    assert split.params["test_held_out"] == n_test.sum()
    assert split.params.get("validation_held_out", 0) == n_val.sum()

    held_out = np.setdiff1d(np.arange(data.n_interactions), rows(split.train))
    for user in range(data.n_users):
        train_t = user_ts(split.train, user)
        held_t = data.timestamps[held_out][data.users[held_out] == user]
        if len(train_t) and len(held_t):  # "later" means "not earlier" under ties
            assert held_t.min() >= train_t.max()
        val_t, test_t = user_ts(split.validation, user), user_ts(split.test, user)
        if len(val_t) and len(test_t):
            assert test_t.min() >= val_t.max()


@settings(max_examples=300, deadline=None)
@given(
    data=logs(),
    test_fraction=st.sampled_from([0.1, 0.2, 0.5]),
    validation_fraction=st.sampled_from([0.0, 0.1, 0.3]),
    explicit_cut=st.one_of(st.none(), st.integers(0, 5)),
)
def test_global_temporal_invariants(
    data: Interactions,
    test_fraction: float,
    validation_fraction: float,
    explicit_cut: int | None,
) -> None:
    base = int(data.timestamps.min()) if data.n_interactions else 0
    cut_arg = None if explicit_cut is None else base + explicit_cut
    split = split_or_none(
        lambda: global_temporal(data, test_fraction, validation_fraction, cut=cut_arg)
    )
    if split is None:
        return
    check_common(data, split)
    cut, val_cut = split.params["cut"], split.params["validation_cut"]
    assert isinstance(cut, int) and isinstance(val_cut, int)
    ts = data.timestamps
    assert val_cut <= cut
    assert split.test.timestamps.min() >= cut > split.train.timestamps.max()
    assert split.train.timestamps.max() < val_cut
    assert split.train.n_interactions == (ts < val_cut).sum()  # train is all before the cut
    assert split.params["test_held_out"] == (ts >= cut).sum()
    if split.validation is not None:
        v = split.validation.timestamps
        assert ((v >= val_cut) & (v < cut)).all()
    if cut_arg is not None:
        assert cut == cut_arg
    else:  # the cut is the (1 - test_fraction) quantile: no later timestamp would hold enough
        target = max(1, round(test_fraction * data.n_interactions))
        assert (ts >= cut).sum() >= target > (ts > cut).sum()


@settings(max_examples=300, deadline=None)
@given(
    data=logs(),
    test_fraction=st.sampled_from([0.1, 0.25, 0.5]),
    validation_fraction=st.sampled_from([0.0, 0.2]),
    seed=st.integers(0, 3),
)
def test_random_invariants(
    data: Interactions, test_fraction: float, validation_fraction: float, seed: int
) -> None:
    split = split_or_none(lambda: random_holdout(data, test_fraction, validation_fraction, seed))
    if split is None:
        return
    check_common(data, split)
    assert split.params["test_held_out"] == round(test_fraction * data.n_interactions)
    assert split.params.get("validation_held_out", 0) == round(
        validation_fraction * data.n_interactions
    )


@settings(max_examples=50, deadline=None)
@given(data=logs(), seed=st.integers(0, 100))
@pytest.mark.parametrize("kind", ["temporal-loo", "global-temporal", "random"])
def test_same_seed_gives_the_same_split(kind: str, data: Interactions, seed: int) -> None:
    params = {"validation_fraction": 0.2} if kind != "temporal-loo" else {"validation_n": 1}
    first = split_or_none(lambda: make_split(data, kind, seed=seed, **params))
    second = split_or_none(lambda: make_split(data, kind, seed=seed, **params))
    if first is None or second is None:
        assert first is None and second is None
        return
    for a, b in [(first.train, second.train), (first.test, second.test)]:
        np.testing.assert_array_equal(rows(a), rows(b))
    np.testing.assert_array_equal(rows(first.validation), rows(second.validation))
    assert first.params == second.params


def large_tied_log() -> Interactions:
    """300 users x 20 distinct items, all at one of 3 timestamps: ties decide most holdouts."""
    rng = np.random.default_rng(7)
    n_users, per_user, n_items = 300, 20, 200
    users = np.repeat(np.arange(n_users), per_user)
    items = np.concatenate([rng.choice(n_items, per_user, replace=False) for _ in range(n_users)])
    times = rng.integers(T0, T0 + 3, len(users))
    return log(users.tolist(), items.tolist(), times.tolist())


@pytest.mark.parametrize("kind", ["temporal-loo", "random"])
def test_different_seeds_give_different_splits(kind: str) -> None:
    data = large_tied_log()
    tests = {tuple(rows(make_split(data, kind, seed=s).test)) for s in range(3)}
    assert len(tests) == 3


def test_temporal_loo_exact_assignment() -> None:
    data = log(
        users=[0, 0, 0, 1, 1, 2],
        items=[0, 1, 2, 2, 0, 1],
        times=[1, 2, 3, 1, 2, 9],
    )
    split = temporal_leave_last_n(data)
    assert rows(split.train).tolist() == [0, 1, 3, 5]  # user 2 has one interaction: train only
    assert rows(split.test).tolist() == [2, 4]
    assert split.validation is None
    assert split.test_users.tolist() == [0, 1]
    assert split.kind == "temporal-loo"


def test_temporal_loo_drops_repeats_and_cold_items() -> None:
    data = log(
        users=[0, 0, 0, 1, 1, 2, 2, 3, 3],
        items=[0, 1, 0, 0, 3, 1, 2, 2, 1],
        times=[1, 2, 3, 1, 2, 1, 2, 1, 2],
    )
    split = temporal_leave_last_n(data)
    assert rows(split.test).tolist() == [6, 8]
    p = split.params
    assert p["test_held_out"] == 4
    assert p["test_dropped_seen_in_train"] == 1  # user 0 re-watches item 0
    assert p["test_dropped_cold_item"] == 1  # item 3 is only ever seen by user 1, in test
    assert "test_dropped_seen_in_validation" not in p


def test_temporal_loo_with_validation() -> None:
    # Two users see items 0..4 in opposite orders; n=2 tests the last two, validation the one
    # before. Item 2 is each user's validation item and so is in no train: both are dropped.
    data = log(
        users=[0, 0, 0, 0, 0, 1, 1, 1, 1, 1],
        items=[0, 1, 2, 3, 4, 4, 3, 2, 1, 0],
        times=[1, 2, 3, 4, 5, 1, 2, 3, 4, 5],
    )
    split = temporal_leave_last_n(data, n=2, validation_n=1)
    assert rows(split.train).tolist() == [0, 1, 5, 6]
    assert rows(split.test).tolist() == [3, 4, 8, 9]
    assert split.validation is not None and split.validation.n_interactions == 0
    assert split.params["validation_held_out"] == 2
    assert split.params["validation_dropped_cold_item"] == 2


def test_temporal_loo_ties_follow_the_seed() -> None:
    # One user with three interactions at the same second; user 1 keeps items 0..2 in train.
    data = log(
        users=[0, 0, 0, 1, 1, 1, 1], items=[0, 1, 2, 0, 1, 2, 3], times=[5, 5, 5, 1, 2, 3, 4]
    )
    chosen = {int(rows(temporal_leave_last_n(data, seed=s).test)[0]) for s in range(30)}
    assert chosen == {0, 1, 2}  # any of the tied rows can be "last", depending on the seed


def test_temporal_loo_order_depends_only_on_timestamp_order() -> None:
    # Timestamps 2**61 apart overflow the fast single-key sort; the fallback must agree with it.
    near = large_tied_log()
    t = near.timestamps - near.timestamps.min()
    far = log(near.users.tolist(), near.items.tolist(), (t * 2**60).tolist())
    for seed in range(3):
        a, b = temporal_leave_last_n(near, seed=seed), temporal_leave_last_n(far, seed=seed)
        np.testing.assert_array_equal(rows(a.test), rows(b.test))


def test_global_temporal_explicit_cut_and_cold_users() -> None:
    data = log(
        users=[0, 0, 1, 1, 2, 2],
        items=[0, 1, 1, 0, 0, 1],
        times=[1, 5, 2, 6, 7, 8],
    )
    split = global_temporal(data, cut=5)
    assert rows(split.train).tolist() == [0, 2]
    assert rows(split.test).tolist() == [1, 3]
    assert split.params["test_dropped_cold_user"] == 2  # user 2 starts after the cut


def test_global_temporal_quantile_cuts() -> None:
    data = log(users=[0, 1] * 5, items=[0, 1, 2, 3, 4, 5, 1, 0, 3, 2], times=list(range(10)))
    split = global_temporal(data, test_fraction=0.2, validation_fraction=0.2)
    assert (split.params["cut"], split.params["validation_cut"]) == (8, 6)
    assert rows(split.train).tolist() == [0, 1, 2, 3, 4, 5]
    assert split.validation is not None
    assert rows(split.validation).tolist() == [6, 7]
    assert rows(split.test).tolist() == [8, 9]


def test_random_holdout_holds_out_exact_counts() -> None:
    data = large_tied_log()
    split = random_holdout(data, test_fraction=0.25, validation_fraction=0.1, seed=3)
    assert split.params["test_held_out"] == 1500
    assert split.params["validation_held_out"] == 600
    assert split.train.n_interactions == 6000 - 2100
    assert split.describe()["kind"] == "random"


def test_make_split_dispatches_and_passes_the_seed() -> None:
    data = large_tied_log()
    via = make_split(data, "temporal-loo", seed=5, n=2)
    direct = temporal_leave_last_n(data, n=2, seed=5)
    np.testing.assert_array_equal(rows(via.test), rows(direct.test))
    assert via.params["seed"] == 5
    assert "seed" not in make_split(data, "global-temporal", seed=5).params


def test_make_split_rejects_unknown_kind_and_parameters() -> None:
    data = large_tied_log()
    with pytest.raises(ValueError, match="unknown split kind 'leave-one-out'"):
        make_split(data, "leave-one-out")
    with pytest.raises(ValueError, match="takes no parameter test_fraction"):
        make_split(data, "temporal-loo", test_fraction=0.2)


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("temporal-loo", log([0, 1, 2], [0, 1, 2], [1, 2, 3])),  # everyone has one interaction
        ("random", log([], [], [])),
        ("global-temporal", log([0, 1], [0, 1], [1, 2])),  # the only later user has no past
    ],
)
def test_no_test_users_is_an_error_that_says_why(kind: str, data: Interactions) -> None:
    with pytest.raises(ValueError, match=f"split '{kind}'.*left no test users"):
        make_split(data, kind)


@pytest.mark.parametrize(
    "make",
    [
        lambda d: temporal_leave_last_n(d, n=0),
        lambda d: random_holdout(d, test_fraction=0.0),
        lambda d: global_temporal(d, test_fraction=0.6, validation_fraction=0.4),
    ],
)
def test_bad_parameters_are_rejected(make: Callable[[Interactions], Split]) -> None:
    with pytest.raises(ValueError):
        make(large_tied_log())
