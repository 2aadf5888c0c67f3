"""Student-t helpers for fixed-horizon (Welch) inference, vectorised.

scipy.special's `stdtr`/`stdtrit` are the ufuncs behind `scipy.stats.t` without its per-call
overhead (simulations call these thousands of times). dof = inf gives the normal distribution.
"""

from __future__ import annotations

import numpy as np
from scipy import special

Floats = np.ndarray | float


def welch_dof(var_c: Floats, n_c: Floats, var_t: Floats, n_t: Floats) -> np.ndarray:
    """Welch–Satterthwaite degrees of freedom (inf when both variances are zero)."""
    return satterthwaite_dof(
        np.stack(np.broadcast_arrays(var_c, var_t)), np.stack(np.broadcast_arrays(n_c, n_t))
    )


def satterthwaite_dof(variances: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """dof of a sum of independent mean estimates (axis 0 indexes the groups)."""
    v = np.asarray(variances, dtype=np.float64) / counts
    num = np.square(v.sum(axis=0))
    den = (np.square(v) / (np.asarray(counts, dtype=np.float64) - 1)).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.inf)


def critical(dof: Floats, level: float) -> np.ndarray:
    """t quantile at `level` (e.g. 0.975 for a two-sided 95% interval)."""
    return special.stdtrit(dof, level)


def p_two_sided(estimate: Floats, se: Floats, dof: Floats) -> np.ndarray:
    """Two-sided p-value of estimate / se; a zero se gives 0 (any difference) or 1 (none)."""
    est = np.asarray(estimate, dtype=np.float64)
    se = np.asarray(se, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = np.abs(est) / se
    p = 2 * special.stdtr(dof, -np.where(se > 0, stat, 0.0))
    return np.where(se > 0, p, np.where(est != 0, 0.0, 1.0))


def p_one_sided(distance: Floats, se: Floats, dof: Floats) -> np.ndarray:
    """One-sided p-value; `distance` > 0 is evidence for the alternative."""
    d = np.asarray(distance, dtype=np.float64)
    se = np.asarray(se, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = d / se
    p = special.stdtr(dof, -np.where(se > 0, stat, 0.0))
    return np.where(se > 0, p, np.where(d > 0, 0.0, 1.0))
