"""The run loop: propose, advance P experiments at once, launch, learn — within budgets.

    run_loop(workspace, RunSettings(experiments=10, hours=1.0, parallel=2))

On start the loop takes the workspace's run lock, finishes a merge a crash interrupted, prunes
orphaned worktrees and branches, finalizes experiments that finished without it, and resumes
every unfinished experiment before proposing new ones (resuming is the default path: a run
killed at any moment and started again loses nothing and does nothing twice). Then, while the
budgets last (`experiments` new ones; no new one after `hours`), it keeps `parallel` experiments
in flight, each advanced by `machine.advance` in a worker process (spawned, each opening its own
ledger) up to its decision; launches and approvals are handled here, one at a time, so the
champion moves in one place. An experiment waiting for a person is parked and the loop moves on.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import multiprocessing
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from recloop.agents import BrainstormContext, CatalogueBrainstormer
from recloop.knowledge import workspace_store
from recloop.ledger import Experiment, Ledger, StaleStateError
from recloop.loop.finalize import finalize, is_finalized
from recloop.loop.launch import recover_checkout
from recloop.loop.machine import Machine, advance
from recloop.loop.memory import LoopAgentState, load_state, save_state
from recloop.loop.online import OnlineEvaluator
from recloop.workspace.manifest import RECLOOP_DIR

EvaluatorFactory = Callable[[], OnlineEvaluator | None]
Notify = Callable[[str], None]
LOCK_FILE = f"{RECLOOP_DIR}/loop/run.lock"


class RunSettings(BaseModel):
    """The run's budgets and parallelism."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    experiments: int = Field(default=10, ge=0)  # new experiments this run may start
    hours: float | None = Field(default=None, gt=0)  # no new experiment after this wall time
    parallel: int = Field(default=1, ge=1)  # experiments in flight at once (worker processes)
    seed: int = 0  # the brainstormer's seed


@dataclass
class RunReport:
    """What one run did."""

    started: list[str] = field(default_factory=list)
    resumed: list[str] = field(default_factory=list)
    finished: list[str] = field(default_factory=list)
    launched: list[str] = field(default_factory=list)
    parked: list[str] = field(default_factory=list)
    seconds: float = 0.0


class RunLockedError(RuntimeError):
    """Another run holds this workspace's run lock."""


@contextmanager
def run_lock(root: Path) -> Iterator[None]:
    path = root / LOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise RunLockedError(f"another recloop run is working in {root}") from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# -- the worker side ---------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker process needs to build its own `Machine` (picklable)."""

    root: Path
    evaluator_factory: EvaluatorFactory | None
    auto_approver: str | None
    data_root: Path | None


_MACHINES: dict[Path, Machine] = {}


def _machine(spec: WorkerSpec) -> Machine:
    machine = _MACHINES.get(spec.root)
    if machine is None:
        evaluator = spec.evaluator_factory() if spec.evaluator_factory is not None else None
        machine = Machine(
            spec.root,
            Ledger.open(spec.root),
            workspace_store(spec.root),
            evaluator,
            auto_approver=spec.auto_approver,
            data_root=spec.data_root,
        )
        _MACHINES[spec.root] = machine
    return machine


def advance_in_worker(spec: WorkerSpec, key: str) -> str:
    """Advance one experiment in this process (up to its decision); its state after."""
    return advance(_machine(spec), key).state


