"""Always-valid inference: asymptotic confidence sequences, so the loop may look every day.

A fixed-horizon interval promises 1 - α coverage at one pre-planned look; checking it daily and
stopping at the first "significant" day inflates false positives (Johari et al., "Peeking at A/B
Tests", KDD 2017). A confidence sequence covers the true effect at *all* looks simultaneously
with probability ≥ 1 - α, so any stopping rule is safe.

We use the asymptotic confidence sequence of Waudby-Smith, Arnold, Wu, Ramdas, Vovk, Ramdas,
"Time-uniform central limit theory and asymptotic confidence sequences" (arXiv:2103.06476v7),
exactly as GrowthBook gbstats does (`SequentialTwoSidedTTest`, `SequentialOneSided*TTest`):

- mixture parameter (eq. 161): ρ = sqrt((-2 ln α + ln(-2 ln α + 1)) / N*), tuned so the
  sequence is tightest when N* units in total have been seen; N* = 5,000 is GrowthBook's
  default (REFERENCES.md);
- two-sided half-width at N units in total (eq. 9), s² = N · Var(estimate):
      s · sqrt(2 (N ρ² + 1) / (N² ρ²) · ln(sqrt(N ρ² + 1) / α));
- one-sided half-width (GrowthBook's one-sided sequential test; ρ tuned at 2α):
      s · sqrt(2 (N ρ² + 1) / (N² ρ²) · ln(1 + sqrt(N ρ² + 1) / (2 α)));
- p-values are the smallest α whose sequence (same ρ) excludes the null value: eq. 155 in
  the two-sided case, the same inversion of the one-sided bound otherwise.

Functions are vectorised over arrays of looks so simulations can call them directly.
"""

from __future__ import annotations

import numpy as np

DEFAULT_TUNING = 5_000.0  # N*: GrowthBook's default sequential tuning parameter


def _check(alpha: float, tuning: float) -> None:
    if not 0 < alpha < 0.5:
        raise ValueError(f"alpha must be in (0, 0.5), got {alpha}")
    if tuning <= 0:
        raise ValueError(f"the tuning parameter N* must be positive, got {tuning}")


def rho(alpha: float, tuning: float = DEFAULT_TUNING, *, two_sided: bool = True) -> float:
    """Mixture parameter ρ (Waudby-Smith et al. eq. 161); one-sided sequences tune at 2α."""
    _check(alpha, tuning)
    a = alpha if two_sided else 2 * alpha
    return float(np.sqrt((-2 * np.log(a) + np.log(-2 * np.log(a) + 1)) / tuning))


def halfwidth(
    se: np.ndarray | float,
    n_total: np.ndarray | float,
    alpha: float,
    tuning: float = DEFAULT_TUNING,
    *,
    two_sided: bool = True,
) -> np.ndarray:
    """Half-width of the (1 - α) confidence sequence for an estimate with standard error `se`."""
    r = rho(alpha, tuning, two_sided=two_sided)
    n = np.asarray(n_total, dtype=np.float64)
    s2 = np.square(se) * n
    nr2 = n * r**2 + 1
    # two-sided: ln(sqrt(Nρ² + 1) / α); one-sided: ln(1 + sqrt(Nρ² + 1) / (2α))
    log_term = np.log(np.sqrt(nr2) / alpha) if two_sided else np.log1p(np.sqrt(nr2) / (2 * alpha))
    return np.sqrt(s2 * 2 * nr2 / np.square(n * r) * log_term)


def _log_evidence(
    distance: np.ndarray, se: np.ndarray, n: np.ndarray, r: float
) -> tuple[np.ndarray, np.ndarray]:
    """L = d² N² ρ² / (2 s² (N ρ² + 1)) and N ρ² + 1, shared by both p-values (s² = N se²)."""
    nr2 = n * r**2 + 1
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ev = np.square(distance) * n * r**2 / (2 * np.square(se) * nr2)
    log_ev = np.where(se > 0, log_ev, np.where(distance != 0, np.inf, 0.0))
    return log_ev, nr2


def p_value(
    estimate: np.ndarray | float,
    se: np.ndarray | float,
    n_total: np.ndarray | float,
    alpha: float,
    tuning: float = DEFAULT_TUNING,
    null: float = 0.0,
) -> np.ndarray:
    """Two-sided always-valid p-value for `estimate == null` (eq. 155; 1 / e-value, capped at 1)."""
    r = rho(alpha, tuning, two_sided=True)
    distance = np.asarray(estimate, dtype=np.float64) - null
    log_ev, nr2 = _log_evidence(
        distance, np.asarray(se, dtype=np.float64), np.asarray(n_total, dtype=np.float64), r
    )
    return np.minimum(1.0, np.sqrt(nr2) * np.exp(-log_ev))


def p_value_one_sided(
    distance: np.ndarray | float,
    se: np.ndarray | float,
    n_total: np.ndarray | float,
    alpha: float,
    tuning: float = DEFAULT_TUNING,
) -> np.ndarray:
    """One-sided always-valid p-value; `distance` > 0 is evidence for the alternative.

    Inverts the one-sided half-width at fixed ρ (tuned at 2α): the bound reaches the null when
    ln(1 + sqrt(Nρ² + 1) / (2p)) = L, i.e. p = sqrt(Nρ² + 1) / (2 (e^L - 1)).
    """
    r = rho(alpha, tuning, two_sided=False)
    d = np.asarray(distance, dtype=np.float64)
    log_ev, nr2 = _log_evidence(
        d, np.asarray(se, dtype=np.float64), np.asarray(n_total, dtype=np.float64), r
    )
    with np.errstate(divide="ignore", over="ignore"):
        p = np.sqrt(nr2) / (2 * np.expm1(log_ev))
    return np.where(d > 0, np.minimum(1.0, p), 1.0)
