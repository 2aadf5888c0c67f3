"""Small training sets for the cheap stages: a seeded sample of users, plus cold-start users.

A sample keeps the sampled users' training interactions and the whole item catalogue (same item
index, same side information), with users re-indexed 0..n-1 in their original order. Cold-start
users are appended after them with no interaction at all, as a brand-new user would arrive.
Nothing held out is ever included: samples are cut from the training split only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from recloop.recsys.data import Interactions


@dataclass(frozen=True, eq=False)
class UserSample:
    """A training set for a stage: `train`, its users with history and its cold-start users."""

    train: Interactions
    warm_users: np.ndarray  # indices into train.user_ids, users with interactions
    cold_users: np.ndarray  # indices of appended users without any interaction

    @property
    def n_users(self) -> int:
        return self.train.n_users


def sample_users(train: Interactions, n: int, seed: int) -> np.ndarray:
    """Up to `n` distinct users with at least one training interaction, sorted (seeded)."""
    active = np.flatnonzero(train.user_counts > 0)
    if len(active) <= n:
        return active
    chosen = np.random.default_rng(seed).choice(active, size=n, replace=False)
    return np.sort(chosen)


def user_sample(train: Interactions, n: int, seed: int, n_cold: int = 0) -> UserSample:
    """The training interactions of `n` sampled users, plus `n_cold` users without any."""
    users = sample_users(train, n, seed)
    keep = np.isin(train.users, users)
    new_index = np.searchsorted(users, train.users[keep]).astype(np.int32)
    raw_ids = np.asarray(train.user_ids)[users]
    cold_ids = _new_ids(np.asarray(train.user_ids), n_cold)
    sample = replace(
        train,
        users=new_index,
        items=train.items[keep],
        ratings=train.ratings[keep],
        timestamps=train.timestamps[keep],
        user_ids=np.concatenate([raw_ids, cold_ids]) if n_cold else raw_ids,
        name=f"{train.name} (sample of {len(users)} users"
        + (f" + {n_cold} cold-start)" if n_cold else ")"),
    )
    warm = np.arange(len(users), dtype=np.int64)
    cold = np.arange(len(users), len(users) + n_cold, dtype=np.int64)
    return UserSample(sample, warm, cold)


def _new_ids(existing: np.ndarray, n: int) -> np.ndarray:
    """`n` raw user ids not in `existing`, of the same kind (integers above the largest)."""
    if n == 0:
        return existing[:0]
    if np.issubdtype(existing.dtype, np.integer):
        start = int(existing.max(initial=0)) + 1
        return np.arange(start, start + n, dtype=existing.dtype)
    taken = {str(v) for v in existing}
    fresh = [f"recloop-cold-{i}" for i in range(n + len(taken)) if f"recloop-cold-{i}" not in taken]
    return np.asarray(fresh[:n], dtype=str)
