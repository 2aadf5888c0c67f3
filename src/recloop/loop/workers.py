"""The run loop's worker side: each worker process builds its own `Machine` (and ledger).

Workers are spawned (`multiprocessing` "spawn"), so all they get is a picklable `WorkerSpec`;
each keeps one `Machine` per workspace for its life. With `parallel = 1` the loop runs every
step in its own process through `InlineExecutor` instead of a pool. With LLM settings in the
spec, a worker's `Machine` develops with the LLM developer (`llm_agents.llm_developer`) on the
run's budget, counted from the run's start.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recloop.agents.llm import LLMConfig
from recloop.knowledge import workspace_store
from recloop.ledger import Ledger
from recloop.loop.llm_agents import PlaybookDeveloper, llm_developer
from recloop.loop.machine import Machine, advance
from recloop.loop.online import OnlineEvaluator
from recloop.workspace.manifest import load_manifest

EvaluatorFactory = Callable[[], OnlineEvaluator | None]


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker process needs to build its own `Machine` (picklable)."""

    root: Path
    evaluator_factory: EvaluatorFactory | None
    auto_approver: str | None
    data_root: Path | None
    llm: LLMConfig | None = None  # develop with the LLM (None: the catalogue developer)
    run_started: dt.datetime | None = None  # the run's LLM budgets count from here


_MACHINES: dict[Path, Machine] = {}


def machine_for(spec: WorkerSpec) -> Machine:
    """This process's `Machine` for the spec's workspace (built once)."""
    machine = _MACHINES.get(spec.root)
    if machine is None:
        evaluator = spec.evaluator_factory() if spec.evaluator_factory is not None else None
        ledger = Ledger.open(spec.root)
        developer = None
        if spec.llm is not None:
            manifest = load_manifest(spec.root)
            developer = llm_developer(
                spec.root, manifest, ledger, spec.llm, spec.run_started, spec.data_root
            )
        machine = Machine(
            spec.root,
            ledger,
            workspace_store(spec.root),
            evaluator,
            developer=developer,
            auto_approver=spec.auto_approver,
            data_root=spec.data_root,
        )
        _MACHINES[spec.root] = machine
    return machine


def advance_in_worker(spec: WorkerSpec, key: str) -> str:
    """Advance one experiment in this process (up to its decision); its state after."""
    return advance(machine_for(spec), key).state


def forget_machine(root: Path) -> Machine | None:
    """Drop this process's `Machine` for `root`, closing its LLM client; the machine, whose
    ledger the caller closes."""
    machine = _MACHINES.pop(root, None)
    if machine is not None and isinstance(machine.developer, PlaybookDeveloper):
        machine.developer.close()
    return machine


class InlineExecutor(Executor):
    """Runs each call at submission, in this process (`parallel = 1`)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to the caller through the future
            future.set_exception(exc)
        return future


@contextmanager
def executor_for(parallel: int) -> Iterator[Executor]:
    """A pool of `parallel` spawned workers, or the inline executor for one."""
    if parallel == 1:
        yield InlineExecutor()
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(parallel, mp_context=context) as pool:
        yield pool
