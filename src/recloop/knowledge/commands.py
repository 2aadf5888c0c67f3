"""The `recloop forbidden` commands: inspect, add and remove forbidden directions by hand.

    recloop forbidden list [--workspace DIR] [--all] [--json]
    recloop forbidden show ID [--workspace DIR]
    recloop forbidden add --by NAME --reason TEXT [--family F] [--param NAME=VALUE|NAME=LOW..HIGH]
                          [--file PATH] [--champion COMMIT|current] [--expires-in-days D]
                          [--expire-after-changes N] [--evidence fr-...] [--workspace DIR]
    recloop forbidden remove ID --by NAME --reason TEXT [--workspace DIR]

`register(app)` adds the `forbidden` group to the root app. The store is the workspace's ledger
(`ledger_store.workspace_store`: an old `.recloop/knowledge.json` is imported on first use, and
the command says so on stderr); the champion (for scopes and expiry by champion changes) is read
from the workspace's git. Output is plain text on stdout; errors go to stderr with exit code 1.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from recloop.console import command_error
from recloop.knowledge._time import utc_now
from recloop.knowledge.champion import Champion, workspace_champion
from recloop.knowledge.forbidden import (
    AuditEntry,
    Expiry,
    ForbiddenDirection,
    Scope,
    direction_id,
    forbid,
)
from recloop.knowledge.ledger_store import LedgerStore, workspace_store
from recloop.knowledge.pattern import NumericRange, Pattern, ValueSet, condition_for
from recloop.knowledge.proposal import FAMILIES, Scalar
from recloop.knowledge.store import StoreError

forbidden_app = typer.Typer(
    help="Forbidden directions: ideas recloop will not try again. List, show, add, remove.",
    no_args_is_help=True,
)

Workspace = Annotated[
    Path,
    typer.Option("--workspace", "-w", exists=True, file_okay=False, help="The workspace folder."),
]
By = Annotated[str, typer.Option("--by", help="Your name, kept in the audit trail.")]
Reason = Annotated[str, typer.Option("--reason", help="Why, kept in the audit trail.")]


def register(app: typer.Typer) -> None:
    """Add the `forbidden` command group to the root app."""
    app.add_typer(forbidden_app, name="forbidden")


@contextmanager
def _store(workspace: Path) -> Iterator[LedgerStore]:
    """The workspace's store, closed afterwards; a store error is the command's error."""
    try:
        with workspace_store(workspace) as store:
            if store.imported:
                typer.echo(store.imported, err=True)
            yield store
    except StoreError as exc:
        raise command_error(str(exc)) from exc


@forbidden_app.command("list")
def list_command(
    workspace: Workspace = Path("."),
    show_all: Annotated[
        bool, typer.Option("--all", help="Also those removed, expired or out of scope.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the forbidden directions of a workspace (active ones unless --all)."""
    now, champion = utc_now(), workspace_champion(workspace)
    with _store(workspace) as store:
        directions = store.list()
    rows = [(d, d.inactive_reason(now, champion)) for d in directions]
    shown = rows if show_all else [r for r in rows if r[1] is None]
    if as_json:
        payload = {
            "store": store.location,
            "champion": None if champion is None else champion.model_dump(mode="json"),
            "directions": [
                {**d.model_dump(mode="json"), "active": why is None, "inactive_reason": why}
                for d, why in shown
            ],
        }
        typer.echo(json.dumps(payload, indent=2))
        return
    typer.echo(_heading(store, champion, len(shown), len(rows) - len(shown), show_all))
    for direction, why in shown:
        typer.echo(_render(direction, why))


def _heading(
    store: LedgerStore, champion: Champion | None, shown: int, hidden: int, show_all: bool
) -> str:
    where = (
        "champion unknown (no git repository or main branch)"
        if champion is None
        else f"champion {champion.short}, generation {champion.generation}"
    )
    what = "forbidden direction(s)" if show_all else "active forbidden direction(s)"
    more = f"; {hidden} removed, expired or out of scope (--all shows them)" if hidden else ""
    return f"{shown} {what} in {store.location} ({where}){more}"


def _state(direction: ForbiddenDirection, inactive: str | None) -> str:
    """`active`, `removed`, `expired`, or `lapsed` (expired by time or champion, not stamped)."""
    if direction.status != "active":
        return direction.status
    return "active" if inactive is None else "lapsed"


def _render(direction: ForbiddenDirection, inactive: str | None) -> str:
    by = f"rule {direction.created_by}" if direction.origin == "rule" else direction.created_by
    lines = [
        f"{direction.id}  {_state(direction, inactive)}  {direction.pattern.describe()}",
        f"    scope {direction.scope.describe()} · expires {direction.expiry.describe()} · "
        f"by {by} on {direction.created_at:%Y-%m-%d} · "
        f"{len(direction.evidence)} failure record(s)",
        f"    why: {direction.reason}",
    ]
    if inactive is not None:
        lines.append(f"    not applying: {inactive}")
    return "\n".join(lines)


@forbidden_app.command("show")
def show_command(
    direction_id_: Annotated[str, typer.Argument(metavar="ID", help="fd-…")],
    workspace: Workspace = Path("."),
) -> None:
    """Show one direction: its pattern, its audit trail and the failures behind it."""
    with _store(workspace) as store:
        direction = store.get(direction_id_)
        failures = {f.id: f for f in store.failures()}
    typer.echo(
        _render(direction, direction.inactive_reason(utc_now(), workspace_champion(workspace)))
    )
    typer.echo("  history:")
    for entry in direction.history:
        typer.echo(
            f"    {entry.at:%Y-%m-%d %H:%M} UTC  {entry.action} by {entry.by}: {entry.reason}"
        )
    typer.echo("  evidence:" if direction.evidence else "  evidence: none")
    for record_id in direction.evidence:
        record = failures.get(record_id)
        typer.echo(f"    {record.describe() if record else record_id + ' (not in the store)'}")


