"""Opening ledgers, several processes writing at once, and JSON payloads round-tripping."""

from __future__ import annotations

import importlib.util
import itertools
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from recloop.ledger import URL_ENV, Candidate, Experiment, Ledger, LedgerUnavailableError
from recloop.ledger.jsonable import to_json
from recloop.ledger.states import STATES


def test_open_defaults_to_sqlite_in_the_workspace(
    tmp_path: Path, make_experiment: Callable[..., Experiment]
) -> None:
    with Ledger.open(tmp_path, env={}) as ledger:
        assert ledger.dialect == "sqlite"
        assert ledger.engine.url.database == str(tmp_path / ".recloop" / "ledger.db")
        make_experiment(ledger)
    with Ledger.open(tmp_path, env={}) as again:  # reopened: same rows, no second migration
        assert [e.key for e in again.experiments()] == ["e-1"]


def test_open_takes_the_url_from_the_environment(
    tmp_path: Path, make_experiment: Callable[..., Experiment]
) -> None:
    elsewhere = tmp_path / "elsewhere.db"
    env = {URL_ENV: f"sqlite:///{elsewhere}"}
    with Ledger.open(tmp_path / "ws", env=env) as ledger:
        make_experiment(ledger)
    assert elsewhere.is_file()
    assert not (tmp_path / "ws" / ".recloop").exists()


def test_open_refuses_what_it_cannot_reach(tmp_path: Path) -> None:
    with pytest.raises(LedgerUnavailableError, match="not a database URL"):
        Ledger.open(url="no such thing")
    (tmp_path / "a-file").write_text("")
    with pytest.raises(LedgerUnavailableError, match="cannot open the ledger"):
        Ledger.open(tmp_path / "a-file", env={})  # its .recloop/ cannot be made
    with pytest.raises(LedgerUnavailableError, match="cannot open the ledger"):
        Ledger.open(url="postgresql+psycopg://nobody@127.0.0.1:1/none")  # nothing listens
    with pytest.raises(LedgerUnavailableError, match="cannot open the ledger"):
        Ledger.open(url="nosuchdb://x/y")
    assert importlib.util.find_spec("pg8000") is None  # a driver SQLAlchemy knows, not installed
    with pytest.raises(LedgerUnavailableError, match="driver is not installed") as missing:
        Ledger.open(url="postgresql+pg8000://loop:s3cret@127.0.0.1/db")
    assert "s3cret" not in str(missing.value)


def test_memory_ledger_is_private_and_complete(
    make_experiment: Callable[..., Experiment],
) -> None:
    with Ledger.memory() as one, Ledger.memory() as two:
        make_experiment(one)
        assert len(one.experiments()) == 1
        assert two.experiments() == []


def test_sqlite_ledger_runs_in_wal_mode_with_foreign_keys(
    tmp_path: Path, make_experiment: Callable[..., Experiment]
) -> None:
    with Ledger.open(tmp_path, env={}) as ledger:
        make_experiment(ledger)
        with ledger.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
        assert (tmp_path / ".recloop" / "ledger.db-wal").exists()


def test_two_processes_racing_one_transition_exactly_one_wins(
    ledger_url: str, workers: Callable[..., list[Any]], make_experiment: Callable[..., Experiment]
) -> None:
    with Ledger.open(url=ledger_url) as ledger:
        experiment = make_experiment(ledger)
    results = workers(
        ledger_url,
        "advance",
        2,
        experiment_id=experiment.id,
        from_state="proposed",
        to_state="forbidden_check",
    )
    assert sorted(results) == ["lost:forbidden_check", "won"]
    with Ledger.open(url=ledger_url) as ledger:
        assert ledger.get_experiment(experiment).state_version == 1
        assert len(ledger.history(experiment)) == 1


