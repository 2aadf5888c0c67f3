"""Group-sequential boundaries for statistics whose daily looks are correlated in their own way.

The calendar design of `group_sequential` assumes corr(Z_j, Z_k) = √(t_j / t_k). A per-unit
indicator such as "has returned by the look" breaks it: a unit counted 0 at one look may be 1
at the next, so its looks are far *less* correlated than calendar time says, and boundaries
computed for the calendar design cross too often (7% one-sided false harms in permuted A/A
tests of simulated tables, against 5%). Here the correlation is *measured* instead: every unit's
value at every earlier daily look is known at look k (its cumulative totals by test day), so the
covariance of the arm-difference statistics between looks is estimated from the units
themselves (a unit enters at its first exposure; Cov(x̄_j, x̄_l) = cov_{S_j}(x_j, x_l) / n_l for
the units S_j present at the earlier look), and the boundaries spend α on the calendar
O'Brien–Fleming schedule over null paths drawn from N(0, R̂) — the error-spending method of Lan
& DeMets with the joint distribution of the looks taken from the data (the correlation is
estimated, the spending schedule is fixed in advance: asymptotically valid, checked by permuted
A/A tests in the tests). Draws come from a fixed seed, so a look's boundary is reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from recloop.stats import group_sequential
from recloop.stats.effect import Effect, estimate_effect
from recloop.stats.metrics import Metric, UnitTotals
from recloop.stats.summary import ArmData, arm_stats
from recloop.stats.tables.dialect import MS_PER_DAY
from recloop.stats.tables.queries import UnitDayTotals, Units

DRAWS = 20_000
SEED = 20_231_125


def look_values(
    metric: Metric, by_day: UnitDayTotals, units: Units, start_ms: int, looks: int
) -> np.ndarray:
    """Each unit's value of a mean `metric` at daily looks 0..looks-1 (NaN before it entered)."""
    if metric.kind != "mean":
        raise ValueError(f"{metric.name}: estimated designs need a mean metric, not a ratio")
    n = len(units)
    day = np.clip(by_day.day, 0, looks - 1)
    cumulative = {}
    for name in metric.totals:
        dense = np.zeros((n, looks))
        np.add.at(dense, (by_day.row, day), getattr(by_day.totals, name))
        cumulative[name] = np.cumsum(dense, axis=1)
    values = np.empty((n, looks))
    for j in range(looks):
        totals = UnitTotals.zeros(n)
        for name, cum in cumulative.items():
            setattr(totals, name, cum[:, j])
        values[:, j] = metric.unit_values(totals)[0]
    entered = (units.first_exposure_ms - start_ms) // MS_PER_DAY
    values[entered[:, None] > np.arange(looks)[None, :]] = np.nan
    return values


def look_covariance(values: np.ndarray, treated: np.ndarray) -> np.ndarray:
    """Covariance matrix of the difference of arm means across looks (see the docstring)."""
    looks = values.shape[1]
    cov = np.zeros((looks, looks))
    for arm in (treated, ~treated):
        x = values[arm]
        present = ~np.isnan(x)
        n = present.sum(axis=0).astype(np.float64)
        for j in range(looks):
            rows = present[:, j]
            if rows.sum() < 2:
                continue
            block = x[rows][:, j:]  # units present at j are present later too
            centred = block - block.mean(axis=0)
            c = centred[:, 0] @ centred / (rows.sum() - 1)
            cov[j, j:] += c / n[j:]
    return np.triu(cov) + np.triu(cov, 1).T


