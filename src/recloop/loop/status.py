"""What the loop has done in a workspace: the funnel, the leaderboard, launches, the gain.

Everything is read from the ledger: where each finished experiment stopped and why (the closing
transition's payload), the offline primary metric against the champion of its time, the online
decision and lift, and the launches that moved the champion.

The gain over the starting point is said as measured where it is: offline, the starting
champion's and today's champion's primary metric, both measured by recloop's trusted evaluator
(the champion cache, `cascade.champion.cached_summaries`; a champion launched but not measured
since falls back on its own offline-stage figure, the same evaluator on the same commit).
Online, each launch's lift was measured against the champion of its time only; their product is
reported as *compounded*, an estimate nobody measured (None when a launch has no measured lift).

With LLM agents, the LLM calls' totals per agent (its reflections apart) and each LLM agent's
playbook version in force: the trial while one is being measured, else the newest accepted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from recloop.agents.llm import BRAINSTORMER, DEVELOPER
from recloop.agents.llm.playbook import version_in_force
from recloop.agents.llm.reflect import reflector
from recloop.agents.posterior import PLAYBOOK_AGENT
from recloop.cascade.champion import cached_summaries
from recloop.ledger import Experiment, Ledger

Source = Literal["champion-cache", "offline-stage"]
LLM_AGENTS = (BRAINSTORMER, DEVELOPER)

FUNNEL_STAGES = (
    "proposed",
    "forbidden",
    "develop",
    "structural",
    "semantic",
    "local",
    "offline",
    "approval",
    "online",
    "launched",
)
REACHED = {
    "proposed": 0,
    "forbidden_check": 1,
    "developed": 2,
    "structural": 3,
    "semantic": 4,
    "local": 5,
    "offline": 6,
    "awaiting_approval": 7,
    "online": 8,
    "decided": 8,
    "launched": 9,
}


@dataclass
class Row:
    """One experiment on the leaderboard."""

    experiment: str
    family: str
    level: str
    state: str
    stopped_at: str
    cause: str
    offline_champion: float | None = None
    offline_candidate: float | None = None
    offline_difference: float | None = None
    online_decision: str | None = None
    online_lift: float | None = None


@dataclass
class LLMTotals:
    """One agent's LLM calls: how many, their tokens and cost."""

    calls: int
    tokens_in: int
    tokens_out: int
    cost_usd: float


@dataclass
class PlaybookInForce:
    """The playbook version an LLM agent's new experiments run with."""

    version: int
    status: Literal["trial", "accepted", "default"]  # measured now / kept / nothing scored yet
    outcome_rate: float | None


@dataclass
class Status:
    """The funnel, the leaderboard, the launches and the champion's gain."""

    primary_metric: str
    experiments: int
    finished: int
    funnel: dict[str, int] = field(default_factory=dict)  # passed each stage
    stopped: dict[str, dict[str, int]] = field(default_factory=dict)  # stage -> cause -> count
    leaderboard: list[Row] = field(default_factory=list)
    launched: list[Row] = field(default_factory=list)
    pending_approvals: int = 0
    offline_start: float | None = None  # the starting champion's primary metric, measured
    offline_now: float | None = None  # today's champion's, measured
    offline_sources: dict[str, Source] = field(default_factory=dict)  # start/now -> where from
    online_lifts: list[float | None] = field(default_factory=list)  # each launch's, measured
    online_gain_compounded: float | None = None  # product of the launches' lifts: not measured
    posterior_version: int | None = None  # the brainstormer's current playbook version
    llm_usage: dict[str, LLMTotals] = field(default_factory=dict)  # agent -> its calls' totals
    playbooks: dict[str, PlaybookInForce] = field(default_factory=dict)  # LLM agent -> version

    @property
    def offline_gain(self) -> float | None:
        if self.offline_start in (None, 0.0) or self.offline_now is None:
            return None
        assert self.offline_start is not None
        return self.offline_now / self.offline_start - 1.0

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["offline_gain"] = self.offline_gain
        return data


