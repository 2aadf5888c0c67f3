"""Where failure records and forbidden directions are kept: one narrow interface, three stores.

`KnowledgeStore` is the port: `add_failure` / `failures`, and for directions `add` (insert, or
replace the record with the same id), `list`, `get`, `remove` (a person lifts a direction: an
audit entry is appended, the record stays) and `expire` (stamp the directions that lapsed).
The rules every store applies are written once, below (`check_failure`, `check_replacement`,
`removal`, `expiry_of`). `MemoryStore` keeps the records in memory (tests, a dry run);
`JsonFileStore` in one JSON file (the store of earlier recloops, `.recloop/knowledge.json`, now
imported once into the ledger); `ledger_store.LedgerStore` in the ledger's tables, which is
what a workspace uses (`ledger_store.workspace_store`).

The JSON store survives crashes: every change is made under an exclusive lock (`flock` on a
sibling `.lock` file, so concurrent recloop processes do not lose each other's writes), on the
file as it is on disk, and written to a temporary file in the same folder, flushed, fsynced and
renamed over the store (`os.replace` is atomic), so a reader sees the old file or the new one,
never half of one. Temporary files left by a crash are ignored, and removed by the next write.

Errors: `StoreError`, and below it `UnknownIdError` (no such direction) and `CorruptStoreError`
(the file is not a store this version can read; it is never overwritten silently).
"""

from __future__ import annotations

import builtins
import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from recloop.atomic import write_atomic
from recloop.knowledge._time import as_utc
from recloop.knowledge.champion import Champion
from recloop.knowledge.failures import FailureRecord
from recloop.knowledge.forbidden import AuditEntry, ForbiddenDirection

STORE_FILE = "knowledge.json"
FORMAT = "recloop-knowledge"
VERSION = 1
EXPIRY_ACTOR = "expiry"


class StoreError(Exception):
    """A store operation was refused; the message says why."""


class UnknownIdError(StoreError):
    """No forbidden direction (or failure record) has this id."""


class CorruptStoreError(StoreError):
    """The store file cannot be read as a knowledge store of this version."""


class KnowledgeStore(Protocol):
    """The port to persisted failures and forbidden directions."""

    def add_failure(self, record: FailureRecord) -> None: ...
    def failures(self) -> builtins.list[FailureRecord]: ...
    def add(self, direction: ForbiddenDirection) -> None: ...
    def list(self) -> builtins.list[ForbiddenDirection]: ...
    def get(self, direction_id: str) -> ForbiddenDirection: ...
    def remove(
        self, direction_id: str, *, by: str, reason: str, now: datetime
    ) -> ForbiddenDirection: ...
    def expire(
        self, now: datetime, champion: Champion | None
    ) -> builtins.list[ForbiddenDirection]: ...


class _State(BaseModel):
    """The whole store as it is written to disk."""

    model_config = ConfigDict(extra="forbid")

    format: str = FORMAT
    version: int = VERSION
    failures: dict[str, FailureRecord] = Field(default_factory=dict)
    directions: dict[str, ForbiddenDirection] = Field(default_factory=dict)


def check_failure(known: FailureRecord | None, record: FailureRecord) -> None:
    """A failure record may be added again (a resume), never replaced by another."""
    if known is not None and known != record:
        raise StoreError(f"another failure record already has id {record.id}")


def check_replacement(known: ForbiddenDirection | None, direction: ForbiddenDirection) -> None:
    """A direction replaces the stored one with its id only as a later version of it."""
    if known is None:
        return
    if (known.pattern, known.scope) != (direction.pattern, direction.scope):
        raise StoreError(f"id {direction.id} already names a different direction")
    if known.history != direction.history[: len(known.history)]:
        raise StoreError(f"{direction.id}: a new version must keep the audit history")


def removal(
    found: ForbiddenDirection | None, direction_id: str, by: str, reason: str, now: datetime
) -> ForbiddenDirection:
    """The direction as a person lifts it: a `removed` entry appended (who and why required)."""
    if not by.strip() or not reason.strip():
        raise StoreError("removing a forbidden direction needs who removes it and why")
    if found is None:
        raise UnknownIdError(f"no forbidden direction {direction_id}")
    if found.status == "removed":
        entry = found.last("removed")
        assert entry is not None
        raise StoreError(f"{direction_id} was already removed by {entry.by}")
    return found.with_entry(
        AuditEntry(action="removed", at=as_utc(now), by=by.strip(), reason=reason)
    )


