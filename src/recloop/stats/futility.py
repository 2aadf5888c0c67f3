"""Futility: stop a test whose primary gain can no longer reach the minimum effect worth shipping.

Early stopping saves traffic twice: on clear wins (the group-sequential boundary) and on tests
that will not win. A test is *futile* at a look when the one-sided upper confidence bound (level
`level`, 90% by default) on the primary's relative lift in its good direction lies below the
pre-registered minimum effect δ: effects worth shipping are no longer compatible with the data
(the rule of Jennison & Turnbull's §10.6 confidence-interval futility, with γ = 1 − level). The
bound is computed twice, on every session and on each unit's sessions after its burn-in (the
lasting effect the ship rule needs), and either below δ stops the test: a fading novelty lift
keeps the first bound high, not the second.

Futility is *non-binding*: it can only turn a would-be ship into an early "inconclusive", so it
never raises the false-ship rate; what it can cost is power on true effects near δ, which the
attribution benchmark measures. A change that users first dislike and then come to like
(change aversion, a negative novelty) can look futile early; the futility rule waits for the
same first full week as a ship for that reason.
"""

from __future__ import annotations

from scipy import special

from recloop.stats.attribution import MetricResult

DEFAULT_MIN_EFFECT = 0.05
DEFAULT_FUTILITY_LEVEL = 0.9


def upper_lift_bound(result: MetricResult, level: float = DEFAULT_FUTILITY_LEVEL) -> float | None:
    """One-sided `level` upper bound on the relative lift in the metric's good direction (a
    fall for a lower-is-better metric counts as a lift); None when the control mean is 0."""
    if not 0.5 < level < 1:
        raise ValueError(f"the futility level must be in (0.5, 1), got {level}")
    if result.control == 0:
        return None
    good = 1.0 if result.direction == "higher" else -1.0
    z = float(special.ndtri(level))
    return (good * result.effect + z * result.se) / abs(result.control)


def futile(
    results: list[MetricResult],
    min_effect: float = DEFAULT_MIN_EFFECT,
    level: float = DEFAULT_FUTILITY_LEVEL,
) -> bool:
    """Whether any of the estimates (the primary on all sessions, after the burn-in) rules out
    a relative lift of `min_effect` at one-sided `level`."""
    if min_effect <= 0:
        raise ValueError(f"the minimum effect must be positive, got {min_effect}")
    bounds = (upper_lift_bound(r, level) for r in results)
    return any(b is not None and b < min_effect for b in bounds)