def workspace_status(ledger: Ledger, primary_metric: str, root: Path | None = None) -> Status:
    """The workspace's status from its ledger (and, given `root`, its champion cache)."""
    experiments = ledger.experiments()
    status = Status(
        primary_metric=primary_metric,
        experiments=len(experiments),
        finished=sum(e.is_finished for e in experiments),
    )
    reached: Counter[int] = Counter()
    for experiment in experiments:
        row = _row(ledger, experiment, primary_metric)
        status.leaderboard.append(row)
        reached[_depth(ledger, experiment)] += 1
        if experiment.state == "closed":
            status.stopped.setdefault(row.stopped_at, Counter())[row.cause] += 1
        if experiment.state == "launched":
            status.launched.append(row)
    status.funnel = {
        stage: sum(n for depth, n in reached.items() if depth >= i)
        for i, stage in enumerate(FUNNEL_STAGES)
    }
    status.stopped = {k: dict(v) for k, v in status.stopped.items()}
    status.leaderboard.sort(key=lambda r: -(r.offline_difference or float("-inf")))
    status.pending_approvals = len(ledger.approvals(status="pending"))
    current = ledger.current_playbook(PLAYBOOK_AGENT)
    status.posterior_version = None if current is None else current.version
    status.llm_usage = llm_totals(ledger)
    status.playbooks = {
        agent: found for agent in LLM_AGENTS if (found := playbook_in_force(ledger, agent))
    }
    _gains(status, ledger, {} if root is None else cached_summaries(root))
    return status


def llm_totals(ledger: Ledger) -> dict[str, LLMTotals]:
    """Each LLM agent's and its reflection's call totals (those with calls), and all of them."""
    names = [name for agent in LLM_AGENTS for name in (agent, reflector(agent))]
    usages = {name: ledger.llm_usage(agent=name) for name in (*names, None)}
    return {
        name or "total": LLMTotals(u.calls, u.tokens_in, u.tokens_out, u.cost_usd)
        for name, u in usages.items()
        if u.calls
    }


def playbook_in_force(ledger: Ledger, agent: str) -> PlaybookInForce | None:
    """The version the agent's new experiments run with (`PlaybookKeeper.in_force`); None
    before the agent ran."""
    version = version_in_force(ledger.playbook_versions(agent))
    if version is None:
        return None
    if version.accepted:
        return PlaybookInForce(version.version, "accepted", version.outcome_rate)
    trial = version.parent_version is not None
    return PlaybookInForce(version.version, "trial" if trial else "default", None)


def _depth(ledger: Ledger, experiment: Experiment) -> int:
    """How far the experiment got (an index in `FUNNEL_STAGES`)."""
    deepest = 0
    for entry in ledger.history(experiment):
        to = entry.payload.get("to")
        if to in REACHED:
            deepest = max(deepest, REACHED[to])
    return deepest


def _row(ledger: Ledger, experiment: Experiment, primary: str) -> Row:
    proposal = ledger.get_proposal(experiment.proposal_id)
    history = ledger.history(experiment)
    last = history[-1].payload.get("payload", {}) if history else {}
    closed = experiment.state == "closed"
    row = Row(
        experiment=experiment.key,
        family=proposal.family,
        level=proposal.level,
        state=experiment.state,
        stopped_at=str(last.get("stage", "")) if closed else "",
        cause=str(last.get("cause", "")) if closed else "",
    )
    for metric in ledger.metrics(experiment, kind="offline"):
        if metric.name == primary:
            row.offline_candidate = metric.value
            row.offline_champion = metric.payload.get("champion")
            row.offline_difference = metric.payload.get("difference")
    decision = ledger.get_decision(experiment)
    if decision is not None:
        row.online_decision = decision.outcome
        lift = decision.rule_outcome.get("primary_lift")
        row.online_lift = float(lift) if isinstance(lift, int | float) else None
    return row


def _gains(status: Status, ledger: Ledger, measured: dict[str, dict[str, float]]) -> None:
    """The gain over the starting point (see the module docstring)."""
    moves = ledger.audit_log(action="champion.move")
    experiments = ledger.experiments()
    start = moves[0].payload.get("from") if moves else None
    if start is None and experiments:
        start = experiments[0].base_commit
    now = moves[-1].payload.get("to") if moves else start
    primary = status.primary_metric
    rows = sorted(status.leaderboard, key=lambda r: _created(ledger, r.experiment))
    first = next((r for r in rows if r.offline_champion is not None), None)
    last = max(status.launched, key=lambda r: _created(ledger, r.experiment), default=None)
    began = None if first is None else first.offline_champion
    staged = {"start": began, "now": began if last is None else last.offline_candidate}
    for when, commit in (("start", start), ("now", now)):
        value = measured.get(str(commit), {}).get(primary)
        source: Source = "champion-cache"
        if value is None:
            value, source = staged[when], "offline-stage"
        if value is not None:
            setattr(status, f"offline_{when}", value)
            status.offline_sources[when] = source
    status.online_lifts = [r.online_lift for r in status.launched]
    if status.launched and None not in status.online_lifts:
        lifts = np.array(status.online_lifts, dtype=float)
        status.online_gain_compounded = float(np.prod(1.0 + lifts) - 1.0)


def _created(ledger: Ledger, key: str) -> int:
    experiment = ledger.find_experiment(key)
    return 0 if experiment is None else experiment.id
