"""Group-sequential boundaries: Lan–DeMets alpha spending over a planned horizon of daily looks.

The confidence sequence (`sequential`) is valid for any number of looks and no planned end, and
pays for it with width (about 3σ/√N at its tuning point against 1.96σ/√N). A test with a known
horizon and looks on known days can spend its α more cheaply (Lan & DeMets, "Discrete
sequential boundaries for clinical trials", Biometrika 1983; Jennison & Turnbull, *Group
Sequential Methods with Applications to Clinical Trials*, 2000, ch. 7 and 19):

- the **spending function** α(t) says how much type-I error may have been used by information
  fraction t: O'Brien–Fleming type α(t) = 2 − 2Φ(z_{1−α/2} / √t) (almost nothing early, about
  the fixed-horizon critical value at the end) or Pocock type α ln(1 + (e − 1) t); a two-sided
  test at α spends α/2 on each side (the symmetric design of Jennison & Turnbull and gsDesign);
- look k's boundary b_k is the value with P(cross at k, not before) = α(t_k) − α(t_{k−1}) for
  a standardised statistic Z_k with corr(Z_j, Z_k) = √(t_j / t_k), computed by the recursive
  numerical integration of Armitage, McPherson & Rowe (1969) (Jennison & Turnbull ch. 19);
- the **information time** is calendar time, t_k = (k + 1) / H for look k of H daily looks: it
  is fixed before the test, so a look's boundary does not depend on the data. A daily metric
  summed per unit is more correlated from day to day than √(t_j / t_k) (the same units carry
  their history), and crossing a fixed set of boundaries is less likely the more correlated the
  looks are (Slepian's inequality), so the calendar design is conservative there; the A/A type-I
  rate is checked by simulation in the tests and in `recloop bench attribution`;
- a look's **repeated p-value** is the smallest α whose boundary at that look |Z| reaches
  (Jennison & Turnbull §9.1); it is below α exactly when the repeated confidence interval
  estimate ± b_k·se excludes zero.

Scipy supplies Φ, its inverse and the root finder; the recursion is vectorised on a Simpson grid.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

import numpy as np
from scipy import interpolate, optimize, special

Spending = Literal["obrien-fleming", "pocock"]
DEFAULT_SPENDING: Spending = "obrien-fleming"
_GRID = 301  # Simpson points per look (odd)
_EDGE = 8.5  # |z| beyond which the continuation density is negligible (Φ(-8.5) ≈ 1e-17)
_P_GRID = np.geomspace(1e-8, 0.999, 97)  # α' values the repeated p-values interpolate over


def spent(t: np.ndarray | float, alpha: float, spending: Spending = DEFAULT_SPENDING) -> np.ndarray:
    """α(t): type-I error allowed by information fraction t (α(1) = α)."""
    t = np.clip(np.asarray(t, dtype=np.float64), 0.0, 1.0)
    if spending == "pocock":
        return alpha * np.log1p((np.e - 1) * t)
    with np.errstate(divide="ignore"):
        return 2 * special.ndtr(-special.ndtri(1 - alpha / 2) / np.sqrt(t))


def _simpson(lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    z = np.linspace(lo, hi, _GRID)
    w = np.ones(_GRID)
    w[1:-1:2], w[2:-1:2] = 4.0, 2.0
    return z, w * (hi - lo) / (3 * (_GRID - 1))


def _cross(b: float, mean: np.ndarray, sd: float, two_sided: bool) -> np.ndarray:
    """P(Z_k beyond the boundary | Z_{k-1} on the grid), Z_k ~ N(mean, sd²)."""
    upper = special.ndtr((mean - b) / sd)
    return upper + special.ndtr((-b - mean) / sd) if two_sided else upper


def _boundaries(t: np.ndarray, alpha: float, spending: Spending, two_sided: bool) -> np.ndarray:
    """Boundaries b_1..b_K on the standardised scale (inf only where nothing is spent)."""
    total = 2 * spent(t, alpha / 2, spending) if two_sided else spent(t, alpha, spending)
    increments = np.diff(np.concatenate([[0.0], total]))
    out = np.full(len(t), np.inf)
    z = w = dens = None  # the continuation density of Z_{k-1} on its grid (None before look 1)
    for k, (tk, target) in enumerate(zip(t, increments, strict=True)):
        if dens is None or z is None or w is None:
            mean, sd, weights = np.zeros(1), 1.0, np.ones(1)
        else:
            mean, sd = z * np.sqrt(t[k - 1] / tk), float(np.sqrt(1 - t[k - 1] / tk))
            weights = w * dens
        if target > 0:

            def excess(b: float, m: np.ndarray = mean, s: float = sd, q: np.ndarray = weights,
                       goal: float = target) -> float:  # fmt: skip
                return float(q @ _cross(b, m, s, two_sided)) - goal

            # the paths still running may carry less than the increment (α near 1): reject all
            out[k] = optimize.brentq(excess, 0.0, 40.0, xtol=1e-10) if excess(0.0) > 0 else 0.0
        edge = min(out[k], _EDGE)
        grid, grid_w = _simpson(-edge if two_sided else -_EDGE, edge)
        step = (grid[:, None] - mean[None, :]) / sd
        new = (np.exp(-0.5 * step**2) / (sd * np.sqrt(2 * np.pi))) @ weights
        z, w, dens = grid, grid_w, new
    return out


@lru_cache(maxsize=256)
def boundaries(
    fractions: tuple[float, ...],
    alpha: float,
    spending: Spending = DEFAULT_SPENDING,
    two_sided: bool = True,
) -> tuple[float, ...]:
    """Boundaries for looks at increasing information fractions in (0, 1] (two-sided: |Z|)."""
    t = np.asarray(fractions, dtype=np.float64)
    if len(t) == 0 or np.any(np.diff(t) <= 0) or t[0] <= 0 or t[-1] > 1:
        raise ValueError(f"fractions must increase within (0, 1], got {fractions}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    return tuple(float(b) for b in _boundaries(t, alpha, spending, two_sided))


def calendar_fractions(horizon: int) -> tuple[float, ...]:
    """Information time of daily looks 0..H-1: (k + 1) / H."""
    if horizon < 1:
        raise ValueError(f"the horizon must be at least 1 look, got {horizon}")
    return tuple((k + 1) / horizon for k in range(horizon))


def boundary(
    look: int,
    horizon: int,
    alpha: float,
    spending: Spending = DEFAULT_SPENDING,
    *,
    two_sided: bool = True,
) -> float:
    """Look `look`'s (0-based day) boundary in a design of `horizon` daily looks."""
    _check_look(look, horizon)
    return boundaries(calendar_fractions(horizon), alpha, spending, two_sided)[look]


