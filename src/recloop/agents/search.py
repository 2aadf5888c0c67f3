"""Parameter search per family: an Optuna study (TPE, seeded), rebuilt from the recorded trials.

The recorded trials are the state; the study is derived from them. Each `ask` builds an
in-memory study from the records (pending ones as running trials, which TPE's constant liar
keeps it from proposing again), samples with a TPE sampler seeded from (seed, family, trial
number), and records the new trial as pending; `tell` completes it with the outcome. So a
search rebuilt from its records (after a crash, or by the ledger) asks exactly what the
uninterrupted one would have asked, and no sampler state needs saving: `SearchState` is a
plain pydantic model (kept with the family posterior in `memory.AgentMemory`).

An outcome is the improvement of the primary metric the cascade measured (higher is better),
with `feasible=False` when a guardrail broke (TPE then treats the point as violating a
constraint), or a failure (no value: TPE ignores it; it is kept as memory). Records whose
parameters no longer fit the space (the space changed) are kept but not given to the study.

Two kinds of free observations make the search start well: the champion's own point (its
current values, improvement 0 by definition, `observe_baseline`) and a transformation's
defaults, asked first when nothing has been tried yet.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from typing import Literal

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import TrialState, create_trial
from pydantic import BaseModel, ConfigDict, Field

from recloop.agents.space import Scalar, SearchParam, Space, check_values, snap
from recloop.workspace.search import ChoiceParam, IntParam

TrialStatus = Literal["pending", "complete", "failed"]
TrialSource = Literal["optimiser", "defaults", "baseline", "external"]
DEFAULT_STARTUP_TRIALS = 4
GUARDRAIL_CONSTRAINT = "guardrails"


class TrialRecord(BaseModel):
    """One point of a family's search and what became of it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    number: int = Field(ge=0)
    params: dict[str, Scalar]
    status: TrialStatus = "pending"
    source: TrialSource = "optimiser"
    value: float | None = None  # the primary metric's improvement over the champion
    feasible: bool = True  # False: a guardrail broke
    failure: str | None = None  # why no value was measured (a cause code and a sentence)
    champion: str | None = None  # the champion commit it was measured against


