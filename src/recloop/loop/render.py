"""The loop's status for people: rich tables of the funnel, the leaderboard and the launches."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from recloop.loop.status import Status

FUNNEL_OF = {
    "awaiting_approval": "approval",
    "approval:online": "approval",
    "decided": "online",
    "approval:launch": "online",
    "forbidden_check": "develop",
}


def _num(value: float | None, spec: str = ".4f") -> str:
    return "—" if value is None else format(value, spec)


def print_status(console: Console, status: Status) -> None:
    funnel = Table(title=f"Funnel ({status.experiments} experiments, {status.finished} finished)")
    funnel.add_column("stage")
    funnel.add_column("reached", justify="right")
    funnel.add_column("stopped here, why")
    for stage, count in status.funnel.items():
        stopped: dict[str, int] = {}
        for where, causes in status.stopped.items():
            if FUNNEL_OF.get(where, where) == stage:
                for cause, n in causes.items():
                    stopped[cause] = stopped.get(cause, 0) + n
        why = ", ".join(
            f"{n}× {cause}" for cause, n in sorted(stopped.items(), key=lambda x: -x[1])
        )
        funnel.add_row(stage, str(count), why)
    console.print(funnel)
    board = Table(
        title=f"Leaderboard (offline {status.primary_metric} vs the champion of its time)"
    )
    for column in ("experiment", "lvl", "result", "champion", "cand.", "Δ", "online", "lift"):
        board.add_column(
            column,
            justify="left" if column in ("experiment", "lvl", "result", "online") else "right",
        )
    for row in status.leaderboard:
        where = FUNNEL_OF.get(row.stopped_at, row.stopped_at)
        state = row.state if row.state != "closed" else f"{where}: {row.cause}"
        board.add_row(
            row.experiment,
            row.level,
            state,
            _num(row.offline_champion),
            _num(row.offline_candidate),
            _num(row.offline_difference, "+.4f"),
            row.online_decision or "—",
            _num(row.online_lift, "+.1%"),
        )
    console.print(board)
    if status.launched:
        console.print("Launched: " + ", ".join(r.experiment for r in status.launched))
    else:
        console.print("Launched: nothing yet")
    console.print(gain_sentence(status))
    if status.llm_usage or status.playbooks:
        console.print(llm_table(status))
    if status.pending_approvals:
        console.print(
            f"{status.pending_approvals} approval(s) wait for a person: recloop approvals"
        )


def llm_table(status: Status) -> Table:
    """LLM calls, tokens and cost per agent, and each LLM agent's playbook in force."""
    table = Table(title="LLM agents")
    for column in ("agent", "calls", "tokens in", "tokens out", "cost (USD)", "playbook"):
        table.add_column(column, justify="left" if column in ("agent", "playbook") else "right")
    agents = dict.fromkeys([*status.playbooks, *status.llm_usage])
    for agent in sorted(agents, key=lambda a: a == "total"):  # the total last
        usage = status.llm_usage.get(agent)
        playbook = status.playbooks.get(agent)
        figures = (
            ("0", "0", "0", "—")
            if usage is None
            else (
                str(usage.calls),
                str(usage.tokens_in),
                str(usage.tokens_out),
                f"{usage.cost_usd:.4f}",
            )
        )
        version = "" if playbook is None else f"v{playbook.version} ({playbook.status})"
        table.add_row(agent, *figures, version)
    return table


SOURCES = {
    "champion-cache": "the champion's own measurement",
    "offline-stage": "its offline-stage measurement",
}


def gain_sentence(status: Status) -> str:
    """The champion's gain over the starting point, saying what was measured and what is not."""
    sources = " / ".join(dict.fromkeys(SOURCES[s] for s in status.offline_sources.values()))
    offline = (
        f"Champion vs the starting point, offline {status.primary_metric} (measured by recloop's "
        f"evaluator{': ' + sources if sources else ''}): {_num(status.offline_start)} → "
        f"{_num(status.offline_now)} ({_num(status.offline_gain, '+.1%')})."
    )
    if not status.launched:
        return offline + " Online: no launch yet."
    lifts = ", ".join(_num(lift, "+.1%") for lift in status.online_lifts)
    return (
        f"{offline} Online, each launch's measured lift against the champion of its time: "
        f"{lifts}; compounded over the launches (an estimate, not measured against the start): "
        f"{_num(status.online_gain_compounded, '+.1%')}."
    )
