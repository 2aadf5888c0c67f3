"""The metrics contract of a workspace: what counts as better, and what must not get worse.

One primary metric decides (with the smallest effect worth shipping); guardrail metrics may not
worsen past a threshold, relative to the champion's value or absolute in the metric's units, and
optionally never past a hard limit. Metric names are the ones recloop's evaluator and cascade
produce, so a contract can never ask for a number nobody computes:

- ranking metrics at the evaluation's list length K, written `name@K`: the accuracy metrics of
  `recloop.recsys.metrics` (ndcg, recall, precision, hitrate, mrr, map) and its beyond-accuracy
  ones (coverage, novelty, popularity, diversity, gini);
- cost metrics measured by the cascade's local-execution stage, without `@K`:
  `latency_ms_per_1k_users`, `fit_seconds`, `peak_memory_mb`.

Every metric has a natural direction (more NDCG is better, more popularity bias is worse); a
contract may state the direction, and it defaults to the natural one.
"""

from __future__ import annotations

import difflib
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from recloop.recsys.metrics import ACCURACY_METRICS

Direction = Literal["maximize", "minimize"]
ThresholdKind = Literal["relative", "absolute"]

# beyond-accuracy names as `recloop.recsys.metrics.beyond_accuracy` reports them
BEYOND_ACCURACY: dict[str, Direction] = {
    "coverage": "maximize",
    "novelty": "maximize",
    "diversity": "maximize",
    "popularity": "minimize",
    "gini": "minimize",
}
RANKING_METRICS: dict[str, Direction] = {
    **dict.fromkeys(ACCURACY_METRICS, "maximize"),
    **BEYOND_ACCURACY,
}
COST_METRICS: dict[str, Direction] = {
    "latency_ms_per_1k_users": "minimize",
    "fit_seconds": "minimize",
    "peak_memory_mb": "minimize",
}
_AT_K = re.compile(r"^(?P<base>[a-z_0-9]+)@(?P<k>[0-9]+)$")


class Inconsistent(ValueError):
    """Cross-field problems of a section, each with its key path relative to that section.

    Raised from model validators so the manifest loader can point at the exact key and line;
    built directly, it reads as one message.
    """

    def __init__(self, problems: list[tuple[tuple[str | int, ...], str]]) -> None:
        super().__init__("; ".join(f"{'.'.join(map(str, key))}: {msg}" for key, msg in problems))
        self.problems = problems


def metric_k(name: str) -> int | None:
    """The list length of a ranking metric name (`ndcg@10` -> 10); None for a cost metric."""
    match = _AT_K.match(name)
    return int(match.group("k")) if match else None


def check_metric_name(name: str) -> str:
    """Return a known metric name unchanged, or raise ValueError saying what is known."""
    match = _AT_K.match(name)
    if match and match.group("base") in RANKING_METRICS and int(match.group("k")) >= 1:
        return name
    if name in COST_METRICS:
        return name
    if match and match.group("base") in RANKING_METRICS:
        raise ValueError(f"metric {name!r} needs a list length of at least 1")
    if name in RANKING_METRICS:
        raise ValueError(f"metric {name!r} needs a list length, e.g. '{name}@10'")
    k = match.group("k") if match else "10"
    known = [f"{base}@{k}" for base in RANKING_METRICS] + list(COST_METRICS)
    close = [n for n in known if n.startswith(name)] or difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ValueError(
        f"unknown metric {name!r}{hint}; known metrics: "
        f"{', '.join(RANKING_METRICS)} (each as name@K), {', '.join(COST_METRICS)}"
    )


def natural_direction(name: str) -> Direction:
    """Whether more of a (valid) metric is better."""
    match = _AT_K.match(name)
    return RANKING_METRICS[match.group("base")] if match else COST_METRICS[name]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _with_natural_direction(data: Any) -> Any:
    """Fill a missing `direction` from the metric's natural one (when the name is valid)."""
    if isinstance(data, dict) and "direction" not in data and isinstance(data.get("name"), str):
        try:
            return {**data, "direction": natural_direction(check_metric_name(data["name"]))}
        except ValueError:
            # the name's own validator reports it; a placeholder keeps the error list to that one
            return {**data, "direction": "maximize"}
    return data


class PrimaryMetric(_Section):
    """The metric that decides, and the smallest improvement worth shipping."""

    name: str
    direction: Direction
    min_effect: float = Field(default=0.0, ge=0.0)
    min_effect_kind: ThresholdKind = "relative"

    _natural = model_validator(mode="before")(_with_natural_direction)

    @field_validator("name")
    @classmethod
    def _known_ranking_metric(cls, name: str) -> str:
        check_metric_name(name)
        if metric_k(name) is None:
            raise ValueError(f"the primary metric must be a ranking metric at @K, not {name!r}")
        return name

    def min_improvement(self, champion: float) -> float:
        """The improvement (in the metric's units, > 0 means better) worth shipping."""
        return (
            self.min_effect * abs(champion)
            if self.min_effect_kind == "relative"
            else (self.min_effect)
        )


class Guardrail(_Section):
    """A metric that may worsen by at most `threshold` against the champion (and past no `limit`).

    `kind = "relative"`: the threshold is a fraction of the champion's value (0.1 = 10%);
    `"absolute"`: it is in the metric's own units. `limit`, when given, is a bound the candidate
    must respect whatever the champion does (e.g. latency never above 2,000 ms per 1k users).
    """

    name: str
    direction: Direction
    threshold: float = Field(ge=0.0)
    kind: ThresholdKind = "relative"
    limit: float | None = None

    _natural = model_validator(mode="before")(_with_natural_direction)
    _known = field_validator("name")(check_metric_name)

    def worst_allowed(self, champion: float) -> float:
        """The worst value a candidate may reach given the champion's value."""
        slack = self.threshold * abs(champion) if self.kind == "relative" else self.threshold
        if self.direction == "maximize":
            worst = champion - slack
            return worst if self.limit is None else max(worst, self.limit)
        worst = champion + slack
        return worst if self.limit is None else min(worst, self.limit)

    def violated(self, champion: float, candidate: float) -> bool:
        """Whether the candidate's value breaks this guardrail."""
        bound = self.worst_allowed(champion)
        return candidate < bound if self.direction == "maximize" else candidate > bound


class MetricsContract(_Section):
    """The primary metric and the guardrails; all ranking metrics share one list length K."""

    primary: PrimaryMetric
    guardrails: list[Guardrail] = Field(default_factory=list)

    @property
    def k(self) -> int:
        """The evaluation's list length, from the primary metric's `@K`."""
        k = metric_k(self.primary.name)
        assert k is not None  # the primary metric is validated to be a ranking metric
        return k

    @property
    def names(self) -> list[str]:
        """Every metric the contract reads: the primary first, then the guardrails."""
        return [self.primary.name, *(g.name for g in self.guardrails)]

    @model_validator(mode="after")
    def _consistent(self) -> MetricsContract:
        problems: list[tuple[tuple[str | int, ...], str]] = []
        seen = {self.primary.name: "the primary metric"}
        for i, guardrail in enumerate(self.guardrails):
            key = ("guardrails", i, "name")
            k = metric_k(guardrail.name)
            if guardrail.name in seen:
                problems.append((key, f"{guardrail.name!r} is already {seen[guardrail.name]}"))
            elif k is not None and k != self.k:
                problems.append(
                    (
                        key,
                        f"{guardrail.name!r} is at @{k} but the primary metric is at @{self.k}; "
                        "recloop evaluates one list length",
                    )
                )
            seen.setdefault(guardrail.name, f"guardrail {i}")
        if problems:
            raise Inconsistent(problems)
        return self