class InlineExecutor(Executor):
    """Runs each call at submission, in this process (`parallel = 1`)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to the caller through the future
            future.set_exception(exc)
        return future


# -- the loop ----------------------------------------------------------------------------------


class Loop:
    """One run over one workspace (see the module docstring)."""

    def __init__(self, root: Path, settings: RunSettings, spec: WorkerSpec, notify: Notify) -> None:
        self.root, self.settings, self.spec, self.notify = root, settings, spec, notify
        self.machine = _machine(spec)
        self.ledger = self.machine.ledger
        self.state = load_state(root)
        self.brainstormer = CatalogueBrainstormer(memory=self.state.memory, seed=settings.seed)
        self.report = RunReport()
        self.in_flight: dict[Future[str], str] = {}
        self.exhausted = False

    def prepare(self) -> None:
        recover_checkout(self.root)
        pruned = self.machine.candidates.prune()
        if pruned.folders or pruned.branches:
            self.notify(
                f"pruned {len(pruned.folders)} orphaned worktree(s), "
                f"{len(pruned.branches)} branch(es)"
            )
        for experiment in self.ledger.experiments():
            if experiment.is_finished:
                self._finalize(experiment)
            else:
                self.report.resumed.append(experiment.key)
        if self.report.resumed:
            self.notify(f"resuming {len(self.report.resumed)} unfinished experiment(s)")

    def run(self, executor: Executor) -> RunReport:
        started = time.monotonic()
        deadline = None if self.settings.hours is None else started + self.settings.hours * 3600
        while True:
            self._main_steps()
            self._fill(executor, deadline)
            if not self.in_flight:
                break
            done, _ = wait(list(self.in_flight), return_when=FIRST_COMPLETED)
            for future in done:
                self._collect(future)
        self.report.parked = [e.key for e in self._unfinished()]
        self.report.seconds = time.monotonic() - started
        return self.report

    # -- internals -------------------------------------------------------------------------------

    def _unfinished(self) -> list[Experiment]:
        return [e for e in self.ledger.experiments() if not e.is_finished]

    def _main_steps(self) -> None:
        """Launch or close decided experiments; close those a person rejected."""
        for experiment in self._unfinished():
            if experiment.key in self.in_flight.values() or experiment.state != "decided":
                continue
            after = self._advance_here(experiment.key)
            if after is not None and after.state == "launched":
                self.report.launched.append(after.key)
                self.notify(f"{after.key}: launched — the champion moved")

    def _advance_here(self, key: str) -> Experiment | None:
        try:
            after = advance(self.machine, key, launch=True)
        except StaleStateError:
            return None
        if after.is_finished:
            self._finalize(after)
        return after

    def _ready(self) -> list[str]:
        busy = set(self.in_flight.values())
        ready = []
        for experiment in self._unfinished():
            if experiment.key in busy or experiment.state == "decided":
                continue
            if self._waiting(experiment):
                continue
            ready.append(experiment.key)
        return ready

    def _waiting(self, experiment: Experiment) -> bool:
        """Parked at a gate with no answer yet (and nobody to answer automatically)."""
        if self.spec.auto_approver is not None:
            return False
        return bool(self.ledger.approvals(status="pending", experiment=experiment))

    def _fill(self, executor: Executor, deadline: float | None) -> None:
        for key in self._ready():
            if len(self.in_flight) >= self.settings.parallel:
                return
            self._submit(executor, key)
        while len(self.in_flight) < self.settings.parallel and self._may_start(deadline):
            proposed = self._propose()
            if proposed is None:
                return
            self._submit(executor, proposed)

    def _may_start(self, deadline: float | None) -> bool:
        if self.exhausted or len(self.report.started) >= self.settings.experiments:
            return False
        return deadline is None or time.monotonic() < deadline

    def _submit(self, executor: Executor, key: str) -> None:
        future = executor.submit(advance_in_worker, self.spec, key)
        self.in_flight[future] = key

    def _collect(self, future: Future[str]) -> None:
        key = self.in_flight.pop(future)
        try:
            state: str | None = future.result()
        except Exception as exc:  # a bug or a broken environment: the experiment is closed
            self.notify(f"{key}: the step failed inside recloop: {exc!r}")
            state = self._close_broken(key, exc)
        self.notify(f"{key}: {state}")
        experiment = self.ledger.find_experiment(key)
        if experiment is not None and experiment.is_finished:
            self._finalize(experiment)

    def _close_broken(self, key: str, exc: Exception) -> str:
        experiment = self.ledger.find_experiment(key)
        assert experiment is not None
        if experiment.is_finished:
            return experiment.state
        payload = {
            "stage": experiment.state,
            "cause": "harness-error",
            "sentence": repr(exc),
            "verdict": "error",
        }
        try:
            return self.machine.move(experiment, "closed", payload).state
        except StaleStateError:
            return self.ledger.get_experiment(experiment).state

    def _finalize(self, experiment: Experiment) -> None:
        if is_finalized(self.machine, experiment):
            return
        self.state = finalize(self.machine, experiment, self.brainstormer, self.state)
        self.report.finished.append(experiment.key)

    def _propose(self) -> str | None:
        """Brainstorm one proposal and record it as a new experiment; its key."""
        now = dt.datetime.now(dt.UTC)
        context = BrainstormContext.of(self.root, now, self.machine.store)
        ranked = self.brainstormer.rank(context, 1)
        if not ranked:
            self.exhausted = True
            self.notify("the brainstormer has nothing left to propose")
            return None
        choice = ranked[0]
        idea = choice.proposal
        key = f"{idea.family}-t{choice.trial}"
        known = self.ledger.find_experiment(key)
        proposal = self.ledger.add_proposal(
            key,
            family=idea.family,
            title=idea.hypothesis.split(".")[0][:200],
            level=idea.risk,
            source="catalogue-brainstormer",
            hypothesis=idea.hypothesis,
            params={k: v for k, v in idea.parameters.items()},
            payload={
                "proposal": idea.model_dump(mode="json"),
                "draw": choice.draw,
                "trial": choice.trial,
                "expected": idea.expected_effect,
            },
        )
        experiment = self.ledger.create_experiment(
            key, proposal, base_commit=context.champion.commit
        )
        self.state = LoopAgentState(memory=self.brainstormer.memory, learned=self.state.learned)
        save_state(self.root, self.state)
        if known is None:
            self.report.started.append(experiment.key)
            self.notify(f"{key}: proposed ({idea.risk}) {idea.hypothesis[:80]}")
        return None if experiment.is_finished else experiment.key


def run_loop(
    workspace: str | Path,
    settings: RunSettings | None = None,
    *,
    evaluator_factory: EvaluatorFactory | None = None,
    auto_approver: str | None = None,
    data_root: Path | None = None,
    notify: Notify | None = None,
) -> RunReport:
    """Run the loop on a workspace (see the module docstring); what it did."""
    root = Path(workspace).resolve()
    settings = settings or RunSettings()
    spec = WorkerSpec(root, evaluator_factory, auto_approver, data_root)
    with run_lock(root):
        loop = Loop(root, settings, spec, notify or (lambda _message: None))
        try:
            loop.prepare()
            with _executor(settings.parallel) as executor:
                return loop.run(executor)
        finally:
            _MACHINES.pop(root, None)
            loop.ledger.close()


@contextmanager
def _executor(parallel: int) -> Iterator[Executor]:
    if parallel == 1:
        yield InlineExecutor()
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(parallel, mp_context=context) as pool:
        yield pool
