from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pytest

from recloop.sim import tables
from recloop.sim.daylog import DayLog
from recloop.sim.tables import SCHEMA, TableWriter, table_schema


def _day() -> DayLog:
    ts = np.array([1_767_225_600, 1_767_225_605], np.int64)  # 2026-01-01 00:00:00 and :05
    return DayLog(
        events={
            "unit_id": np.array([7, 7]),
            "session_id": np.array([1, 1]),
            "ts": ts,
            "event_type": np.array([0, 3], np.int8),
            "item_id": np.array([42, -1]),
            "position": np.array([1, 0], np.int16),
            "value": np.array([1.0, 2.5]),
        },
        exposures={
            "unit_id": np.array([7]),
            "session_id": np.array([1]),
            "ts": ts[:1],
            "variant": np.array([1], np.int8),
            "policy": np.array([1], np.int8),
            "slate_size": np.array([10], np.int16),
            "latency_ms": np.array([0.5]),
        },
        assignments={
            "unit_id": np.array([7]),
            "variant": np.array([1], np.int8),
            "first_exposure": ts[:1],
        },
    )


def test_tables_have_the_documented_schema(tmp_path: Path) -> None:
    writer = TableWriter(tmp_path / "t.duckdb", "exp-1", ("pop", "ease"))
    for table, columns in SCHEMA.items():
        assert table_schema(writer.con, table) == columns
        for name, dtype, _ in columns:  # the module docstring is the written contract
            if table in tables.REQUIRED_TABLES:
                assert f"{name} " in (tables.__doc__ or "") and dtype in (tables.__doc__ or "")
    writer.close()


def test_rows_are_written_with_names_nulls_and_utc_times() -> None:
    writer = TableWriter(None, "exp-1", ("pop", "ease"))
    writer.write_day(_day())
    events = writer.con.execute(
        "SELECT event_type, item_id, position, value, strftime(ts, '%Y-%m-%d %H:%M:%S') "
        "FROM events ORDER BY ts"
    ).fetchall()
    assert events == [
        ("impression", 42, 1, 1.0, "2026-01-01 00:00:00"),
        ("return", None, None, 2.5, "2026-01-01 00:00:05"),
    ]
    exposure = writer.con.execute("SELECT experiment, variant, policy FROM exposures").fetchall()
    assert exposure == [("exp-1", "treatment", "ease")]
    assert writer.con.execute("SELECT variant FROM assignments").fetchall() == [("treatment",)]


def test_parquet_export_round_trips(tmp_path: Path) -> None:
    writer = TableWriter(None, "exp-1", ("pop", "ease"))
    writer.write_day(_day())
    paths = writer.export_parquet(tmp_path / "parquet")
    assert sorted(p.name for p in paths) == sorted(f"{t}.parquet" for t in SCHEMA)
    with duckdb.connect() as con:
        back = con.execute(
            "SELECT count(*) FROM read_parquet(?)", [str(tmp_path / "parquet" / "events.parquet")]
        ).fetchone()
    assert back == (2,)


def test_an_existing_file_is_not_overwritten_unless_asked(tmp_path: Path) -> None:
    path = tmp_path / "exists.duckdb"
    path.write_text("not ours")
    with pytest.raises(FileExistsError, match="exists"):
        TableWriter(path, "exp-1", ("pop",))
    TableWriter(path, "exp-1", ("pop",), overwrite=True).close()
