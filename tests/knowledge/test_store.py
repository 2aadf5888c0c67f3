"""Stores: the same behaviour in memory, in a JSON file and in the ledger; the file survives
crashes; concurrent writers lose nothing."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from recloop.knowledge.champion import Champion
from recloop.knowledge.failures import FailureRecord
from recloop.knowledge.forbidden import Expiry, ForbiddenDirection, Scope, forbid
from recloop.knowledge.ledger_store import workspace_store
from recloop.knowledge.pattern import Pattern, condition_for
from recloop.knowledge.store import (
    CorruptStoreError,
    JsonFileStore,
    KnowledgeStore,
    MemoryStore,
    StoreError,
    UnknownIdError,
)

MakeFailure = Callable[..., FailureRecord]


@pytest.fixture(params=["memory", "json", "ledger"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[KnowledgeStore]:
    if request.param == "memory":
        yield MemoryStore()
    elif request.param == "json":
        yield JsonFileStore(tmp_path / ".recloop" / "knowledge.json")
    else:
        with workspace_store(tmp_path) as ledger_store:
            yield ledger_store


def decay(now: datetime, champion: Champion, **fields: object) -> ForbiddenDirection:
    pattern = Pattern(family="time-decay", params={"half_life_days": condition_for(30)})
    args: dict[str, object] = {
        "origin": "rule",
        "by": "repeated-early-failure",
        "reason": "2 failures",
        "now": now,
        "scope": Scope(kind="champion", champion=champion.commit),
        "expiry": Expiry.of(now, days=30, changes=None),
        "since": champion,
    }
    args.update(fields)
    return forbid(pattern, **args)  # type: ignore[arg-type]


def test_add_list_get(store: KnowledgeStore, now: datetime, champion: Champion) -> None:
    direction = decay(now, champion)
    store.add(direction)
    store.add(direction)  # the same record again: still one
    assert store.list() == [direction]
    assert store.get(direction.id) == direction
    with pytest.raises(UnknownIdError, match="no forbidden direction fd-00000000"):
        store.get("fd-00000000")


def test_failures_are_kept_once(
    store: KnowledgeStore, make_failure: MakeFailure, now: datetime
) -> None:
    first, second = make_failure(), make_failure()
    store.add_failure(second)
    store.add_failure(first)
    store.add_failure(first)  # a resumed run recording it again
    assert store.failures() == [first, second]
    forged = first.model_copy(update={"sentence": "something else"})
    with pytest.raises(StoreError, match="already has id"):
        store.add_failure(forged)


def test_remove_keeps_an_audit_record(
    store: KnowledgeStore, now: datetime, champion: Champion
) -> None:
    direction = decay(now, champion)
    store.add(direction)
    later = now + timedelta(hours=3)
    removed = store.remove(direction.id, by="alice", reason="EASE replaced the scorer", now=later)
    assert store.list() == [removed]  # still there
    assert removed.status == "removed" and not removed.is_active(later, champion)
    entry = removed.history[-1]
    assert (entry.action, entry.by, entry.reason, entry.at) == (
        "removed",
        "alice",
        "EASE replaced the scorer",
        later,
    )
    with pytest.raises(StoreError, match="already removed by alice"):
        store.remove(direction.id, by="bob", reason="again", now=later)
    with pytest.raises(UnknownIdError):
        store.remove("fd-00000000", by="bob", reason="r", now=later)
    with pytest.raises(StoreError, match="who removes it and why"):
        store.remove(direction.id, by=" ", reason="r", now=later)


def test_history_cannot_be_rewritten(
    store: KnowledgeStore, now: datetime, champion: Champion
) -> None:
    direction = decay(now, champion)
    store.add(direction)
    removed = store.remove(direction.id, by="alice", reason="r", now=now)
    with pytest.raises(StoreError, match="keep the audit history"):
        store.add(direction)  # the version from before the removal
    assert store.get(direction.id) == removed


def test_expire_stamps_lapsed_directions(
    store: KnowledgeStore, now: datetime, champion: Champion
) -> None:
    short = decay(now, champion, expiry=Expiry.of(now, days=1, changes=None))
    everywhere = decay(now, champion, scope=Scope(), expiry=Expiry())
    store.add(short)
    store.add(everywhere)
    assert store.expire(now, champion) == []
    [expired] = store.expire(now + timedelta(days=2), champion)
    assert expired.id == short.id and expired.status == "expired"
    assert expired.history[-1].by == "expiry"
    assert "time ran out" in expired.history[-1].reason
    moved = Champion(commit="b" * 40, generation=champion.generation + 1)
    assert store.expire(now + timedelta(days=2), moved) == []  # nothing else lapsed
    assert {d.id: d.status for d in store.list()} == {short.id: "expired", everywhere.id: "active"}


def test_json_store_round_trips(
    tmp_path: Path, make_failure: MakeFailure, now: datetime, champion: Champion
) -> None:
    path = tmp_path / ".recloop" / "knowledge.json"
    writer = JsonFileStore(path)
    failure = make_failure(evidence={"metrics": {"ndcg@10": [0.31, 0.29]}, "log": "tail"})
    direction = decay(now, champion, evidence=[failure.id])
    writer.add_failure(failure)
    writer.add(direction)
    writer.remove(direction.id, by="alice", reason="r", now=now)
    reader = JsonFileStore(path)
    assert reader.failures() == [failure]
    assert reader.list() == writer.list()
    assert reader.list()[0].history[-1].at.tzinfo is not None
    raw = json.loads(path.read_text())
    assert raw["format"] == "recloop-knowledge" and raw["version"] == 1


def test_a_failed_write_leaves_the_store_as_it_was(
    tmp_path: Path, now: datetime, champion: Champion, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = JsonFileStore(tmp_path / "knowledge.json")
    first = decay(now, champion)
    store.add(first)
    before = store.path.read_bytes()

    def crash(*args: object) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk gone"):
        store.add(decay(now, champion, scope=Scope()))
    assert store.path.read_bytes() == before
    assert list(tmp_path.glob("*.tmp")) == []
    assert store.list() == [first]


def test_a_partial_temp_file_does_not_corrupt_the_store(
    tmp_path: Path, now: datetime, champion: Champion
) -> None:
    store = JsonFileStore(tmp_path / "knowledge.json")
    first = decay(now, champion)
    store.add(first)
    stale = tmp_path / ".knowledge.json.abc123.tmp"
    stale.write_text('{"format": "recloop-knowledge", "version": 1, "directions": {"fd-')
    assert JsonFileStore(store.path).list() == [first]
    second = decay(now, champion, scope=Scope())
    store.add(second)
    assert not stale.exists()  # cleaned up under the lock by the next write
    assert {d.id for d in JsonFileStore(store.path).list()} == {first.id, second.id}


def test_a_process_killed_before_the_rename_leaves_the_old_store(
    tmp_path: Path, now: datetime, champion: Champion
) -> None:
    store = JsonFileStore(tmp_path / "knowledge.json")
    first = decay(now, champion)
    store.add(first)
    before = store.path.read_bytes()
    second = decay(now, champion, scope=Scope())
    child = textwrap.dedent(
        f"""
        import os
        from recloop.knowledge.forbidden import ForbiddenDirection
        from recloop.knowledge.store import JsonFileStore

        second = ForbiddenDirection.model_validate_json({second.model_dump_json()!r})
        os.fsync = lambda fd: os._exit(9)  # die with the temp file written, before the rename
        JsonFileStore({str(store.path)!r}).add(second)
        """
    )
    result = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True)
    assert result.returncode == 9, result.stderr
    assert len(list(tmp_path.glob(".knowledge.json.*.tmp"))) == 1  # the crash's leftover
    assert store.path.read_bytes() == before
    assert store.list() == [first]


def test_a_corrupt_store_is_reported_and_never_overwritten(
    tmp_path: Path, now: datetime, champion: Champion
) -> None:
    path = tmp_path / "knowledge.json"
    path.write_text("{not json")
    store = JsonFileStore(path)
    with pytest.raises(CorruptStoreError, match="is not valid JSON"):
        store.list()
    with pytest.raises(CorruptStoreError):
        store.add(decay(now, champion))
    assert path.read_text() == "{not json"
    path.write_text(json.dumps({"format": "recloop-knowledge", "version": 99}))
    with pytest.raises(CorruptStoreError, match="version 99"):
        store.list()
    path.write_text(json.dumps({"something": "else"}))
    with pytest.raises(CorruptStoreError, match="not a recloop knowledge store"):
        store.list()


CHILD = """
import json, sys
from pathlib import Path
from recloop.knowledge.failures import FailureRecord
from recloop.knowledge.forbidden import ForbiddenDirection
from recloop.knowledge.ledger_store import workspace_store
from recloop.knowledge.store import JsonFileStore

