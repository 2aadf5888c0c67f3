"""The knowledge store on the ledger: one source of truth for failures and forbidden directions.

`LedgerStore` implements `KnowledgeStore` on the ledger's tables, with the rules of `store`:

- a failure record is a `failure_records` row keyed by its own id (`fr-…`): stage, cause,
  family, change signature (`sg-…`) and scope (`champion:<commit>` or `workspace`) in columns,
  the whole record in the payload (`{"record": …}`), linked to its experiment, candidate and
  stage run when the ledger has them;
- a forbidden direction is a `forbidden_directions` row whose signature is the direction's id
  (`fd-…`): scope, reason, creator, creation time, expiry time and the last removal or expiry
  (who, when, why) in columns, the whole direction with its audit history in the payload
  (`{"direction": …}`). Every change appends to the ledger's audit log as well.

Every change is one ledger transaction that reads, checks and writes with the rows locked
(`Ledger.write_forbidden_directions`), so the loop's worker processes never lose each other's
writes. `workspace_store(root)` opens the workspace's ledger and imports an old
`.recloop/knowledge.json` once (renamed `knowledge.json.imported` afterwards; `imported` says
what was imported, and a `knowledge.import` audit entry records it).
"""

from __future__ import annotations

import builtins
import contextlib
import os
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from recloop.knowledge.champion import Champion
from recloop.knowledge.failures import FailureRecord
from recloop.knowledge.forbidden import ForbiddenDirection, Scope
from recloop.knowledge.store import (
    STORE_FILE,
    CorruptStoreError,
    JsonFileStore,
    StoreError,
    UnknownIdError,
    check_failure,
    check_replacement,
    expiry_of,
    removal,
)
from recloop.ledger import ForbiddenDirection as DirectionRow
from recloop.ledger import ForbiddenDirectionWrite, Ledger, LedgerError
from recloop.workspace.manifest import RECLOOP_DIR

Change = Callable[[list[DirectionRow]], Iterable[ForbiddenDirectionWrite]]
IMPORTED_SUFFIX = ".imported"
IMPORT_ACTION = "knowledge.import"
_AUDIT_ACTIONS = {
    "created": "forbidden.add",
    "evidence-added": "forbidden.evidence",
    "removed": "forbidden.remove",
    "expired": "forbidden.expire",
    "reinstated": "forbidden.reinstate",
}


class LedgerStore:
    """Failure records and forbidden directions in the ledger (see the module docstring)."""

    def __init__(self, ledger: Ledger, *, owns_ledger: bool = False) -> None:
        self.ledger = ledger
        self.imported: str | None = None
        """What `workspace_store` imported from an old JSON store, if anything."""
        self._owns_ledger = owns_ledger

    @property
    def location(self) -> str:
        """The ledger's database URL (no password)."""
        return self.ledger.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        """Close the ledger when this store opened it."""
        if self._owns_ledger:
            self.ledger.close()

    def __enter__(self) -> LedgerStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- failure records -------------------------------------------------------------------------

    def add_failure(self, record: FailureRecord) -> None:
        """Keep a failure record; adding the same record again is a no-op (for resumes)."""
        scope = "workspace" if record.champion is None else f"champion:{record.champion}"
        row, created = self.ledger.keep_failure(
            record.id,
            stage=record.stage,
            cause=record.cause,
            family=record.family,
            signature=record.signature.key,
            scope=scope,
            payload={"record": record.model_dump(mode="json")},
            created_at=record.recorded_at,
            experiment_key=record.candidate or record.proposal_id,
        )
        if not created:
            check_failure(_record_of(row.payload), record)

    def failures(self) -> builtins.list[FailureRecord]:
        """All failure records, oldest first."""
        rows = self.ledger.failures(include_inactive=True)
        records = [_record_of(row.payload) for row in rows if row.key is not None]
        return sorted(records, key=lambda f: (f.recorded_at, f.id))

    # -- forbidden directions --------------------------------------------------------------------

    def add(self, direction: ForbiddenDirection) -> None:
        """Insert a direction, or replace the stored one with its id by a later version of it."""

        def change(rows: builtins.list[DirectionRow]) -> builtins.list[ForbiddenDirectionWrite]:
            row_id, known = _only(rows)
            check_replacement(known, direction)
            return [] if known == direction else [_row_for(direction, row_id)]

        self._write(change, direction.id, direction.history[-1].by)

    def list(self) -> builtins.list[ForbiddenDirection]:
        """Every direction, removed and expired ones included, oldest first."""
        rows = self.ledger.forbidden_directions(include_inactive=True)
        return sorted((d for _, d in _directions(rows)), key=lambda d: (d.created_at, d.id))

    def get(self, direction_id: str) -> ForbiddenDirection:
        rows = self.ledger.forbidden_directions(signature=direction_id, include_inactive=True)
        found = _directions(rows)
        if not found:
            raise UnknownIdError(f"no forbidden direction {direction_id}")
        return found[0][1]

    def remove(
        self, direction_id: str, *, by: str, reason: str, now: datetime
    ) -> ForbiddenDirection:
        """A person lifts a direction: an audit entry is appended; the record is kept."""

        def change(rows: builtins.list[DirectionRow]) -> builtins.list[ForbiddenDirectionWrite]:
            row_id, found = _only(rows)
            return [_row_for(removal(found, direction_id, by, reason, now), row_id)]

        [removed] = self._write(change, direction_id, by.strip())
        return removed

    def expire(self, now: datetime, champion: Champion | None) -> builtins.list[ForbiddenDirection]:
        """Stamp every active direction that has lapsed by `now` as expired; return them."""

        def change(rows: builtins.list[DirectionRow]) -> builtins.list[ForbiddenDirectionWrite]:
            lapsed = ((i, expiry_of(d, now, champion)) for i, d in _directions(rows))
            return [_row_for(d, i) for i, d in lapsed if d is not None]

        return sorted(self._write(change, None, "expiry"), key=lambda d: d.id)

    def _write(
        self, change: Change, signature: str | None, actor: str
    ) -> builtins.list[ForbiddenDirection]:
        written = self.ledger.write_forbidden_directions(change, signature=signature, actor=actor)
        return [_direction_of(row.payload) for row in written]

    # -- the JSON store of earlier recloops ------------------------------------------------------

    def import_json(self, path: Path) -> str | None:
        """Copy an old JSON store into the ledger once, then rename it `….imported`; what was
        imported (None: no file). Idempotent: a crash before the rename imports it again."""
        if not path.is_file():
            return None
        source = JsonFileStore(path)
        failures, directions = source.failures(), source.list()  # a corrupt file stays as it is
        for failure in failures:
            self.add_failure(failure)
        for direction in directions:
            self._import_direction(direction)
        kept = path.with_name(path.name + IMPORTED_SUFFIX)
        try:
            os.replace(path, kept)
        except FileNotFoundError:  # another process imported it at the same moment
            return None
        with contextlib.suppress(FileNotFoundError):
            source.lock_path.unlink()
        detail = {"failures": len(failures), "directions": len(directions), "kept_as": str(kept)}
        self.ledger.append_audit(IMPORT_ACTION, f"file:{path}", detail)
        return (
            f"imported {len(failures)} failure record(s) and {len(directions)} forbidden "
            f"direction(s) from {path} into the ledger; the file is kept as {kept.name}"
        )

    def _import_direction(self, direction: ForbiddenDirection) -> None:
        try:
            self.add(direction)
        except StoreError:
            stored = self.get(direction.id)  # already imported, and changed since: keep it
            if stored.history[: len(direction.history)] != direction.history:
                raise


