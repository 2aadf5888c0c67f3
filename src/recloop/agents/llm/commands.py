"""`recloop llm calls | show | replay`: audit the LLM calls the ledger keeps, and replay them.

    recloop llm calls [--workspace DIR] [--experiment KEY] [--agent NAME] [--json]
    recloop llm show ID [--workspace DIR]
    recloop llm replay --experiment KEY [--workspace DIR] [--port N]

`register(app)` adds the `llm` group to the root app. The ledger is the workspace's (or the one
`RECLOOP_LEDGER_URL` names); these commands only read it, and refuse a workspace that has none
rather than create an empty one. Results go to stdout, errors to stderr with exit code 1.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import BaseModel
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from recloop.agents.llm.replay import Replay
from recloop.agents.llm.scripted import ScriptedLLMServer
from recloop.agents.llm.settings import ENV_OVERRIDES
from recloop.console import command_error
from recloop.ledger import Ledger, LedgerError, LLMCall, NotFoundError
from recloop.ledger.engine import URL_ENV, resolve_url

llm_app = typer.Typer(
    help="The LLM calls the ledger keeps: list them, show one, replay an experiment's.",
    no_args_is_help=True,
)
err = Console(stderr=True)
out = Console(width=max(Console().width, 120))
Workspace = Annotated[
    Path, typer.Option("--workspace", "-w", file_okay=False, help="The workspace folder.")
]
BASE_URL_ENV = next(name for name, field in ENV_OVERRIDES.items() if field == "base_url")
PROVIDER_ENV = next(name for name, field in ENV_OVERRIDES.items() if field == "provider")


class CallRow(BaseModel):
    """One call as `calls` lists it (prompt and response are `show`'s)."""

    id: int
    at: datetime
    agent: str
    experiment: str | None
    model: str
    tokens_in: int
    tokens_out: int
    cost_usd: float
    latency_seconds: float
    error: str | None


class AgentTotals(BaseModel):
    agent: str
    calls: int = 0
    errors: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0


class CallsReport(BaseModel):
    """What `calls --json` prints."""

    calls: list[CallRow]
    totals: list[AgentTotals]


def register(app: typer.Typer) -> None:
    """Add the `llm` command group to the root app."""
    app.add_typer(llm_app, name="llm")


@contextmanager
def _ledger(workspace: Path) -> Iterator[Ledger]:
    """The workspace's existing ledger; a ledger error is the command's error."""
    try:
        url = resolve_url(workspace)
        database = url.database or ""
        if url.get_backend_name() == "sqlite" and database and not Path(database).exists():
            raise command_error(
                f"no ledger at {database}: run the loop in {workspace} first, "
                f"or point ${URL_ENV} at the ledger"
            )
        with Ledger.open(workspace) as ledger:
            yield ledger
    except LedgerError as exc:
        raise command_error(exc) from exc


def _experiment_id(ledger: Ledger, key: str) -> int:
    found = ledger.find_experiment(key)
    if found is None:
        raise command_error(f"no experiment {key!r} in the ledger")
    return found.id


def summarise(calls: list[LLMCall], keys: dict[int, str]) -> CallsReport:
    """The calls as rows and their totals per agent (`keys`: experiment id -> key)."""
    rows = [
        CallRow(
            id=c.id,
            at=c.created_at,
            agent=c.agent,
            experiment=None if c.experiment_id is None else keys.get(c.experiment_id),
            model=c.model,
            tokens_in=c.tokens_in,
            tokens_out=c.tokens_out,
            cost_usd=c.cost_usd,
            latency_seconds=c.latency_seconds,
            error=c.error,
        )
        for c in calls
    ]
    totals: dict[str, AgentTotals] = {}
    for row in rows:
        total = totals.setdefault(row.agent, AgentTotals(agent=row.agent))
        total.calls += 1
        total.errors += row.error is not None
        total.tokens_in += row.tokens_in
        total.tokens_out += row.tokens_out
        total.cost_usd += row.cost_usd
    return CallsReport(calls=rows, totals=sorted(totals.values(), key=lambda t: t.agent))


@llm_app.command("calls")
def calls_command(
    workspace: Workspace = Path("."),
    experiment: Annotated[
        str | None, typer.Option(help="Only this experiment's calls (its key).")
    ] = None,
    agent: Annotated[str | None, typer.Option(help="Only this agent's calls.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """List the recorded LLM calls, with totals per agent."""
    with _ledger(workspace) as ledger:
        exp_id = None if experiment is None else _experiment_id(ledger, experiment)
        calls = ledger.llm_calls(experiment=exp_id, agent=agent)
        keys = {e.id: e.key for e in ledger.experiments()}
    report = summarise(calls, keys)
    if as_json:
        print(report.model_dump_json(indent=2))
        return
    if not report.calls:
        out.print("No LLM call is recorded" + (" for that filter." if experiment or agent else "."))
        return
    out.print(_calls_table(report.calls))
    for row in report.calls:
        if row.error is not None:
            out.print(Text(f"error of call {row.id}: {row.error}", style="red"))
    out.print(_totals_table(report.totals))


def _calls_table(rows: list[CallRow]) -> Table:
    table = Table(title=f"{len(rows)} LLM call(s)")
    table.add_column("id", justify="right")
    for name in ("time (UTC)", "agent", "experiment", "model"):
        table.add_column(name, no_wrap=True)
    for name in ("in", "out", "cost $", "latency s"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("error", no_wrap=True)
    for r in rows:
        table.add_row(
            str(r.id),
            f"{r.at:%Y-%m-%d %H:%M:%S}",
            r.agent,
            r.experiment or "-",
            r.model,
            f"{r.tokens_in:,}",
            f"{r.tokens_out:,}",
            f"{r.cost_usd:.4f}",
            f"{r.latency_seconds:.2f}",
            "" if r.error is None else "yes (below)",
        )
    return table


def _totals_table(totals: list[AgentTotals]) -> Table:
    table = Table(title="Totals per agent")
    table.add_column("agent")
    for name in ("calls", "errors", "tokens in", "tokens out", "cost $"):
        table.add_column(name, justify="right")
    for t in totals:
        cells = (t.calls, t.errors, f"{t.tokens_in:,}", f"{t.tokens_out:,}", f"{t.cost_usd:.4f}")
        table.add_row(t.agent, *map(str, cells))
    return table


@llm_app.command("show")
def show_command(
    call_id: Annotated[int, typer.Argument(metavar="ID", help="The call's id (`llm calls`).")],
    workspace: Workspace = Path("."),
) -> None:
    """Show one call: what was sent and what came back (both as the ledger keeps them)."""
    with _ledger(workspace) as ledger:
        try:
            call = ledger.get_llm_call(call_id)
        except NotFoundError as exc:
            raise command_error(f"no LLM call {call_id} in the ledger") from exc
        key = None if call.experiment_id is None else ledger.get_experiment(call.experiment_id).key
    out.print(_call_view(call, key))


def _call_view(call: LLMCall, experiment: str | None) -> Group:
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    for name, value in (
        ("agent", call.agent),
        ("experiment", experiment or "-"),
        ("model", call.model),
        ("time (UTC)", f"{call.created_at:%Y-%m-%d %H:%M:%S}"),
        ("tokens in/out", f"{call.tokens_in:,} / {call.tokens_out:,}"),
        ("cost", f"${call.cost_usd:.6f}"),
        ("latency", f"{call.latency_seconds:.3f} s"),
        ("payload", ", ".join(f"{k}={v}" for k, v in sorted(call.payload.items())) or "-"),
    ):
        facts.add_row(name, Text(value))
    parts: list[Panel | Table] = [
        facts,
        Panel(Text(call.prompt), title="prompt", title_align="left"),
        Panel(Text(call.response or "(empty)"), title="response", title_align="left"),
    ]
    if call.error is not None:
        parts.append(Panel(Text(call.error), title="error", title_align="left", style="red"))
    return Group(Text(f"LLM call {call.id}", style="bold"), *parts)


def replay_server(
    workspace: Path, experiment: str, *, port: int = 0
) -> tuple[ScriptedLLMServer, Replay]:
    """A server (not yet started) answering with `experiment`'s recorded calls, and its replay."""
    with _ledger(workspace) as ledger:
        calls = ledger.llm_calls(experiment=_experiment_id(ledger, experiment))
    if not calls:
        raise command_error(f"experiment {experiment!r} has no recorded LLM call to replay")
    replay = Replay(calls)
    try:
        return ScriptedLLMServer(responder=replay, port=port), replay
    except OSError as exc:
        raise command_error(f"cannot listen on 127.0.0.1:{port}: {exc}") from exc


@llm_app.command("replay")
def replay_command(
    experiment: Annotated[str, typer.Option(help="The experiment whose calls to serve (key).")],
    workspace: Workspace = Path("."),
    port: Annotated[int, typer.Option(min=0, max=65535, help="0: a free port.")] = 0,
) -> None:
    """Serve an experiment's recorded calls on loopback (Ctrl-C stops).

    An agent re-run against this OpenAI-compatible endpoint reproduces the recorded behaviour
    without the model; a request no recorded call matches fails, naming where it diverged.
    """
    server, replay = replay_server(workspace, experiment, port=port)
    total = len(replay.unserved)
    with server:
        out.print(f"replaying {total} recorded call(s) of {experiment} at {server.base_url}")
        out.print(
            f"point recloop at it:  export {PROVIDER_ENV}=openai {BASE_URL_ENV}={server.base_url}"
        )
        out.print("a request no recorded call matches answers HTTP 409 naming where it diverged")
        with suppress(KeyboardInterrupt):
            threading.Event().wait()
    err.print(f"stopped: {total - len(replay.unserved)} of {total} recorded call(s) served")
