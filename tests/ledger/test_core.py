import datetime as dt

import pytest

from recloop.ledger import Experiment, Ledger
from recloop.ledger._core import ref_id


def test_append_audit_records_events_no_other_method_covers(
    ledger: Ledger, experiment: Experiment
) -> None:
    entry = ledger.append_audit(
        "worktree.removed", "candidate:3", {"path": ".recloop/worktrees/c-3"}, experiment=experiment
    )
    assert (entry.actor, entry.action, entry.experiment_id) == (
        "test",
        "worktree.removed",
        experiment.id,
    )
    assert ledger.audit_log()[-1] == entry
    by_someone = ledger.append_audit("budget.spent", "run:1", actor="loop")
    assert by_someone.actor == "loop" and by_someone.payload == {}


def test_the_audit_log_filters(ledger: Ledger, experiment: Experiment) -> None:
    everything = ledger.audit_log()
    assert [e.action for e in everything] == ["proposal.add", "experiment.create"]
    assert [e.id for e in everything] == sorted(e.id for e in everything)
    assert ledger.audit_log(subject=f"experiment:{experiment.id}") == everything[1:]
    assert ledger.audit_log(experiment=experiment) == everything[1:]
    assert ledger.audit_log(action="proposal.add") == everything[:1]
    assert ledger.audit_log(after_id=everything[0].id) == everything[1:]


def test_the_clock_must_be_aware(ledger_url: str) -> None:
    naive = Ledger.open(url=ledger_url, clock=lambda: dt.datetime(2026, 1, 1))
    with naive as ledger, pytest.raises(ValueError, match="aware"):
        ledger.add_proposal("p", family="f", title="t", level="L1", source="s")


def test_ref_id_takes_records_or_ids(experiment: Experiment) -> None:
    assert ref_id(experiment) == experiment.id == ref_id(experiment.id)


def test_a_failed_write_leaves_nothing_behind(ledger: Ledger, experiment: Experiment) -> None:
    before = ledger.audit_log()
    with pytest.raises(TypeError):
        ledger.add_candidate(
            experiment, "c", branch="b", commit=None, diff="", payload={"x": {1, 2}}
        )
    assert ledger.candidates(experiment) == []
    assert ledger.audit_log() == before