def simulated_boundaries(
    cov: np.ndarray | None, fractions: np.ndarray, alpha: float, draws: np.ndarray | None = None
) -> np.ndarray:
    """One-sided boundaries on the standardised scale, spending α on the O'Brien–Fleming
    schedule at `fractions`, over `draws` (or fresh ones from `cov`); looks without variance
    get an infinite boundary (nothing is spent there)."""
    if draws is None:
        if cov is None:
            raise ValueError("give the covariance or the draws")
        draws = standard_draws(cov)
    spent = group_sequential.spent(np.asarray(fractions), alpha)
    bounds = np.full(len(fractions), np.inf)
    alive = np.ones(len(draws), bool)
    used = 0.0
    for j in range(len(fractions)):
        if not np.isfinite(draws[:, j]).all():
            continue
        quota = int(np.floor((spent[j] - used) * len(draws) + 1e-9))
        living = draws[alive, j]
        if quota < 1 or not len(living):
            continue
        if quota >= len(living):
            bounds[j] = -np.inf
        else:
            top = -np.partition(-living, (quota - 1, quota))[[quota - 1, quota]]
            bounds[j] = 0.5 * (top[0] + top[1])
        crossed = alive & (draws[:, j] > bounds[j])
        used += crossed.sum() / len(draws)
        alive &= ~crossed
    return bounds


def standard_draws(cov: np.ndarray) -> np.ndarray:
    """Null paths of the standardised look statistics (NaN columns for looks without variance)."""
    sd = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    ok = sd > 0
    corr = cov[np.ix_(ok, ok)] / np.outer(sd[ok], sd[ok])
    vals, vecs = np.linalg.eigh(corr)  # a measured correlation may be slightly indefinite
    root = vecs * np.sqrt(np.clip(vals, 0.0, None))
    rng = np.random.default_rng(SEED)
    out = np.full((DRAWS, len(sd)), np.nan)
    out[:, ok] = rng.standard_normal((DRAWS, int(ok.sum()))) @ root.T
    return out


_LEVELS = np.geomspace(1e-4, 0.5, 25)


@dataclass(frozen=True)
class LookDesign:
    """The estimated design at one look: its one-sided boundary at α and repeated p-values."""

    look: int
    boundary: float
    ladder: np.ndarray = field(repr=False)  # this look's boundary at each of `_LEVELS`

    @classmethod
    def of(cls, cov: np.ndarray, fractions: np.ndarray, alpha: float) -> LookDesign:
        draws = standard_draws(cov)
        look = len(fractions) - 1
        boundary = float(simulated_boundaries(None, fractions, alpha, draws)[look])
        ladder = np.array([simulated_boundaries(None, fractions, a, draws)[look]
                           for a in _LEVELS])  # fmt: skip
        return cls(look, boundary, ladder)

    def p_value(self, z: float) -> float:
        """The smallest one-sided level whose boundary at this look `z` reaches (interpolated
        on log α between the ladder's levels, 1e-4 at the least)."""
        finite = np.isfinite(self.ladder)
        if not finite.any() or not z >= self.ladder[finite].min():
            return 1.0
        bounds = self.ladder[finite][::-1]  # ascending as the level falls
        levels = np.log(_LEVELS[finite])[::-1]
        if z >= bounds[-1]:
            return float(np.exp(levels[-1]))
        return float(np.exp(np.interp(z, bounds, levels)))


def measured_guardrail(
    metric: Metric,
    units: Units,
    by_day: UnitDayTotals,
    start_ms: int,
    design: tuple[int, int],
    alpha: float,
) -> tuple[Effect, LookDesign]:
    """A mean guardrail at a look of a group-sequential design whose looks' correlation is
    measured from the units' values at every daily look so far (`estimated_design`): the
    unadjusted Welch estimate of this look and the design's one-sided boundary."""
    look, horizon = design
    values = look_values(metric, by_day, units, start_ms, look + 1)
    treated = units.variant == "treatment"
    fractions = (np.arange(look + 1) + 1.0) / horizon
    measured = LookDesign.of(look_covariance(values, treated), fractions, alpha)
    now = values[:, look]
    arms = [ArmData(values=now[~np.isnan(now) & (treated == t)]) for t in (False, True)]
    return estimate_effect(metric.name, *map(arm_stats, arms), alpha=alpha), measured
