"""Steps that raise inside recloop: retried a bounded number of times, then the experiment closes.

A step that raises (a bug, a full disk, a worker process that died) is not the candidate's
fault, and a passing fault should not cost the experiment. Each failure is written to the audit
log (`loop.step-error`, with the state the step left from, the attempt and the exception text)
before anything else, so the count survives a restart: a run started again after a kill goes on
counting where the last one stopped. Steps are idempotent (see `machine`), so a retry repeats
only the work the failed attempt did not record. After `STEP_ATTEMPTS` failures at the same
state the experiment is closed with cause `harness-error`, the attempts and the last exception.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from recloop.cascade.causes import HARNESS_ERROR
from recloop.ledger import Experiment, StaleStateError

if TYPE_CHECKING:
    from recloop.loop.machine import Machine

STEP_ATTEMPTS = 3  # one try and two retries per state
STEP_ERROR = "loop.step-error"


def attempts(machine: Machine, experiment: Experiment) -> int:
    """How often the step leaving the experiment's current state has failed (all runs)."""
    entries = machine.ledger.audit_log(experiment=experiment, action=STEP_ERROR)
    return sum(e.payload.get("state") == experiment.state for e in entries)


def step_failed(machine: Machine, experiment: Experiment, exc: BaseException) -> tuple[bool, int]:
    """Record the failure; close the experiment once its attempts are spent.

    Returns whether the step may be tried again, and this failure's attempt number.
    """
    attempt = attempts(machine, experiment) + 1
    machine.ledger.append_audit(
        STEP_ERROR,
        f"experiment:{experiment.id}",
        {"state": experiment.state, "attempt": attempt, "error": repr(exc)[:2000]},
        experiment=experiment,
    )
    if attempt < STEP_ATTEMPTS:
        return True, attempt
    payload = {
        "stage": experiment.state,
        "cause": HARNESS_ERROR,
        "sentence": f"the step failed inside recloop {attempt} times; last: {exc!r}"[:2000],
        "verdict": "error",
        "attempts": attempt,
    }
    with contextlib.suppress(StaleStateError):  # a person's rejection came first: it stands
        machine.move(experiment, "closed", payload)
    return False, attempt