def test_many_processes_walking_one_experiment_apply_each_move_once(
    ledger_url: str, workers: Callable[..., list[Any]], make_experiment: Callable[..., Experiment]
) -> None:
    with Ledger.open(url=ledger_url) as ledger:
        experiment = make_experiment(ledger)
    results = workers(ledger_url, "walk", 4, experiment_id=experiment.id)
    moves = [move for won in results for move in won]  # type: ignore[attr-defined]
    assert len(moves) == len(set(moves)) == 10  # proposed → … → launched, each move once
    with Ledger.open(url=ledger_url) as ledger:
        final = ledger.get_experiment(experiment)
        assert (final.state, final.state_version) == ("launched", 10)
        history = [(e.payload["from"], e.payload["to"]) for e in ledger.history(experiment)]
        chain = [s for s in STATES if s != "closed"]
        assert history == list(itertools.pairwise(chain))


def test_processes_recording_the_same_stage_run_get_one_row(
    ledger_url: str,
    workers: Callable[..., list[Any]],
    make_experiment: Callable[..., Experiment],
    make_candidate: Callable[..., Candidate],
) -> None:
    with Ledger.open(url=ledger_url) as ledger:
        experiment = make_experiment(ledger)
        candidate = make_candidate(ledger, experiment)
    ids = workers(
        ledger_url,
        "record_stage",
        4,
        experiment_id=experiment.id,
        candidate_id=candidate.id,
    )
    assert len(set(ids)) == 1
    with Ledger.open(url=ledger_url) as ledger:
        assert len(ledger.stage_runs(experiment)) == 1
        assert len(ledger.audit_log(action="stage_run.record")) == 1


def test_processes_opening_a_new_ledger_at_once_create_it_once(
    ledger_url: str, workers: Callable[..., list[Any]]
) -> None:
    assert workers(ledger_url, "opened", 4) == [0, 0, 0, 0]
    with Ledger.open(url=ledger_url) as ledger, ledger.engine.connect() as connection:
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        assert len(versions) == 1


_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\0")),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(
            st.text(st.characters(exclude_characters="\0"), max_size=8), inner, max_size=4
        )
    ),
    max_leaves=12,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    payload=st.dictionaries(
        st.text(max_size=8).filter(lambda k: "\0" not in k), _json_values, max_size=5
    )
)
def test_json_payloads_read_back_as_written(ledger: Ledger, payload: dict[str, object]) -> None:
    experiment = ledger.create_experiment(
        f"e-{len(ledger.experiments())}", _proposal(ledger), payload=payload
    )
    expected = to_json(payload)
    assert ledger.get_experiment(experiment).payload == expected
    assert experiment.payload == expected
    assert ledger.audit_log(subject=f"experiment:{experiment.id}")[0].experiment_id == experiment.id


def test_non_finite_floats_are_kept_as_words(
    ledger: Ledger, experiment: Experiment, candidate: Candidate
) -> None:
    evidence = {"scores": [math.nan, math.inf, -math.inf, 0.5], "nested": {"p": 1e-300}}
    run = ledger.record_stage_run(
        experiment,
        candidate,
        "semantic",
        verdict="reject",
        cause="non-finite-scores",
        sentence="12 scores are NaN",
        wall_seconds=1.0,
        cpu_seconds=0.9,
        evidence=evidence,
    )
    stored = ledger.stage_runs(experiment)[0].evidence
    assert (
        stored
        == run.evidence
        == {
            "scores": ["NaN", "Infinity", "-Infinity", 0.5],
            "nested": {"p": 1e-300},
        }
    )


def _proposal(ledger: Ledger) -> int:
    return ledger.add_proposal("p", family="f", title="t", level="L1", source="test").id


def test_clock_sets_every_time(ledger: Ledger, clock: Any, experiment: Experiment) -> None:
    later = clock.advance(hours=2)
    moved = ledger.transition(experiment, "proposed", "forbidden_check")
    assert experiment.created_at == clock.now.replace(hour=9)
    assert moved.updated_at == later
    assert ledger.history(experiment)[0].at == later