def expiry_of(
    direction: ForbiddenDirection, now: datetime, champion: Champion | None
) -> ForbiddenDirection | None:
    """The direction stamped expired when it is active and has lapsed by `now`, else None."""
    reason = direction.lapse(now, champion) if direction.status == "active" else None
    if reason is None:
        return None
    entry = AuditEntry(action="expired", at=as_utc(now), by=EXPIRY_ACTOR, reason=reason)
    return direction.with_entry(entry)


class _StateStore:
    """The operations, over a state that subclasses read and write."""

    @contextlib.contextmanager
    def _change(self) -> Iterator[_State]:
        raise NotImplementedError

    def _read(self) -> _State:
        raise NotImplementedError

    def add_failure(self, record: FailureRecord) -> None:
        """Keep a failure record; adding the same record again is a no-op (for resumes)."""
        with self._change() as state:
            check_failure(state.failures.get(record.id), record)
            state.failures[record.id] = record

    def failures(self) -> builtins.list[FailureRecord]:
        """All failure records, oldest first."""
        return sorted(self._read().failures.values(), key=lambda f: (f.recorded_at, f.id))

    def add(self, direction: ForbiddenDirection) -> None:
        """Insert a direction, or replace the stored one with its id by a later version of it
        (its audit history extended, never rewritten)."""
        with self._change() as state:
            check_replacement(state.directions.get(direction.id), direction)
            state.directions[direction.id] = direction

    def list(self) -> builtins.list[ForbiddenDirection]:
        """Every direction, removed and expired ones included, oldest first."""
        return sorted(self._read().directions.values(), key=lambda d: (d.created_at, d.id))

    def get(self, direction_id: str) -> ForbiddenDirection:
        found = self._read().directions.get(direction_id)
        if found is None:
            raise UnknownIdError(f"no forbidden direction {direction_id}")
        return found

    def remove(
        self, direction_id: str, *, by: str, reason: str, now: datetime
    ) -> ForbiddenDirection:
        """A person lifts a direction: an audit entry is appended; the record is kept."""
        with self._change() as state:
            removed = removal(state.directions.get(direction_id), direction_id, by, reason, now)
            state.directions[direction_id] = removed
        return removed

    def expire(self, now: datetime, champion: Champion | None) -> builtins.list[ForbiddenDirection]:
        """Stamp every active direction that has lapsed by `now` as expired; return them."""
        out = []
        with self._change() as state:
            for direction in sorted(state.directions.values(), key=lambda d: d.id):
                expired = expiry_of(direction, now, champion)
                if expired is not None:
                    state.directions[direction.id] = expired
                    out.append(expired)
        return out


class MemoryStore(_StateStore):
    """A store in memory: for tests and runs that keep nothing."""

    def __init__(self) -> None:
        self._state = _State()

    @contextlib.contextmanager
    def _change(self) -> Iterator[_State]:
        draft = self._state.model_copy(deep=True)
        yield draft  # an exception inside leaves the state as it was
        self._state = draft

    def _read(self) -> _State:
        return self._state


class JsonFileStore(_StateStore):
    """A store in one JSON file, written atomically under a lock (see the module docstring)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @property
    def location(self) -> str:
        return str(self.path)

    @property
    def lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    def _read(self) -> _State:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return _State()
        except (OSError, UnicodeDecodeError) as exc:
            raise CorruptStoreError(f"cannot read {self.path}: {exc}") from exc
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CorruptStoreError(f"{self.path} is not valid JSON: {exc}") from exc
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise CorruptStoreError(f"{self.path} is not a recloop knowledge store")
        if raw.get("version") != VERSION:
            raise CorruptStoreError(
                f"{self.path} has store version {raw.get('version')!r}; this recloop reads "
                f"version {VERSION}"
            )
        try:
            return _State.model_validate(raw)
        except ValidationError as exc:
            raise CorruptStoreError(f"{self.path} does not hold a valid store: {exc}") from exc

    @contextlib.contextmanager
    def _change(self) -> Iterator[_State]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                state = self._read()
                yield state
                self._write(state)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _write(self, state: _State) -> None:
        data = state.model_dump_json(indent=1).encode("utf-8") + b"\n"
        write_atomic(self.path, data)
        _fsync_dir(self.path.parent)
        for stale in self.path.parent.glob(f".{self.path.name}.*.tmp"):
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()  # left by a crashed writer; we hold the lock, so none is live


def _fsync_dir(folder: Path) -> None:
    """Make a rename durable (the folder's entry), where the platform allows it."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
