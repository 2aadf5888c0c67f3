"""The real online evaluator: the Evaluation agent (`recloop.agents.evaluate`) on the simulator.

Both arms are the workspace's own code run in the sandbox (`SandboxedRecommender`): the
champion's clean checkout as control, the candidate's worktree as treatment. The simulated world
follows the workspace's data: MovieLens 100K for `ml-100k`, the synthetic world otherwise.
"""

from __future__ import annotations

import math

from recloop.agents.evaluate import EvaluationAgent
from recloop.agents.online import OnlineOutcome
from recloop.loop.online import OnlineRequest, OnlineResult
from recloop.sim.config import SimConfig, TrafficConfig, WorldName
from recloop.workspace.sandbox import SandboxLimits
from recloop.workspace.sandboxed_recommender import SandboxedRecommender

DAILY_USERS = 20_000


class AgentOnlineEvaluator:
    """`OnlineEvaluator` over the Evaluation agent (see the module docstring)."""

    def __init__(self, daily_users: int = DAILY_USERS) -> None:
        self.daily_users = daily_users

    def evaluate(self, request: OnlineRequest) -> OnlineResult:
        world: WorldName = "ml-100k" if request.manifest.data.dataset == "ml-100k" else "synthetic"
        sim = SimConfig(
            world=world,
            traffic=TrafficConfig(daily_users=self.daily_users),
            pre_days=7,
            oracle_daily_users=0,
        )
        agent = EvaluationAgent(sim=sim)
        budget = request.manifest.budgets.online
        limits = SandboxLimits(
            wall_seconds=budget.wall_seconds,
            memory_mb=budget.memory_mb,
            cpu_seconds=budget.cpu_seconds or budget.wall_seconds,
        )
        rec = request.manifest.recommender
        arms = [
            SandboxedRecommender(
                path,
                rec.entry_point,
                limits=limits,
                source_dir=rec.source_dir,
                hidden_paths=request.hidden_paths,
            )
            for path in (request.champion, request.candidate)
        ]
        outcome = agent.evaluate(
            arms[0],
            arms[1],
            request.settings,
            request.change_summary,
            experiment=request.experiment.replace("-", "_"),
        )
        return result_of(outcome)


def result_of(outcome: OnlineOutcome) -> OnlineResult:
    """The loop's record of the agent's outcome."""
    attribution = outcome.attribution
    analysis = attribution.analysis
    primary = analysis.settings.primary[0] if analysis.settings.primary else ""
    effects = {
        name: float(metric.relative_effect)
        for name, metric in analysis.metrics.items()
        if metric.relative_effect is not None and math.isfinite(metric.relative_effect)
    }
    return OnlineResult(
        decision=outcome.decision,
        report=attribution.explanation,
        primary_metric=primary,
        primary_lift=effects.get(primary),
        metrics=effects,
        details={
            "stop": attribution.stop.message,
            "stop_reason": attribution.stop.reason,
            "stop_day": attribution.stop.day,
            "horizon_days": attribution.stop.horizon_days,
            "samples_used": attribution.samples.used,
            "attribution": analysis.report(),  # the structured attribution, for the knowledge base
            "truth": outcome.truth or {},
        },
    )
