"""Multiple-metric correction: adjusted p-values over a family of success metrics.

- Bonferroni: p·m. Controls the family-wise error rate (FWER) under any dependence.
- Holm–Bonferroni (Holm, Scand. J. Statist. 1979): step-down, sorted p₍ᵢ₎ → max over j ≤ i of
  (m - j + 1) p₍ⱼ₎. Same FWER guarantee as Bonferroni, never less powerful.
- Benjamini–Hochberg (JRSS-B 1995): step-up, p₍ᵢ₎ → min over j ≥ i of m p₍ⱼ₎ / j. Controls the
  false discovery rate under independence or positive dependence (PRDS).

REFERENCES.md: platforms use Holm or BH; Spotify corrects α over success metrics only. The
adjusted p-values follow statsmodels' `multipletests` definitions (tests check equality);
they stay valid for always-valid (sequential) p-values, since Holm is a closed Bonferroni test.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

Correction = Literal["holm", "bh", "bonferroni", "none"]


class Adjusted(BaseModel):
    """Adjusted p-values (input order) and which hypotheses are rejected at `alpha`."""

    model_config = ConfigDict(frozen=True)

    method: Correction
    alpha: float
    p_values: tuple[float, ...]
    adjusted: tuple[float, ...]
    reject: tuple[bool, ...]


def _holm(p: np.ndarray) -> np.ndarray:
    m = len(p)
    order = np.argsort(p, kind="stable")
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.minimum(stepped, 1.0)
    return out


def _bh(p: np.ndarray) -> np.ndarray:
    m = len(p)
    order = np.argsort(p, kind="stable")
    scaled = m * p[order] / np.arange(1, m + 1)
    stepped = np.minimum.accumulate(scaled[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(stepped, 1.0)
    return out


def adjust_p_values(
    p_values: Sequence[float] | np.ndarray, method: Correction = "holm", alpha: float = 0.05
) -> Adjusted:
    """Adjust a family of p-values; `reject` marks adjusted p ≤ α (statsmodels' convention)."""
    p = np.asarray(p_values, dtype=np.float64)
    if p.ndim != 1:
        raise ValueError(f"p-values must be a 1-d sequence, got shape {p.shape}")
    if np.any(~np.isfinite(p)) or np.any((p < 0) | (p > 1)):
        raise ValueError(f"p-values must lie in [0, 1], got {p_values!r}")
    if len(p) == 0 or method == "none":
        adjusted = p.copy()
    elif method == "bonferroni":
        adjusted = np.minimum(p * len(p), 1.0)
    elif method == "holm":
        adjusted = _holm(p)
    elif method == "bh":
        adjusted = _bh(p)
    else:
        raise ValueError(f"unknown correction {method!r}")
    return Adjusted(
        method=method,
        alpha=alpha,
        p_values=tuple(float(v) for v in p),
        adjusted=tuple(float(v) for v in adjusted),
        reject=tuple(bool(v) for v in adjusted <= alpha),
    )
