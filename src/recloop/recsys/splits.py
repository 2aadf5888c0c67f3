"""Train / validation / test splits of an `Interactions` log, in the log's own index space.

Every split first labels each interaction train, validation or test, then applies one cleaning
step shared by all kinds, so numbers from different splits mean the same thing. A held-out
(validation or test) interaction is dropped when, in this order of precedence:

- `cold_user`: its user has no train interaction (no history to personalise from);
- `cold_item`: its item never appears in train (a model cannot rank an item it never saw);
- `seen_in_train`: its (user, item) pair is in train (it would be masked as already seen);
- `seen_in_validation` (test only): its pair is kept in validation, so a model refit on
  train + validation would also mask it.

Train is never cleaned. Each count dropped is recorded in `Split.params` (for example
`test_dropped_cold_item`) beside the parameters used, so a report can say what was held out.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Literal, get_args

import numpy as np

from recloop.recsys.data import Interactions

SplitKind = Literal["temporal-loo", "global-temporal", "random"]
SPLIT_KINDS: tuple[str, ...] = get_args(SplitKind)
DROP_REASONS = ("cold_user", "cold_item", "seen_in_train", "seen_in_validation")

TRAIN, VALIDATION, TEST = 0, 1, 2
ParamValue = int | float | str | None


@dataclass(frozen=True, eq=False)
class Split:
    """Train, test and optional validation parts of one log, with how they were made."""

    train: Interactions
    test: Interactions
    validation: Interactions | None
    kind: str
    params: dict[str, ParamValue]

    @cached_property
    def test_users(self) -> np.ndarray:
        """Sorted user indices with at least one test interaction: the users to evaluate."""
        return np.unique(self.test.users)

    def describe(self) -> dict[str, ParamValue]:
        """Sizes and parameters, flat, for a report."""
        sizes: dict[str, ParamValue] = {
            "kind": self.kind,
            "train_interactions": self.train.n_interactions,
            "test_interactions": self.test.n_interactions,
            "test_users": len(self.test_users),
        }
        if self.validation is not None:
            sizes["validation_interactions"] = self.validation.n_interactions
        return {**sizes, **self.params}


def temporal_leave_last_n(
    data: Interactions,
    n: int = 1,
    validation_n: int = 0,
    min_user_interactions: int = 2,
    seed: int = 0,
) -> Split:
    """Hold out each user's last `n` interactions as test and the `validation_n` before them.

    Users with fewer than `min_user_interactions` interactions keep everything in train, and
    every other user keeps at least one train interaction: a user with c interactions gives
    min(n, c - 1) to test, then min(validation_n, what is left - 1) to validation.

    Timestamps often tie (same-second imports, day-resolution logs), so order within a user is
    by timestamp, ties broken by a random permutation drawn from `seed`. "Last" therefore means
    "not earlier": every test timestamp is >= the user's train and validation timestamps, and
    the same seed always gives the same split.
    """
    if n < 1 or validation_n < 0:
        raise ValueError(f"need n >= 1 and validation_n >= 0, got n={n}, {validation_n=}")
    order = _user_time_order(data, np.random.default_rng(seed))
    counts = np.bincount(data.users, minlength=data.n_users)
    eligible = counts >= max(min_user_interactions, 1)
    n_test = np.where(eligible, np.minimum(n, counts - 1), 0)
    n_val = np.where(eligible, np.minimum(validation_n, counts - 1 - n_test), 0)

    sorted_users = data.users[order]
    starts = np.cumsum(counts) - counts
    from_end = counts[sorted_users] - 1 - (np.arange(len(order)) - starts[sorted_users])
    labels = np.full(data.n_interactions, TRAIN, np.int8)
    labels[order[from_end < n_test[sorted_users] + n_val[sorted_users]]] = VALIDATION
    labels[order[from_end < n_test[sorted_users]]] = TEST
    params: dict[str, ParamValue] = {
        "n": n,
        "validation_n": validation_n,
        "min_user_interactions": min_user_interactions,
        "seed": seed,
    }
    return _finalize(data, labels, "temporal-loo", params, with_validation=validation_n > 0)


def global_temporal(
    data: Interactions,
    test_fraction: float = 0.2,
    validation_fraction: float = 0.0,
    cut: int | None = None,
) -> Split:
    """Cut the whole log at one moment: interactions at or after `cut` are test.

    This is the split that cannot leak the future: no train interaction is later than any test
    one. An explicit `cut` (epoch seconds) overrides `test_fraction`; without one, the cut is the
    timestamp at the (1 - test_fraction) quantile, so with ties at the cut somewhat more than
    `test_fraction` is held out. Validation is the last `validation_fraction` of the log before
    the cut, [validation_cut, cut). Held-out interactions of users with nothing before the train
    cut are dropped (`cold_user`).
    """
    _check_fractions(test_fraction, validation_fraction)
    n_rows = data.n_interactions
    ts = np.sort(data.timestamps)
    if cut is None:
        n_target = max(1, round(test_fraction * n_rows))
        cut = int(ts[max(n_rows - n_target, 0)]) if n_rows else 0
    n_before = int(np.searchsorted(ts, cut, side="left"))
    if validation_fraction > 0 and n_before > 0:
        k_val = max(n_before - max(1, round(validation_fraction * n_rows)), 0)
        validation_cut = int(ts[k_val])
    else:
        validation_cut = int(cut)

    labels = np.full(n_rows, TRAIN, np.int8)
    labels[data.timestamps >= validation_cut] = VALIDATION
    labels[data.timestamps >= cut] = TEST
    params: dict[str, ParamValue] = {
        "test_fraction": test_fraction,
        "validation_fraction": validation_fraction,
        "cut": int(cut),
        "validation_cut": validation_cut,
    }
    return _finalize(
        data, labels, "global-temporal", params, with_validation=validation_fraction > 0
    )


def random_holdout(
    data: Interactions,
    test_fraction: float = 0.2,
    validation_fraction: float = 0.0,
    seed: int = 0,
) -> Split:
    """Hold out exactly round(fraction * N) interactions, chosen uniformly with `seed`.

    It ignores time, so it leaks the future into train; it is here as the common baseline
    protocol, and because its numbers are the ones published for many datasets.
    """
    _check_fractions(test_fraction, validation_fraction)
    n_rows = data.n_interactions
    perm = np.random.default_rng(seed).permutation(n_rows)
    n_test = round(test_fraction * n_rows)
    n_val = round(validation_fraction * n_rows)
    labels = np.full(n_rows, TRAIN, np.int8)
    labels[perm[n_test : n_test + n_val]] = VALIDATION
    labels[perm[:n_test]] = TEST
    params: dict[str, ParamValue] = {
        "test_fraction": test_fraction,
        "validation_fraction": validation_fraction,
        "seed": seed,
    }
    return _finalize(data, labels, "random", params, with_validation=validation_fraction > 0)


_SPLITTERS: dict[str, Callable[..., Split]] = {
    "temporal-loo": temporal_leave_last_n,
    "global-temporal": global_temporal,
    "random": random_holdout,
}


def make_split(data: Interactions, kind: SplitKind, seed: int = 0, **params: object) -> Split:
    """Build a split by name, as configs and agents ask for one.

    `seed` is passed to the kinds that draw random numbers; `global-temporal` is deterministic
    and ignores it.
    """
    if kind not in _SPLITTERS:
        raise ValueError(f"unknown split kind {kind!r}; expected one of {', '.join(SPLIT_KINDS)}")
    splitter = _SPLITTERS[kind]
    accepted = set(inspect.signature(splitter).parameters) - {"data"}
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise ValueError(
            f"split {kind!r} takes no parameter {', '.join(unknown)}; "
            f"it takes {', '.join(sorted(accepted))}"
        )
    if "seed" in accepted:
        params["seed"] = seed
    return splitter(data, **params)


def _check_fractions(test_fraction: float, validation_fraction: float) -> None:
    if not 0 < test_fraction < 1 or validation_fraction < 0:
        raise ValueError(
            f"need 0 < test_fraction < 1 and validation_fraction >= 0, got "
            f"{test_fraction=}, {validation_fraction=}"
        )
    if test_fraction + validation_fraction >= 1:
        raise ValueError("test_fraction + validation_fraction must leave something to train on")


def _user_time_order(data: Interactions, rng: np.random.Generator) -> np.ndarray:
    """Row order by user, then timestamp, ties by a seeded random ranking of the items.

    Ties are broken by what the rows hold, not where they stand, so the same log exported in
    another row order (CSV, Parquet parts) gives the same split.
    """
    item_rank = rng.permutation(data.n_items)
    tie = np.argsort(item_rank[data.items], kind="stable")
    if data.n_interactions == 0:
        return tie
    t_min, t_max = int(data.timestamps.min()), int(data.timestamps.max())
    span = t_max - t_min + 1
    if data.n_users * span < 2**62:
        # One int64 key and a stable sort of the tie-ordered rows: ~3x faster than lexsort.
        key = data.users.astype(np.int64) * span + (data.timestamps - t_min)
        return tie[np.argsort(key[tie], kind="stable")]
    # Same order without the key (it would overflow): lexsort is stable over the tie order.
    return tie[np.lexsort((data.timestamps[tie], data.users[tie]))]


def _finalize(
    data: Interactions,
    labels: np.ndarray,
    kind: str,
    params: dict[str, ParamValue],
    with_validation: bool,
) -> Split:
    """Drop held-out interactions no model could be fairly judged on, then build the Split."""
    is_train = labels == TRAIN
    user_in_train = np.bincount(data.users[is_train], minlength=data.n_users) > 0
    item_in_train = np.bincount(data.items[is_train], minlength=data.n_items) > 0
    pair = data.users.astype(np.int64) * data.n_items + data.items
    train_pairs = np.sort(pair[is_train])  # duplicates are harmless to a binary search

    def clean(part: int, prefix: str, val_pairs: np.ndarray | None) -> np.ndarray:
        rows = np.flatnonzero(labels == part)
        params[f"{prefix}_held_out"] = len(rows)
        reasons = {
            "cold_user": lambda r: ~user_in_train[data.users[r]],
            "cold_item": lambda r: ~item_in_train[data.items[r]],
            "seen_in_train": lambda r: _is_member(pair[r], train_pairs),
        }
        if val_pairs is not None:
            reasons["seen_in_validation"] = lambda r: _is_member(pair[r], val_pairs)
        for reason, is_dropped in reasons.items():
            drop = is_dropped(rows)
            params[f"{prefix}_dropped_{reason}"] = int(drop.sum())
            rows = rows[~drop]
        keep = np.zeros(data.n_interactions, bool)
        keep[rows] = True
        return keep

    validation = None
    val_pairs = None
    if with_validation:
        keep_val = clean(VALIDATION, "validation", None)
        validation = data.select(keep_val, name=f"{data.name} (validation)")
        val_pairs = np.sort(pair[keep_val])
    keep_test = clean(TEST, "test", val_pairs)
    if not keep_test.any():
        dropped = {r: params.get(f"test_dropped_{r}", 0) for r in DROP_REASONS}
        raise ValueError(
            f"split {kind!r} of {data.name!r} ({data.n_interactions} interactions) left no test "
            f"users: {params['test_held_out']} interactions were held out for test and all were "
            f"dropped ({', '.join(f'{r}={c}' for r, c in dropped.items())}); parameters {params}"
        )
    return Split(
        train=data.select(is_train, name=f"{data.name} (train)"),
        test=data.select(keep_test, name=f"{data.name} (test)"),
        validation=validation,
        kind=kind,
        params=params,
    )


def _is_member(values: np.ndarray, sorted_pool: np.ndarray) -> np.ndarray:
    """values in sorted_pool, by binary search (the pool is already sorted)."""
    if len(sorted_pool) == 0:
        return np.zeros(len(values), bool)
    idx = np.minimum(np.searchsorted(sorted_pool, values), len(sorted_pool) - 1)
    return sorted_pool[idx] == values