@forbidden_app.command("add")
def add_command(
    by: By,
    reason: Reason,
    family: Annotated[
        str | None, typer.Option(help=f"The proposal family: {', '.join(FAMILIES)}.")
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param", "-p", help="NAME=VALUE (its log bucket, ±19%) or NAME=LOW..HIGH; repeatable."
        ),
    ] = None,
    file: Annotated[
        list[str] | None, typer.Option("--file", "-f", help="A file it touches; repeatable.")
    ] = None,
    champion: Annotated[
        str | None,
        typer.Option(help="Only while this commit is champion ('current': the current one)."),
    ] = None,
    expires_in_days: Annotated[
        float | None, typer.Option(min=0.0, help="Lapse after this many days.")
    ] = None,
    expire_after_changes: Annotated[
        int | None, typer.Option(min=1, help="Lapse after this many champion changes.")
    ] = None,
    evidence: Annotated[
        list[str] | None, typer.Option(help="A failure record id behind it; repeatable.")
    ] = None,
    workspace: Workspace = Path("."),
) -> None:
    """Forbid a direction by hand (scope: the whole workspace unless --champion)."""
    if family is not None and family not in FAMILIES:
        raise command_error(f"unknown family {family!r}; choose one of {', '.join(FAMILIES)}")
    current = workspace_champion(workspace)
    if expire_after_changes is not None and current is None:
        raise command_error(
            "--expire-after-changes needs the workspace's champion, and git has none"
        )
    try:
        pattern = Pattern(
            family=family, params=dict(parse_param(p) for p in param or ()), files=tuple(file or ())
        )
        scope = _scope(champion, current)
    except (ValueError, ValidationError) as exc:
        raise command_error(_first_error(exc)) from exc
    now = utc_now()
    expiry = Expiry.of(now, expires_in_days, expire_after_changes)
    with _store(workspace) as store:
        known = {f.id for f in store.failures()}
        unknown = sorted(set(evidence or ()) - known)
        if unknown:
            raise command_error(f"no failure record {', '.join(unknown)} in {store.location}")
        direction = _new_or_reinstated(
            store, pattern, scope, expiry, by, reason, now, current, evidence or []
        )
        store.add(direction)
    typer.echo(f"forbidden: {direction.describe()}")


def _scope(champion: str | None, current: Champion | None) -> Scope:
    if champion is None:
        return Scope()
    if champion == "current":
        if current is None:
            raise ValueError("--champion current: the workspace has no git champion")
        return Scope(kind="champion", champion=current.commit)
    if not re.fullmatch(r"[0-9a-fA-F]{7,64}", champion):
        raise ValueError(
            f"--champion {champion!r}: give a commit (7 to 64 hex digits) or 'current'"
        )
    return Scope(kind="champion", champion=champion.lower())


def _new_or_reinstated(
    store: LedgerStore,
    pattern: Pattern,
    scope: Scope,
    expiry: Expiry,
    by: str,
    reason: str,
    now: datetime,
    current: Champion | None,
    evidence: list[str],
) -> ForbiddenDirection:
    """A new direction, or the stored one with this pattern and scope brought back."""
    try:
        existing = store.get(direction_id(pattern, scope))
    except StoreError:
        return forbid(
            pattern,
            origin="person",
            by=by,
            reason=reason,
            now=now,
            scope=scope,
            expiry=expiry,
            evidence=evidence,
            since=current,
        )
    if existing.is_active(now, current):
        raise StoreError(f"already forbidden as {existing.id}")
    entry = AuditEntry(action="reinstated", at=now, by=by, reason=reason)
    merged = tuple(dict.fromkeys([*existing.evidence, *evidence]))
    return existing.with_entry(entry, expiry=expiry, since=current, evidence=merged)


@forbidden_app.command("remove")
def remove_command(
    direction_id_: Annotated[str, typer.Argument(metavar="ID", help="fd-…")],
    by: By,
    reason: Reason,
    workspace: Workspace = Path("."),
) -> None:
    """Lift a forbidden direction; who, when and why are kept in the store's audit trail."""
    with _store(workspace) as store:
        removed = store.remove(direction_id_, by=by, reason=reason, now=utc_now())
    typer.echo(
        f"removed {removed.id} ({removed.pattern.describe()}); the record and its audit trail "
        "stay in the store (recloop forbidden list --all)"
    )


def parse_param(text: str) -> tuple[str, NumericRange | ValueSet]:
    """`NAME=LOW..HIGH` -> a numeric range; `NAME=VALUE` -> the region around the value."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip() or not value.strip():
        raise ValueError(f"--param {text!r}: write NAME=VALUE or NAME=LOW..HIGH")
    if ".." in value:
        low, _, high = value.partition("..")
        try:
            return name, NumericRange(low=float(low), high=float(high))
        except ValueError as exc:
            raise ValueError(f"--param {text!r}: LOW..HIGH needs two numbers, low first") from exc
    return name, condition_for(_scalar(value.strip()))


def _scalar(text: str) -> Scalar:
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        return f"{where}: {error['msg']}" if where else str(error["msg"])
    return str(exc)
