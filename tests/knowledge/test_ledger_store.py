"""The ledger-backed store: its rows in the ledger's tables, audit entries, and the one-time
import of an old `knowledge.json`."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from recloop.knowledge.champion import Champion
from recloop.knowledge.failures import FailureRecord
from recloop.knowledge.forbidden import Scope, forbid
from recloop.knowledge.ledger_store import IMPORT_ACTION, LedgerStore, workspace_store
from recloop.knowledge.pattern import Pattern, condition_for
from recloop.knowledge.store import CorruptStoreError, JsonFileStore
from recloop.ledger import Ledger

MakeFailure = Callable[..., FailureRecord]


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger.open(tmp_path) as opened:
        yield opened


def test_the_workspace_store_is_the_workspace_ledger(tmp_path: Path) -> None:
    with workspace_store(tmp_path) as store:
        assert store.location.endswith(".recloop/ledger.db")
        assert store.list() == [] and store.imported is None
    assert (tmp_path / ".recloop" / "ledger.db").is_file()
    assert not (tmp_path / ".recloop" / "knowledge.json").exists()


def test_rows_carry_the_records_columns_and_link_to_the_experiment(
    ledger: Ledger, make_failure: MakeFailure, now: datetime, champion: Champion
) -> None:
    proposal = ledger.add_proposal("p", family="time-decay", title="t", level="L1", source="s")
    experiment = ledger.create_experiment("time-decay-t0", proposal)
    candidate = ledger.add_candidate(experiment, "c", branch="b", commit="a" * 40, diff="")
    run = ledger.record_stage_run(
        experiment, candidate, "structural", verdict="reject", cause="undefined-name",
        sentence="s", wall_seconds=0.1, cpu_seconds=0.1,
    )  # fmt: skip
    store = LedgerStore(ledger)
    linked, loose = make_failure(candidate="time-decay-t0"), make_failure()
    store.add_failure(linked)
    store.add_failure(loose)
    rows = {row.key: row for row in ledger.failures(include_inactive=True)}
    assert (rows[linked.id].experiment_id, rows[linked.id].stage_run_id) == (experiment.id, run.id)
    assert rows[linked.id].candidate_id == candidate.id
    assert (rows[loose.id].experiment_id, rows[loose.id].stage_run_id) == (None, None)
    assert rows[loose.id].signature == loose.signature.key
    assert rows[loose.id].scope == f"champion:{champion.commit}"

    direction = forbid(Pattern(family="time-decay"), origin="person", by="alice", reason="r",
                       now=now, scope=Scope(kind="champion", champion=champion.commit))  # fmt: skip
    store.add(direction)
    store.remove(direction.id, by="bob", reason="the scorer changed", now=now + timedelta(hours=1))
    [row] = ledger.forbidden_directions(include_inactive=True)
    assert (row.signature, row.scope, row.created_by) == (
        direction.id,
        rows[loose.id].scope,
        "alice",
    )
    assert (row.removed_by, row.removed_reason) == ("bob", "the scorer changed")
    assert row.removed_at == now + timedelta(hours=1)
    actions = [(e.action, e.actor) for e in ledger.audit_log(subject=f"forbidden:{row.id}")]
    assert actions == [("forbidden.add", "alice"), ("forbidden.remove", "bob")]


def test_rows_the_store_did_not_write_are_not_its_directions(ledger: Ledger, now: datetime) -> None:
    ledger.forbid("sg-0123456789ab", "workspace", reason="written by another part")
    store = LedgerStore(ledger)
    assert store.list() == []
    direction = forbid(Pattern(family="ease-ranking"), origin="person", by="a", reason="r", now=now)
    store.add(direction)
    assert store.list() == [direction]
    assert len(ledger.forbidden_directions()) == 2


def test_an_old_json_store_is_imported_once(
    tmp_path: Path, make_failure: MakeFailure, now: datetime, champion: Champion
) -> None:
    path = tmp_path / ".recloop" / "knowledge.json"
    old = JsonFileStore(path)
    failure = make_failure(evidence={"log": "tail"})
    old.add_failure(failure)
    pattern = Pattern(family="time-decay", params={"half_life_days": condition_for(30)})
    direction = forbid(pattern, origin="rule", by="repeated-early-failure", reason="2 failures",
                       now=now, evidence=[failure.id], since=champion)  # fmt: skip
    old.add(direction)
    removed = old.remove(direction.id, by="alice", reason="r", now=now + timedelta(days=1))
    kept = path.with_name("knowledge.json.imported")

    with workspace_store(tmp_path) as store:
        assert store.imported is not None
        assert "imported 1 failure record(s) and 1 forbidden direction(s)" in store.imported
        assert (store.failures(), store.list()) == ([failure], [removed])
    assert not path.exists() and kept.is_file()

    shutil.copy(kept, path)  # as if a crash came between the import and the rename
    with workspace_store(tmp_path) as store:
        assert (store.failures(), store.list()) == ([failure], [removed])  # nothing twice
    with workspace_store(tmp_path) as store:
        assert store.imported is None
        assert len(store.ledger.audit_log(action=IMPORT_ACTION)) == 2


def test_a_corrupt_old_store_stops_the_import_and_stays(tmp_path: Path) -> None:
    path = tmp_path / ".recloop" / "knowledge.json"
    path.parent.mkdir()
    path.write_text("{not json")
    with pytest.raises(CorruptStoreError, match="is not valid JSON"):
        workspace_store(tmp_path)
    assert path.read_text() == "{not json"
