"""The run loop: propose, advance P experiments at once, launch, learn — within budgets.

    run_loop(workspace, RunSettings(experiments=10, hours=1.0, parallel=2))

On start the loop takes the workspace's run lock, finishes a merge a crash interrupted, prunes
orphaned worktrees and branches, finalizes experiments that finished without it, and resumes
every unfinished experiment before proposing new ones (resuming is the default path: a run
killed at any moment and started again loses nothing and does nothing twice). Then, while the
budgets last (`experiments` new ones; no new one after `hours`), it keeps `parallel` experiments
in flight, each advanced by `machine.advance` in a worker process (spawned, each opening its own
ledger) up to its decision; launches and approvals are handled here, one at a time, so the
champion moves in one place. A step that raises inside recloop is retried a bounded number of
times before the experiment closes (`step_errors`).

An experiment waiting for a person is parked and the loop moves on; every pass (at least every
`poll_seconds` while workers run) it reads the ledger for answers given meanwhile — `recloop
approve` or `reject` from another process — and resumes or finalizes the experiment at once.
When nothing else is left to do but parked experiments remain, the run waits for answers up to
`wait_approvals` minutes of idleness (default 0: it returns, and the next run picks them up).

With an LLM (`agents`, `llm_agents`) the LLM brainstormer proposes — the catalogue standing in
for a proposal when the model is unreachable or answers nothing usable — and the workers develop
with the LLM; after each finished experiment the playbooks are scored and reflected on. When an
LLM budget of the run is spent (found when brainstorming, reflecting or after an experiment
finished) no experiment starts any more, those in flight finish, and the report says which
budget (`budget_spent`).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from recloop.agents import BrainstormContext, CatalogueBrainstormer
from recloop.agents.llm import BudgetExhausted
from recloop.cascade.context import prune_champion_checkouts
from recloop.filelock import LockHeldError, exclusive
from recloop.ledger import Experiment, StaleStateError
from recloop.loop.finalize import finalize, is_finalized
from recloop.loop.launch import recover_checkout
from recloop.loop.llm_agents import AgentChoice, LLMSide, choose_llm
from recloop.loop.machine import advance
from recloop.loop.memory import LoopAgentState, load_state, save_state
from recloop.loop.propose import CATALOGUE, Choice, catalogue_choice, record
from recloop.loop.step_errors import step_failed
from recloop.loop.workers import (
    EvaluatorFactory,
    WorkerSpec,
    advance_in_worker,
    executor_for,
    forget_machine,
    machine_for,
)
from recloop.workspace.manifest import RECLOOP_DIR, load_manifest

Notify = Callable[[str], None]
LOCK_FILE = f"{RECLOOP_DIR}/loop/run.lock"


class RunSettings(BaseModel):
    """The run's budgets and parallelism."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    experiments: int = Field(default=10, ge=0)  # new experiments this run may start
    hours: float | None = Field(default=None, gt=0)  # no new experiment after this wall time
    parallel: int = Field(default=1, ge=1)  # experiments in flight at once (worker processes)
    seed: int = 0  # the brainstormer's seed
    wait_approvals: float = Field(default=0.0, ge=0)  # idle minutes to wait for people's answers
    poll_seconds: float = Field(default=1.0, gt=0)  # how often answers are looked for
    agents: AgentChoice = "auto"  # auto: the LLM agents when an LLM is configured
    reflect_every: int = Field(default=5, ge=1)  # experiments per playbook batch (LLM agents)


@dataclass
class RunReport:
    """What one run did."""

    started: list[str] = field(default_factory=list)
    resumed: list[str] = field(default_factory=list)
    finished: list[str] = field(default_factory=list)
    launched: list[str] = field(default_factory=list)
    parked: list[str] = field(default_factory=list)
    seconds: float = 0.0
    agents: str = "catalogue"  # the agents that ran: "llm" or "catalogue"
    budget_spent: str | None = None  # which LLM budget stopped new experiments, with figures


class RunLockedError(RuntimeError):
    """Another run holds this workspace's run lock."""


@contextmanager
def run_lock(root: Path) -> Iterator[None]:
    with ExitStack() as stack:
        try:
            stack.enter_context(exclusive(root / LOCK_FILE, wait=False))
        except LockHeldError as exc:
            raise RunLockedError(f"another recloop run is working in {root}") from exc
        yield


