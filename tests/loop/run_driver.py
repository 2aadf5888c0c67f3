"""A real `run_loop` in its own process, with a scripted online evaluator (spawned workers
import this file as their main module, so the factory is found there).

    python run_driver.py WORKSPACE EXPERIMENTS PARALLEL
"""

from __future__ import annotations

import sys

from recloop.loop.online import OnlineRequest, OnlineResult
from recloop.loop.runner import RunSettings, run_loop


class AlwaysShip:
    def evaluate(self, request: OnlineRequest) -> OnlineResult:
        return OnlineResult(
            decision="ship", report="scripted", primary_metric="consumption", primary_lift=0.1
        )


def factory() -> AlwaysShip:
    return AlwaysShip()


if __name__ == "__main__":
    root, experiments, parallel = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    settings = RunSettings(experiments=experiments, parallel=parallel)
    report = run_loop(
        root,
        settings,
        evaluator_factory=factory,
        auto_approver="demo-policy",
        notify=lambda m: print(m, flush=True),
    )
    print("done", report.started, report.launched, flush=True)
