"""Worker processes for the concurrency tests (run as a script by `conftest.run_workers`).

    python ledger_workers.py URL BARRIER_DIR INDEX TASK ARGS_JSON

opens the ledger, says it is ready, waits for the barrier's `go` file so that every worker
starts its task at the same moment, runs the task and prints its JSON result.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from recloop.ledger import Ledger, StaleStateError
from recloop.ledger.states import TERMINAL, TRANSITIONS


def advance(ledger: Ledger, experiment_id: int, from_state: str, to_state: str) -> str:
    """One compare-and-set transition: "won", or "lost:<state seen>"."""
    try:
        ledger.transition(experiment_id, from_state, to_state)  # type: ignore[arg-type]
    except StaleStateError as exc:
        return f"lost:{exc.actual}"
    return "won"


def walk(ledger: Ledger, experiment_id: int) -> list[str]:
    """Race the experiment along the main chain to `launched`; the moves this worker won."""
    won = []
    while True:
        state = ledger.get_experiment(experiment_id).state
        if state in TERMINAL:
            return won
        following = next(s for s in sorted(TRANSITIONS[state]) if s != "closed")  # type: ignore[index]
        if advance(ledger, experiment_id, state, following) == "won":
            won.append(f"{state}->{following}")


def record_stage(ledger: Ledger, experiment_id: int, candidate_id: int, index: int) -> int:
    """Record the same stage run as every other worker (only the evidence differs)."""
    run = ledger.record_stage_run(
        experiment_id,
        candidate_id,
        "structural",
        verdict="pass",
        sentence="the patch applies",
        wall_seconds=0.5,
        cpu_seconds=0.25,
        evidence={"worker": index},
    )
    return run.id


def opened(ledger: Ledger) -> int:
    """Nothing but the open, made after the barrier (so the migrations race); experiments seen."""
    return len(ledger.experiments())


def main() -> None:
    url, barrier, index, task = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    args = json.loads(sys.argv[5])
    if task == "record_stage":
        args["index"] = index
    open_first = task != "opened"
    ledger = Ledger.open(url=url, actor=f"worker-{index}") if open_first else None
    (barrier / f"ready-{index}").touch()
    while not (barrier / "go").exists():
        time.sleep(0.002)
    ledger = ledger or Ledger.open(url=url, actor=f"worker-{index}")
    result = globals()[task](ledger, **args)
    ledger.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
