"""The contract is checked before any number: every breach is named by table and column."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from recloop.sim.tables import SCHEMA
from recloop.stats.tables.contract import COLUMNS, OPTIONAL_COLUMNS, validate
from recloop.stats.tables.dialect import to_ms, type_kind
from recloop.stats.tables.errors import SchemaError
from recloop.stats.tables.warehouse import open_source

DAY0 = "TIMESTAMP '2026-01-08 00:00:00'"


def _problems(path: Path | str, experiment: str = "golden") -> list[str]:
    with open_source(path) as wh, pytest.raises(SchemaError) as caught:
        validate(wh, experiment)
    assert all(str(p) in str(caught.value) for p in caught.value.problems)
    return [str(p) for p in caught.value.problems]


def test_the_contract_matches_what_the_simulator_writes() -> None:
    for table, columns in {**COLUMNS}.items():
        written = {name: kind for name, kind, _ in SCHEMA[table]}
        expected = {**columns, **OPTIONAL_COLUMNS.get(table, {})}
        for name, kind in expected.items():
            actual = type_kind(written[name])
            assert actual == kind or (kind == "number" and actual == "integer"), (table, name)


def test_the_golden_tables_pass_and_describe_the_experiment(golden_db: Path) -> None:
    with open_source(golden_db) as wh:
        info = validate(wh, "golden")
    assert info.start_ms == to_ms(datetime(2026, 1, 8))
    assert info.start_from == "experiments.start_ts"
    assert info.end_ms == to_ms(datetime(2026, 1, 11))
    assert info.treatment_share == 0.5 and info.ramp == ((0, 1.0),)
    assert info.ramp_share(3) == 1.0
    assert info.units == {"control": 6, "treatment": 6, "holdout": 1}
    assert info.pre_start_ms == to_ms(datetime(2025, 12, 25))
    assert info.notes == ()


BREACHES: list[tuple[tuple[str, ...], list[str]]] = [
    (("DROP TABLE events",), ["events: missing table"]),
    (("ALTER TABLE exposures DROP COLUMN latency_ms",), ["exposures.latency_ms: missing column"]),
    (("ALTER TABLE events RENAME COLUMN value TO Amount",), ["events.value: missing column"]),
    (("ALTER TABLE events ALTER ts TYPE VARCHAR",),
     ["events.ts: expected a timestamp, found VARCHAR"]),
    (("ALTER TABLE assignments ALTER unit_id TYPE VARCHAR",),
     ["assignments.unit_id: expected an integer, found VARCHAR"]),
    (("ALTER TABLE exposures ALTER latency_ms TYPE VARCHAR",),
     ["exposures.latency_ms: expected a number, found VARCHAR"]),
    (("INSERT INTO assignments VALUES ('golden', 1, 'treatment', TIMESTAMP '2026-01-08 06:00')",),
     ["assignments.variant: 1 units are assigned to both arms (e.g. unit 1: 'control' and "
      "'treatment')", "exposures.variant: 2 sessions are logged with another variant"]),
    (("INSERT INTO assignments VALUES ('golden', 2, 'control', TIMESTAMP '2026-01-08 12:00')",),
     ["assignments.unit_id: 1 units have more than one row for the experiment (e.g. unit 2: 2 "
      "rows)"]),
    (("UPDATE assignments SET variant = 'B' WHERE unit_id = 3",),
     ["assignments.variant: unknown variant 'B' in 1 rows (expected control, treatment, holdout)"]),
    (("DELETE FROM assignments WHERE variant = 'treatment' AND experiment = 'golden'",),
     ["assignments.variant: experiment 'golden' has no 'treatment' units"]),
    (("DELETE FROM exposures WHERE experiment = 'golden'",),
     ["exposures.experiment: no sessions of experiment 'golden'"]),
    (("ALTER TABLE assignments ALTER first_exposure DROP NOT NULL",
      "UPDATE assignments SET first_exposure = NULL WHERE unit_id = 4"),
     ["assignments.first_exposure: 1 rows of the experiment's units are NULL"]),
    (("UPDATE exposures SET variant = 'treatment' WHERE unit_id = 1 AND ts > " + DAY0.replace(
        "08", "09"),),
     ["exposures.variant: 1 sessions are logged with another variant than their unit's "
      "assignment, so units were served both arms (e.g. unit 1 assigned 'control', session 3 "
      "logged 'treatment')"]),
    (("DELETE FROM assignments WHERE unit_id = 5",),
     ["exposures.unit_id: 1 units have sessions of the experiment but no assignments row "
      "(e.g. unit 5)"]),
    (("UPDATE assignments SET first_exposure = first_exposure + INTERVAL 1 HOUR "
      "WHERE unit_id = 1",),
     ["exposures.ts: 1 sessions of the experiment start before their unit's first_exposure "
      "(e.g. unit 1, session 2 at 2026-01-08 06:00:00, first exposure 2026-01-08 07:00:00)",
      "events.ts: 13 events of the experiment's sessions are timed before their unit's first "
      "exposure (e.g. unit 1, session 2 at 2026-01-08 06:00:00, first exposure 2026-01-08 "
      "07:00:00)"]),
    (("UPDATE events SET ts = ts - INTERVAL 1 DAY WHERE unit_id = 11 AND event_type = 'click' "
      "AND ts < TIMESTAMP '2026-01-08 07:00'",),
     ["events.ts: 2 events of the experiment's sessions are timed before their unit's first "
      "exposure (e.g. unit 11, session"]),
    (("UPDATE events SET unit_id = 12 WHERE unit_id = 11 AND event_type = 'consume' "
      "AND ts < TIMESTAMP '2026-01-09'",),
     ["events.unit_id: 1 events of the experiment's sessions name another unit than the "
      "session's (e.g. session"]),
    (("INSERT INTO experiments SELECT * FROM experiments",),
     ["experiments.experiment: 2 rows for experiment 'golden'; expected one"]),
    (("UPDATE experiments SET treatment_share = 1.5",),
     ["experiments.treatment_share: 1.5 is not in (0, 1)"]),
]  # fmt: skip


@pytest.mark.parametrize(("statements", "expected"), BREACHES, ids=lambda v: str(v)[:60])
def test_each_breach_is_named_by_table_and_column(
    mutated: Any, statements: tuple[str, ...], expected: list[str]
) -> None:
    problems = _problems(mutated(*statements))
    assert len(problems) == len(expected), problems
    for problem, start in zip(problems, expected, strict=True):
        assert problem.startswith(start), problem


def test_several_structural_breaches_are_reported_at_once(mutated: Any) -> None:
    problems = _problems(mutated(
        "DROP TABLE assignments", "ALTER TABLE events DROP COLUMN event_type",
        "ALTER TABLE exposures ALTER ts TYPE DATE",
    ))  # fmt: skip
    assert problems == [
        "assignments: missing table",
        "exposures.ts: expected a timestamp, found DATE",
        "events.event_type: missing column",
    ]


def test_an_unknown_experiment_lists_the_ones_there(golden_db: Path) -> None:
    assert _problems(golden_db, "nope") == [
        "assignments.experiment: no experiment named 'nope'; the table holds: 'golden', 'other'"
    ]


def test_without_a_pre_period_validation_passes_and_says_cuped_is_skipped(mutated: Any) -> None:
    with open_source(mutated(f"DELETE FROM events WHERE ts < {DAY0}")) as wh:
        info = validate(wh, "golden")
    assert info.pre_start_ms is None
    assert any("no pre-period" in note and "CUPED" in note for note in info.notes)


def test_without_the_experiments_table_the_start_is_the_first_exposure(mutated: Any) -> None:
    with open_source(mutated("DROP TABLE experiments")) as wh:
        info = validate(wh, "golden")
    assert info.start_ms == to_ms(datetime(2026, 1, 8, 6))
    assert info.start_from == "earliest first_exposure"
    assert info.end_ms is None and info.treatment_share is None
    assert "no experiments table" in info.notes[0]


def test_time_zone_aware_timestamps_are_accepted(mutated: Any) -> None:
    path = mutated("ALTER TABLE events ALTER ts TYPE TIMESTAMPTZ")
    with open_source(path) as wh:
        assert validate(wh, "golden").units["control"] == 6


def test_sqlite_text_times_must_parse(golden_db: Path, tmp_path: Path, sqlite_copy: Any) -> None:
    url, path = sqlite_copy(golden_db, tmp_path / "tables.db")
    with open_source(url) as wh:
        assert validate(wh, "golden").units["treatment"] == 6
    with closing(sqlite3.connect(path)) as con:
        con.execute("UPDATE events SET ts = 'yesterday' WHERE rowid = 1")
        con.execute("UPDATE assignments SET first_exposure = 1767852000 WHERE rowid = 2")
        con.commit()
    assert _problems(url) == [
        "assignments.first_exposure: 1 values are not ISO timestamps (e.g. '1767852000')",
        "events.ts: 1 values are not ISO timestamps (e.g. 'yesterday')",
    ]


def _facts(path: Path | str) -> tuple[Any, ...]:
    with open_source(path) as wh:
        info = validate(wh, "golden")
    return (info.start_ms, info.end_ms, info.last_ms, info.treatment_share, info.ramp,
            info.units, info.pre_start_ms, info.notes)  # fmt: skip


def test_sqlite_and_postgres_copies_describe_the_same_experiment(
    golden_db: Path, tmp_path: Path, sqlite_copy: Any, postgres_copy: Any, request: Any
) -> None:
    expected = _facts(golden_db)
    assert _facts(sqlite_copy(golden_db, tmp_path / "t.db")[0]) == expected
    schema = request.getfixturevalue("postgres_schema")  # skips without a test PostgreSQL
    assert _facts(postgres_copy(golden_db, schema)) == expected