def _check_look(look: int, horizon: int) -> None:
    if not 0 <= look < horizon:
        raise ValueError(f"look {look} is outside the design's {horizon} daily looks")


@lru_cache(maxsize=64)
def _p_table(horizon: int, alpha: float, spending: Spending, two_sided: bool) -> np.ndarray:
    """Boundaries (looks × α' grid, α' ascending, α itself included) for repeated p-values."""
    levels = np.union1d(_P_GRID, [alpha])
    fractions = calendar_fractions(horizon)
    return np.array([boundaries(fractions, a, spending, two_sided) for a in levels]).T


def p_value(
    z: np.ndarray | float,
    look: int,
    horizon: int,
    alpha: float,
    spending: Spending = DEFAULT_SPENDING,
    *,
    two_sided: bool = True,
) -> np.ndarray:
    """Repeated p-value of Z at a look (one-sided: evidence is Z > 0); exact at `alpha`."""
    _check_look(look, horizon)
    z = np.asarray(z, dtype=np.float64)
    levels = np.union1d(_P_GRID, [alpha])
    bounds = _p_table(horizon, alpha, spending, two_sided)[look]
    stat = np.abs(z) if two_sided else z
    keep = np.isfinite(bounds) & (np.diff(np.r_[np.inf, bounds]) < 0)  # strictly falling
    # bounds fall as α' grows: a monotone cubic of log α' on the ascending boundaries
    curve = interpolate.PchipInterpolator(bounds[keep][::-1], np.log(levels[keep])[::-1])
    inside = np.clip(stat, bounds[keep][-1], bounds[keep][0])
    p = np.exp(curve(inside))
    return np.where(stat < bounds[keep][-1], 1.0, np.where(stat > bounds[keep][0], levels[0], p))
