"""The attribution benchmark's tests with known truth: designs, policies and truth labels.

Every design is a pair of policies plus simulator knobs; the simulator's oracle then labels
what the pair truly does. Effect sizes come from *mixed policies*: a share of personas (hashed)
is served the popularity ranking instead of EASE, whose consumption per user is about 70% lower,
so the control's and the treatment's pop shares set the true effect almost continuously
(≈ ±1% small, ≈ +8% medium, ≈ ±20% large). Designs:

    aa         EASE against EASE (no change, no novelty)
    small±, medium+, large±   mixed policies (the treatment is a changed policy: novelty too)
    novelty    the `novelty-only` fault: the control's slates restyled, a fading lift only
    srm        a large gain with `srm-assignment` or `srm-logging` (alternating): never ship
    seasonal   EASE against EASE with a mid-test `seasonal-shock`
    guardrail  a large primary gain whose users churn (`treatment_churn_logit`): return rate
               falls by more than the margin, the gain hides it
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from recloop.recsys.data import Interactions
from recloop.recsys.models import make_model
from recloop.sim.config import FaultConfig
from recloop.sim.hashing import bucket

Kind = Literal["aa", "small+", "small-", "medium+", "large+", "large-", "novelty", "srm",
               "seasonal", "guardrail"]  # fmt: skip
MIX: tuple[Kind, ...] = ("aa", "small+", "large+", "small-", "large-", "novelty", "srm",
                         "seasonal", "guardrail", "medium+")  # fmt: skip
POP_SHARES: dict[str, tuple[float, float]] = {  # (control, treatment) share of personas on pop
    "small+": (0.06, 0.03), "small-": (0.03, 0.06), "medium+": (0.15, 0.05),
    "large+": (0.30, 0.0), "large-": (0.0, 0.30), "srm": (0.30, 0.0), "guardrail": (0.30, 0.0),
}  # fmt: skip
CHURN_LOGIT = -2.5
Truth = Literal["beneficial", "null", "harmful", "guardrail_harm"]


class FixedLists:
    """A recommender serving precomputed lists: `pop_share` of personas (hashed) get the
    popularity lists, the rest EASE's. `fit` only checks the world is the one listed."""

    def __init__(self, ease: np.ndarray, pop: np.ndarray, pop_share: float) -> None:
        self.pop_share = pop_share
        on_pop = bucket(np.arange(len(ease), dtype=np.int64), "bench-mix") < pop_share
        self.lists = np.where(on_pop[:, None], pop, ease)

    def fit(self, train: Interactions) -> FixedLists:
        if train.n_users != len(self.lists):
            raise ValueError("FixedLists was built for another world")
        return self

    def recommend(self, user_ids: np.ndarray, k: int, exclude_seen: bool = True) -> np.ndarray:
        return self.lists[np.asarray(user_ids), :k]


@dataclass(frozen=True)
class BaseLists:
    """EASE's and popularity's candidate lists of every persona, computed once per world."""

    ease: np.ndarray
    pop: np.ndarray

    @classmethod
    def build(cls, train: Interactions, k: int) -> BaseLists:
        users = np.arange(train.n_users)
        k = min(k, train.n_items - int(train.user_counts.max()))
        lists = [make_model(name).fit(train).recommend(users, k) for name in ("ease", "pop")]
        return cls(ease=np.asarray(lists[0]), pop=np.asarray(lists[1]))

    def policy(self, pop_share: float) -> FixedLists:
        return FixedLists(self.ease, self.pop, pop_share)


@dataclass(frozen=True)
class Design:
    """One benchmark test before it runs: what it serves and which knobs are on."""

    index: int
    kind: Kind
    seed: int

    @property
    def faults(self) -> FaultConfig:
        if self.kind == "novelty":
            return FaultConfig(enabled=frozenset({"novelty-only"}))
        if self.kind == "seasonal":
            return FaultConfig(enabled=frozenset({"seasonal-shock"}))
        if self.kind == "srm":
            bug = "srm-assignment" if self.index % 2 == 0 else "srm-logging"
            return FaultConfig(enabled=frozenset({bug}))  # type: ignore[arg-type]
        if self.kind == "guardrail":
            return FaultConfig(treatment_churn_logit=CHURN_LOGIT)
        return FaultConfig()

    def policies(self, lists: BaseLists) -> tuple[Any, Any]:
        """Control and treatment: names for the plain EASE designs, mixed lists otherwise."""
        if self.kind not in POP_SHARES:
            return "ease", "ease"
        control, treatment = POP_SHARES[self.kind]
        return lists.policy(control), lists.policy(treatment)


def designs(n: int, seed: int = 0, kinds: Sequence[Kind] | None = None) -> list[Design]:
    """`n` tests cycling through `MIX`, each with its own simulation seed; with `kinds`, the
    first `n` of those kinds in the same cycle (the very tests a full run of that seed has)."""
    wanted = set(MIX if kinds is None else kinds)
    if not wanted <= set(MIX):
        raise ValueError(f"unknown designs {sorted(wanted - set(MIX))}: choose from {MIX}")
    every = (i for i in itertools.count() if MIX[i % len(MIX)] in wanted)
    return [Design(index=i, kind=MIX[i % len(MIX)], seed=seed * 100_003 + i)
            for i in itertools.islice(every, n)]  # fmt: skip


def label_truth(
    truth: dict[str, Any], primary: str, guardrail: str, margin: float, min_effect: float = 0.0
) -> tuple[Truth, float, float]:
    """The oracle's verdict: (label, settled relative primary effect, relative guardrail effect).

    Beneficial: the settled (novelty-free) primary effect is above `min_effect` relative and two
    oracle standard errors; harmful below minus that; guardrail harm: the guardrail falls by more
    than its margin (that label wins). Everything else is null.
    """
    p, g = truth["metrics"][primary], truth["metrics"][guardrail]
    control = p["control"] or 1.0
    settled, se = p["effect_without_novelty"] / control, p["se_without_novelty"] / abs(control)
    g_rel = g["relative_effect"] if g["relative_effect"] is not None else 0.0
    if g_rel < -margin:
        return "guardrail_harm", settled, g_rel
    if settled > max(min_effect, 2 * se):
        return "beneficial", settled, g_rel
    if settled < -max(min_effect, 2 * se):
        return "harmful", settled, g_rel
    return "null", settled, g_rel
