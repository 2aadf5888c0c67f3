"""`recloop run | approvals | approve | reject | status | demo` (`register(app)`).

Results go to stdout (tables, or one JSON object with `--json`); progress goes to stderr.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from recloop.agents.llm import LLMConfigError
from recloop.console import command_error
from recloop.ledger import Ledger, LedgerError
from recloop.loop.approvals import ApprovalError, approve, pending_approvals, reject
from recloop.loop.demo import run_demo
from recloop.loop.llm_agents import AgentChoice
from recloop.loop.online import OnlineUnavailableError, agent_evaluator
from recloop.loop.render import print_status
from recloop.loop.runner import RunLockedError, RunSettings, run_loop
from recloop.loop.status import workspace_status
from recloop.recsys.datadir import DataUnavailableError
from recloop.workspace.errors import WorkspaceError
from recloop.workspace.manifest import load_manifest
from recloop.workspace.problems import ManifestError

err = Console(stderr=True)
out = Console(width=max(Console().width, 120))
Workspace = Annotated[Path, typer.Option("--workspace", file_okay=False, help="The workspace.")]
FAILURES = (
    ApprovalError,
    LedgerError,
    RunLockedError,
    OnlineUnavailableError,
    WorkspaceError,
    ManifestError,
    DataUnavailableError,
    LLMConfigError,
)


def _notify(message: str) -> None:
    err.print(f"[dim]{time.strftime('%H:%M:%S')}[/dim] {message}", highlight=False)


def run_command(
    workspace: Workspace = Path("."),
    experiments: Annotated[int, typer.Option(min=0, help="New experiments to start.")] = 10,
    hours: Annotated[float | None, typer.Option(min=0.0, help="No new one after H hours.")] = None,
    parallel: Annotated[int, typer.Option(min=1, help="Experiments in flight at once.")] = 2,
    wait_approvals: Annotated[
        float,
        typer.Option(
            min=0.0,
            help="When only experiments waiting for a person are left, wait up to this many "
            "minutes for `recloop approve`/`reject` (0: return; the next run picks them up).",
        ),
    ] = 0.0,
    agents: Annotated[
        AgentChoice,
        typer.Option(
            help="auto: the LLM agents when the manifest's llm section (or RECLOOP_LLM_*) "
            "names a model, else the catalogue agents; llm: demand the LLM; catalogue: never."
        ),
    ] = "auto",
    reflect_every: Annotated[
        int, typer.Option(min=1, help="Experiments per batch before an LLM playbook is revised.")
    ] = 5,
) -> None:
    """Run the loop (resuming unfinished experiments first; answers given meanwhile are
    picked up while it runs)."""
    try:
        settings = RunSettings(
            experiments=experiments,
            hours=hours or None,
            parallel=parallel,
            wait_approvals=wait_approvals,
            agents=agents,
            reflect_every=reflect_every,
        )
        report = run_loop(workspace, settings, evaluator_factory=agent_evaluator, notify=_notify)
    except FAILURES as exc:
        raise command_error(exc, 2) from exc
    err.print(
        f"{len(report.started)} started, {len(report.resumed)} resumed, "
        f"{len(report.launched)} launched, {len(report.parked)} waiting, "
        f"{report.seconds:.0f} s ({report.agents} agents)"
    )
    if report.budget_spent is not None:
        err.print(f"LLM budget spent: {report.budget_spent}")
    _status(workspace, as_json=False)


def approvals_command(
    workspace: Workspace = Path("."),
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """List the approvals that wait for a person."""
    with Ledger.open(workspace) as ledger:
        pending = pending_approvals(ledger)
    if as_json:
        print(json.dumps([p.__dict__ for p in pending], indent=2))
        return
    if not pending:
        out.print("No approval is waiting.")
    for p in pending:
        out.print(f"{p.experiment}  gate={p.gate}  level={p.level}  {p.family}: {p.title}")


def approve_command(
    experiment: Annotated[str, typer.Argument(help="The experiment's key.")],
    by: Annotated[str, typer.Option("--by", help="Who approves.")],
    note: Annotated[str, typer.Option(help="Why, for the audit log.")] = "",
    workspace: Workspace = Path("."),
) -> None:
    """Approve an experiment's pending gate; a running loop moves it on at once, else the next."""
    try:
        with Ledger.open(workspace) as ledger:
            answer = approve(ledger, experiment, by=by, note=note)
    except FAILURES as exc:
        raise command_error(exc, 2) from exc
    out.print(f"{experiment}: {answer.gate} gate approved by {by}")


def reject_command(
    experiment: Annotated[str, typer.Argument(help="The experiment's key.")],
    by: Annotated[str, typer.Option("--by", help="Who rejects.")],
    reason: Annotated[str, typer.Option(help="Why (required).")],
    workspace: Workspace = Path("."),
) -> None:
    """Reject an experiment's pending gate; the experiment is closed."""
    try:
        with Ledger.open(workspace) as ledger:
            answer = reject(ledger, experiment, by=by, reason=reason)
    except FAILURES as exc:
        raise command_error(exc, 2) from exc
    out.print(f"{experiment}: {answer.gate} gate rejected by {by}; closed")


def _status(workspace: Path, as_json: bool) -> None:
    primary = load_manifest(workspace).metrics.primary.name
    with Ledger.open(workspace) as ledger:
        status = workspace_status(ledger, primary, workspace)
    if as_json:
        print(json.dumps(status.to_json(), indent=2, default=str))
    else:
        print_status(out, status)


def status_command(
    workspace: Workspace = Path("."),
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """The funnel, the leaderboard, the launches and the champion's gain."""
    try:
        _status(workspace, as_json)
    except FAILURES as exc:
        raise command_error(exc, 2) from exc


def demo_command(
    directory: Annotated[
        Path | None, typer.Option("--dir", file_okay=False, help="Where to create the workspace.")
    ] = None,
    experiments: Annotated[int, typer.Option(min=1, help="Experiments to run.")] = 12,
    parallel: Annotated[int, typer.Option(min=1, help="Experiments in flight at once.")] = 2,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """The main job: the example workspace improved by the loop, with the demo policy."""
    started = time.monotonic()
    try:
        result = run_demo(directory, experiments, parallel, notify=_notify)
    except FAILURES as exc:
        raise command_error(exc, 2) from exc
    seconds = time.monotonic() - started
    if as_json:
        data = result.status.to_json()
        data.update(
            workspace=str(result.workspace),
            data=result.data_note,
            seconds=seconds,
            policy=result.policy,
        )
        print(json.dumps(data, indent=2, default=str))
        return
    out.print(result.data_note)
    out.print(result.policy)
    print_status(out, result.status)
    out.print(
        f"{len(result.report.started)} experiments in {seconds:.0f} s; workspace: "
        f"{result.workspace} (recloop status --workspace {result.workspace})"
    )


def register(app: typer.Typer) -> None:
    """Add the loop's commands to the root app."""
    app.command("run")(run_command)
    app.command("approvals")(approvals_command)
    app.command("approve")(approve_command)
    app.command("reject")(reject_command)
    app.command("status")(status_command)
    app.command("demo")(demo_command)