# -- the loop ----------------------------------------------------------------------------------


class Loop:
    """One run over one workspace (see the module docstring)."""

    def __init__(self, root: Path, settings: RunSettings, spec: WorkerSpec, notify: Notify) -> None:
        self.root, self.settings, self.spec, self.notify = root, settings, spec, notify
        self.machine = machine_for(spec)
        self.ledger = self.machine.ledger
        self.state = load_state(root, self.ledger)
        self.brainstormer = CatalogueBrainstormer(memory=self.state.memory, seed=settings.seed)
        self.llm: LLMSide | None = None
        if spec.llm is not None:
            assert spec.run_started is not None
            self.llm = LLMSide(self.ledger, spec.llm, spec.run_started, settings.reflect_every)
            self.llm.recall(self.machine, self.state.learned)
        self.report = RunReport(agents="catalogue" if self.llm is None else "llm")
        self.in_flight: dict[Future[str], str] = {}
        self.exhausted = False
        self.parked: set[str] = set()  # waiting for a person at the last look
        self.idle_since: float | None = None

    def prepare(self) -> None:
        recover_checkout(self.root)
        prune_champion_checkouts(self.root, self.machine.candidates.champion_commit())
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
            self._pick_up_answers()
            self._main_steps()
            self._fill(executor, deadline)
            self.parked |= {e.key for e in self._unfinished() if self._waiting(e)}
            if self.in_flight:
                self.idle_since = None
                done, _ = wait(
                    list(self.in_flight),
                    timeout=self.settings.poll_seconds,
                    return_when=FIRST_COMPLETED,
                )
                for future in done:
                    self._collect(future)
            elif self._keep_waiting():
                time.sleep(self.settings.poll_seconds)
            else:
                break
        for experiment in self.ledger.experiments(states=["closed"]):
            self._finalize(experiment)  # closed by a person between two looks
        self.report.parked = [e.key for e in self._unfinished()]
        self.report.seconds = time.monotonic() - started
        return self.report

    # -- internals -------------------------------------------------------------------------------

    def _unfinished(self) -> list[Experiment]:
        return [e for e in self.ledger.experiments() if not e.is_finished]

    def _main_steps(self) -> None:
        """Launch or close decided experiments (a failed launch step is retried here)."""
        for experiment in self._unfinished():
            if experiment.key in self.in_flight.values() or experiment.state != "decided":
                continue
            after: Experiment | None = experiment
            while after is not None and after.state == "decided" and not self._waiting(after):
                after = self._advance_here(after.key)
            if after is not None and after.state == "launched":
                self.report.launched.append(after.key)
                self.notify(f"{after.key}: launched — the champion moved")

    def _advance_here(self, key: str) -> Experiment | None:
        """Advance in this process; None when someone else moved it meanwhile."""
        try:
            after: Experiment | None = advance(self.machine, key, launch=True)
        except StaleStateError:
            return None
        except Exception as exc:  # a bug or a broken environment: retried, then closed
            self._failed(key, exc)
            after = self.ledger.find_experiment(key)
        if after is not None and after.is_finished:
            self._finalize(after)
        return after

    def _pick_up_answers(self) -> None:
        """Resume or finalize experiments a person answered since the last look."""
        for key in sorted(self.parked):
            experiment = self.ledger.find_experiment(key)
            if experiment is None or self._waiting(experiment):
                continue
            self.parked.discard(key)
            if not experiment.is_finished:
                self.notify(f"{key}: answered; resuming")
            elif not is_finalized(self.machine, experiment):
                self.notify(f"{key}: {experiment.state} on a person's answer")
                self._finalize(experiment)

    def _keep_waiting(self) -> bool:
        """Whether to wait (idle) for people's answers to parked experiments."""
        if not self.parked or self.settings.wait_approvals <= 0:
            return False
        now = time.monotonic()
        if self.idle_since is None:
            self.idle_since = now
            minutes = self.settings.wait_approvals
            self.notify(
                f"waiting up to {minutes:g} min for answers: {', '.join(sorted(self.parked))} "
                "(recloop approvals)"
            )
        if now - self.idle_since < self.settings.wait_approvals * 60:
            return True
        self.notify("no answer came in time; the next run picks them up")
        return False

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
        if self.exhausted or self.report.budget_spent is not None:
            return False
        if len(self.report.started) >= self.settings.experiments:
            return False
        return deadline is None or time.monotonic() < deadline

    def _submit(self, executor: Executor, key: str) -> None:
        future = executor.submit(advance_in_worker, self.spec, key)
        self.in_flight[future] = key

    def _collect(self, future: Future[str]) -> None:
        key = self.in_flight.pop(future)
        self.idle_since = None
        try:
            state = future.result()
        except Exception as exc:  # a bug or a broken environment: retried, then closed
            state = self._failed(key, exc)
        self.notify(f"{key}: {state}")
        experiment = self.ledger.find_experiment(key)
        if experiment is not None and experiment.is_finished:
            self._finalize(experiment)

    def _failed(self, key: str, exc: Exception) -> str:
        """Record a step that raised inside recloop (`step_errors`); the experiment's state."""
        experiment = self.ledger.find_experiment(key)
        assert experiment is not None
        if experiment.is_finished:
            return experiment.state
        again, attempt = step_failed(self.machine, experiment, exc)
        what = "retrying" if again else "closing it"
        self.notify(
            f"{key}: the step after {experiment.state} failed inside recloop "
            f"(attempt {attempt}), {what}: {exc!r}"
        )
        return self.ledger.get_experiment(experiment).state

    def _finalize(self, experiment: Experiment) -> None:
        if is_finalized(self.machine, experiment):
            return
        learners = () if self.llm is None else (self.llm.brainstormer,)
        self.state = finalize(self.machine, experiment, self.brainstormer, self.state, learners)
        self.report.finished.append(experiment.key)
        self._reflect()

    def _reflect(self) -> None:
        """Score and reflect on the playbooks whose batch is complete."""
        if self.llm is None or self.report.budget_spent is not None:
            return
        try:
            self.llm.reflect(self.notify)
        except BudgetExhausted as exc:
            self._budget_spent(exc)

    def _budget_spent(self, exc: BudgetExhausted) -> None:
        self.report.budget_spent = f"{exc.budget} used {exc.used:g} of {exc.limit:g}"
        self.notify(
            f"LLM budget spent: {self.report.budget_spent}; no new experiment starts, "
            "those in flight finish"
        )

    def _choose(self, context: BrainstormContext) -> Choice | None:
        """The LLM's proposal when it gives one; else the catalogue's."""
        if self.llm is not None:
            try:
                chosen = self.llm.choose(context, self.notify)
            except BudgetExhausted as exc:
                self._budget_spent(exc)
                return None
            if chosen is not None:
                return chosen
        choice = catalogue_choice(self.brainstormer, context)
        if choice is None:
            self.exhausted = True
            self.notify("the brainstormer has nothing left to propose")
        return choice

    def _propose(self) -> str | None:
        """Brainstorm one proposal and record it as a new experiment; its key."""
        now = dt.datetime.now(dt.UTC)
        context = BrainstormContext.of(self.root, now, self.machine.store)
        choice = self._choose(context)
        if choice is None:
            return None
        known = self.ledger.find_experiment(choice.key)
        tags = None
        if self.llm is not None and known is None:
            tags = self.llm.tag(proposed_by_llm=choice.source != CATALOGUE)
        experiment = record(self.ledger, choice, context.champion.commit, tags)
        self.state = LoopAgentState(memory=self.brainstormer.memory, learned=self.state.learned)
        save_state(self.root, self.state)
        if known is None:
            self.report.started.append(experiment.key)
            idea = choice.idea
            self.notify(
                f"{choice.key}: proposed by {choice.source} ({idea.risk}) {idea.hypothesis[:80]}"
            )
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
    llm = choose_llm(settings.agents, load_manifest(root))
    started = dt.datetime.now(dt.UTC)
    spec = WorkerSpec(root, evaluator_factory, auto_approver, data_root, llm, started)
    with run_lock(root):
        loop: Loop | None = None
        try:
            loop = Loop(root, settings, spec, notify or (lambda _message: None))
            loop.prepare()
            with executor_for(settings.parallel) as executor:
                return loop.run(executor)
        finally:
            machine = forget_machine(root)
            if loop is not None and loop.llm is not None:
                loop.llm.close()
            if machine is not None:
                machine.ledger.close()