def workspace_store(workspace: str | Path, ledger: Ledger | None = None) -> LedgerStore:
    """The knowledge store of a workspace: its ledger (`ledger`, or the one `Ledger.open`
    finds for it), after importing `.recloop/knowledge.json` when an older recloop left one."""
    root = Path(workspace)
    try:
        store = LedgerStore(ledger or Ledger.open(root), owns_ledger=ledger is None)
    except LedgerError as exc:
        raise StoreError(str(exc)) from exc
    try:
        store.imported = store.import_json(root / RECLOOP_DIR / STORE_FILE)
    except BaseException:
        store.close()
        raise
    return store


def _scope_key(scope: Scope) -> str:
    return "workspace" if scope.champion is None else f"champion:{scope.champion}"


def _row_for(direction: ForbiddenDirection, row_id: int | None) -> ForbiddenDirectionWrite:
    """The row that holds `direction` (its last removal or expiry in the columns)."""
    last = direction.history[-1]
    stopped = {"active": None, "removed": "removed", "expired": "expired"}[direction.status]
    entry = None if stopped is None else direction.last(stopped)  # type: ignore[arg-type]
    return ForbiddenDirectionWrite(
        id=row_id,
        signature=direction.id,
        scope=_scope_key(direction.scope),
        reason=direction.reason,
        created_by=direction.created_by,
        payload={"direction": direction.model_dump(mode="json")},
        created_at=direction.created_at,
        expires_at=direction.expiry.at,
        removed_by=None if entry is None else entry.by,
        removed_at=None if entry is None else entry.at,
        removed_reason=None if entry is None else entry.reason,
        action=_AUDIT_ACTIONS[last.action],
    )


def _directions(rows: Iterable[DirectionRow]) -> builtins.list[tuple[int, ForbiddenDirection]]:
    """The knowledge store's directions among ledger rows (others have no `direction`)."""
    return [(row.id, _direction_of(row.payload)) for row in rows if "direction" in row.payload]


def _only(rows: Iterable[DirectionRow]) -> tuple[int | None, ForbiddenDirection | None]:
    """The row id and direction among the rows of one direction id (None, None: none yet)."""
    found = _directions(rows)
    return found[0] if found else (None, None)


def _direction_of(payload: dict[str, Any]) -> ForbiddenDirection:
    try:
        return ForbiddenDirection.model_validate(payload["direction"])
    except (KeyError, ValidationError) as exc:
        raise CorruptStoreError(f"a ledger row is not a forbidden direction: {exc}") from exc


def _record_of(payload: dict[str, Any]) -> FailureRecord:
    try:
        return FailureRecord.model_validate(payload["record"])
    except (KeyError, ValidationError) as exc:
        raise CorruptStoreError(f"a failure record in the ledger is unreadable: {exc}") from exc