kind, where, barrier, failures, directions = sys.argv[1:]
store = JsonFileStore(where) if kind == "json" else workspace_store(where)
Path(barrier + ".ready").touch()
while not Path(barrier).exists():
    pass
for raw in json.loads(failures):
    store.add_failure(FailureRecord.model_validate_json(raw))
for raw in json.loads(directions):
    store.add(ForbiddenDirection.model_validate_json(raw))
"""


@pytest.mark.parametrize("kind", ["json", "ledger"])
def test_concurrent_writers_lose_nothing(
    tmp_path: Path, kind: str, make_failure: MakeFailure, now: datetime, champion: Champion
) -> None:
    where = tmp_path / "knowledge.json" if kind == "json" else tmp_path
    failures = [make_failure() for _ in range(16)]
    pattern = Pattern(family="time-decay")
    directions = [
        forbid(pattern, origin="person", by="a", reason="r", now=now + timedelta(seconds=i),
               scope=Scope(kind="champion", champion=f"{i:07x}"))
        for i in range(16)
    ]  # fmt: skip
    children = []
    for half in (slice(0, 8), slice(8, 16)):
        barrier = tmp_path / f"go-{half.start}"
        args = [
            json.dumps([f.model_dump_json() for f in failures[half]]),
            json.dumps([d.model_dump_json() for d in directions[half]]),
        ]
        command = [sys.executable, "-c", CHILD, kind, str(where), str(barrier), *args]
        children.append((subprocess.Popen(command), barrier))
    for child, barrier in children:  # both open their store, then start at once
        while not barrier.with_suffix(".ready").exists():
            assert child.poll() is None, "a writer died before it started"
    for _, barrier in children:
        barrier.touch()
    assert [child.wait(timeout=120) for child, _ in children] == [0, 0]
    with contextlib.ExitStack() as stack:
        reader: KnowledgeStore = (
            JsonFileStore(where) if kind == "json" else stack.enter_context(workspace_store(where))
        )
        assert {f.id for f in reader.failures()} == {f.id for f in failures}
        assert reader.list() == directions
