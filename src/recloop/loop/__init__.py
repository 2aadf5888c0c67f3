"""The loop: proposals → development → cascade → approval → online A/B → decision → launch.

- `machine`: one experiment's state machine (`Machine`, `step`, `advance`), every transition a
  committed compare-and-set ledger write, every step idempotent;
- `runner`: `run_loop` with budgets (experiments, wall time, LLM tokens and cost) and
  `parallel` worker processes (`workers`), resumable after a kill at any moment;
- `propose`: a brainstormer's choice recorded as a new experiment; `llm_agents`: which agents
  run (`--agents`), the LLM brainstormer, developer, budget and playbook keepers in the loop;
- `approvals`: the autonomy gates (`online` by level, `launch`), `approve` / `reject`;
- `launch`: the champion moves (a fast-forward of the main branch) only on a launch;
- `online`: the `OnlineEvaluator` port and its request/result; `status`: the funnel, the
  leaderboard, the launches and the champion's gain; `demo`: `recloop demo`;
- `commands`: `recloop run | approvals | approve | reject | status | demo`.
"""

from recloop.loop.approvals import (
    DEMO_APPROVER,
    ApprovalError,
    PendingApproval,
    approve,
    needs_approval,
    pending_approvals,
    reject,
)
from recloop.loop.machine import Machine, Parked, advance, step
from recloop.loop.online import (
    OnlineEvaluator,
    OnlineRequest,
    OnlineResult,
    OnlineUnavailableError,
    agent_evaluator,
)
from recloop.loop.runner import RunLockedError, RunReport, RunSettings, run_loop

__all__ = [
    "DEMO_APPROVER",
    "ApprovalError",
    "Machine",
    "OnlineEvaluator",
    "OnlineRequest",
    "OnlineResult",
    "OnlineUnavailableError",
    "Parked",
    "PendingApproval",
    "RunLockedError",
    "RunReport",
    "RunSettings",
    "advance",
    "agent_evaluator",
    "approve",
    "needs_approval",
    "pending_approvals",
    "reject",
    "run_loop",
    "step",
]