class SearchState(BaseModel):
    """Everything a family's search is rebuilt from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    family: str
    seed: int = 0
    trials: tuple[TrialRecord, ...] = ()


class ParameterSearch:
    """The search of one family over one space (see the module docstring)."""

    def __init__(
        self,
        family: str,
        space: Space,
        *,
        seed: int = 0,
        trials: tuple[TrialRecord, ...] = (),
        champion: str | None = None,
        startup_trials: int = DEFAULT_STARTUP_TRIALS,
    ) -> None:
        self.family = family
        self.space = space
        self.seed = seed
        self.champion = champion  # only trials measured on this champion feed the study
        self.startup_trials = startup_trials
        self._trials = list(trials)

    @classmethod
    def from_state(
        cls,
        state: SearchState,
        space: Space,
        *,
        champion: str | None = None,
        startup_trials: int = DEFAULT_STARTUP_TRIALS,
    ) -> ParameterSearch:
        return cls(
            state.family,
            space,
            seed=state.seed,
            trials=state.trials,
            champion=champion,
            startup_trials=startup_trials,
        )

    @property
    def state(self) -> SearchState:
        return SearchState(family=self.family, seed=self.seed, trials=tuple(self._trials))

    @property
    def trials(self) -> tuple[TrialRecord, ...]:
        return tuple(self._trials)

    def pending(self) -> list[TrialRecord]:
        return [t for t in self._trials if t.status == "pending"]

    def best(self) -> TrialRecord | None:
        """The complete, feasible trial with the highest value."""
        done = [t for t in self._trials if t.status == "complete" and t.feasible]
        return max(done, key=lambda t: (t.value or 0.0, -t.number), default=None)

    # -- asking --------------------------------------------------------------------------------

    def ask(
        self, defaults: Mapping[str, Scalar] | None = None, champion: str | None = None
    ) -> TrialRecord:
        """The next point to try, recorded as pending (`defaults` first, if nothing was tried)."""
        if not self.space:
            raise ValueError(f"family {self.family!r} has no parameter space to ask in")
        tried = any(t.source in ("optimiser", "defaults") for t in self._trials)
        if defaults is not None and not tried and not check_values(self.space, defaults):
            return self._add(dict(defaults), "defaults", champion=champion)
        study = self._study()
        trial = study.ask(fixed_distributions=_distributions(self.space))
        params = {p.path: _value(p, trial.params[p.path]) for p in self.space}
        return self._add(params, "optimiser", champion=champion)

    def observe_baseline(
        self, params: Mapping[str, Scalar], champion: str | None = None
    ) -> TrialRecord | None:
        """Record the champion's own point (improvement 0) once per champion, if it fits."""
        if check_values(self.space, params):
            return None
        for trial in self._trials:
            if trial.source == "baseline" and trial.champion == champion:
                return None
        return self._add(dict(params), "baseline", status="complete", value=0.0, champion=champion)

    # -- telling -------------------------------------------------------------------------------

    def tell(
        self,
        number: int,
        *,
        value: float | None = None,
        failure: str | None = None,
        feasible: bool = True,
    ) -> TrialRecord:
        """Complete a pending trial with a value, or fail it with a reason (exactly one)."""
        if (value is None) == (failure is None):
            raise ValueError("tell a trial either a value or a failure")
        if value is not None and not math.isfinite(value):
            raise ValueError(f"a trial's value must be finite, got {value}")
        if not 0 <= number < len(self._trials):
            raise KeyError(f"family {self.family!r} has no trial {number}")
        trial = self._trials[number]
        if trial.status != "pending":
            raise ValueError(f"trial {number} of {self.family!r} is already {trial.status}")
        status: TrialStatus = "complete" if value is not None else "failed"
        update = {"status": status, "value": value, "failure": failure, "feasible": feasible}
        self._trials[number] = trial.model_copy(update=update)
        return self._trials[number]

    def tell_params(
        self,
        params: Mapping[str, Scalar],
        *,
        value: float | None = None,
        failure: str | None = None,
        feasible: bool = True,
        champion: str | None = None,
    ) -> TrialRecord:
        """Tell the oldest pending trial with these parameters, or record them as external."""
        for trial in self._trials:
            if trial.status == "pending" and trial.params == dict(params):
                return self.tell(trial.number, value=value, failure=failure, feasible=feasible)
        record = self._add(dict(params), "external", champion=champion)
        return self.tell(record.number, value=value, failure=failure, feasible=feasible)

    # -- internals -----------------------------------------------------------------------------

    def _add(
        self,
        params: dict[str, Scalar],
        source: TrialSource,
        *,
        status: TrialStatus = "pending",
        value: float | None = None,
        champion: str | None = None,
    ) -> TrialRecord:
        record = TrialRecord(
            number=len(self._trials),
            params=params,
            status=status,
            source=source,
            value=value,
            champion=champion,
        )
        self._trials.append(record)
        return record

    def _study(self) -> optuna.Study:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        sampler = optuna.samplers.TPESampler(
            seed=self._sampler_seed(len(self._trials)),
            n_startup_trials=self.startup_trials,
        )
        study = optuna.create_study(direction="maximize", sampler=sampler)
        distributions = _distributions(self.space)
        for trial in self._trials:
            if self.champion is not None and trial.champion not in (None, self.champion):
                continue
            if check_values(self.space, trial.params):
                continue  # measured in another space; kept, not used
            study.add_trial(_frozen(trial, distributions))
        return study

    def _sampler_seed(self, number: int) -> int:
        digest = hashlib.sha256(f"{self.seed}:{self.family}:{number}".encode()).digest()
        return int.from_bytes(digest[:4], "big")


def _distributions(space: Space) -> dict[str, BaseDistribution]:
    return {p.path: _distribution(p) for p in space}


def _distribution(param: SearchParam) -> BaseDistribution:
    if isinstance(param, ChoiceParam):
        return CategoricalDistribution(param.choices)
    if isinstance(param, IntParam):
        # Optuna samples an integer log scale only with step 1: snap to the step afterwards
        step = 1 if param.log else param.step
        return IntDistribution(param.low, param.high, log=param.log, step=step)
    return FloatDistribution(param.low, param.high, log=param.log)


def _value(param: SearchParam, sampled: object) -> Scalar:
    if isinstance(param, IntParam):
        return snap(param, int(sampled))  # type: ignore[call-overload]
    if isinstance(param, ChoiceParam):
        return sampled  # type: ignore[return-value]
    return float(sampled)  # type: ignore[arg-type]


def _frozen(
    trial: TrialRecord, distributions: dict[str, BaseDistribution]
) -> optuna.trial.FrozenTrial:
    if trial.status == "pending":
        state, value, constraints = TrialState.RUNNING, None, None
    elif trial.status == "failed":
        state, value, constraints = TrialState.FAIL, None, None
    else:
        state, value = TrialState.COMPLETE, trial.value
        constraints = {GUARDRAIL_CONSTRAINT: 0.0 if trial.feasible else 1.0}
    return create_trial(
        state=state,
        value=value,
        params=dict(trial.params),
        distributions=distributions,
        constraints=constraints,
    )
