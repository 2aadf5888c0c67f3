"""Sources of experiment tables: opened read-only, columns and results alike across engines."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest

from recloop.stats.tables.errors import SourceError
from recloop.stats.tables.warehouse import (
    DuckDBWarehouse,
    SqlAlchemyWarehouse,
    Warehouse,
    open_source,
)

QUERY = (
    "SELECT unit_id, COUNT(*) AS n, CAST(SUM(value) AS DOUBLE PRECISION) AS total "
    "FROM events WHERE event_type = :kind GROUP BY unit_id ORDER BY unit_id"
)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _parquet(golden_db: Path, folder: Path, parts: bool = False) -> Path:
    folder.mkdir()
    with duckdb.connect(str(golden_db), read_only=True) as con:
        for table in ("assignments", "exposures", "events", "experiments"):
            target = folder / table if parts else folder / f"{table}.parquet"
            option = ", PARTITION_BY (unit_id)" if parts and table == "events" else ""
            if parts and not option:
                target.mkdir()
                target = target / "part-0.parquet"
            con.execute(f"COPY {table} TO '{target}' (FORMAT PARQUET{option})")
    return folder


def _check_reads(wh: Warehouse, reference: dict[str, np.ndarray]) -> None:
    columns = wh.columns("events")
    assert columns is not None
    assert {"unit_id", "session_id", "ts", "event_type", "value"} <= set(columns)
    assert wh.dialect.kind(columns["unit_id"]) == "integer"
    assert wh.dialect.kind(columns["ts"]) == "timestamp"
    assert wh.columns("no_such_table") is None
    result = wh.fetch(QUERY, {"kind": "consume", "unused": 1})
    np.testing.assert_array_equal(result["unit_id"], reference["unit_id"])
    np.testing.assert_array_equal(result["n"], reference["n"])
    np.testing.assert_allclose(result["total"], reference["total"], rtol=1e-12)


@pytest.fixture(scope="module")
def reference(golden_db: Path) -> dict[str, np.ndarray]:
    with open_source(golden_db) as wh:
        return wh.fetch(QUERY, {"kind": "consume"})


def test_a_duckdb_file_is_read_only_and_unchanged(golden_db: Path, tmp_path: Path) -> None:
    path = tmp_path / "copy.duckdb"
    path.write_bytes(golden_db.read_bytes())
    before = _digest(path)
    with open_source(path) as wh:
        assert isinstance(wh, DuckDBWarehouse) and wh.dialect.name == "duckdb"
        assert wh.columns("assignments") == {
            "experiment": "VARCHAR", "unit_id": "BIGINT", "variant": "VARCHAR",
            "first_exposure": "TIMESTAMP",
        }  # fmt: skip
        with pytest.raises(duckdb.Error, match="read-only"):
            wh.con.execute("CREATE TABLE x (a INTEGER)")
        with pytest.raises(SourceError, match="query failed"):
            wh.fetch("SELECT nonsense FROM events")
    assert _digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.duckdb"]  # no WAL left behind


@pytest.mark.parametrize("parts", [False, True], ids=["file-per-table", "folder-of-parts"])
def test_a_parquet_folder_reads_like_the_duckdb_file(
    golden_db: Path, tmp_path: Path, reference: dict[str, np.ndarray], parts: bool
) -> None:
    folder = _parquet(golden_db, tmp_path / "pq", parts)
    before = {p: _digest(p) for p in folder.rglob("*.parquet")}
    with open_source(folder) as wh:
        assert wh.dialect.name == "duckdb" and "Parquet" in wh.description
        _check_reads(wh, reference)
    assert {p: _digest(p) for p in folder.rglob("*.parquet")} == before


def test_a_parquet_folder_without_a_table_lacks_it(golden_db: Path, tmp_path: Path) -> None:
    folder = _parquet(golden_db, tmp_path / "pq")
    (folder / "events.parquet").unlink()
    with open_source(folder) as wh:
        assert wh.columns("events") is None
        assert wh.columns("assignments") is not None


def test_sqlite_by_url_or_path_is_read_only(
    golden_db: Path, tmp_path: Path, reference: dict[str, np.ndarray], sqlite_copy: Any
) -> None:
    url, path = sqlite_copy(golden_db, tmp_path / "tables.db")
    before = _digest(path)
    for source in (url, path):
        with open_source(source) as wh:
            assert isinstance(wh, SqlAlchemyWarehouse) and wh.dialect.name == "sqlite"
            _check_reads(wh, reference)
            with pytest.raises(SourceError, match="readonly database"):
                wh.fetch("CREATE TABLE x (a INTEGER)")
            with pytest.raises(SourceError, match="readonly database"):
                wh.fetch("DELETE FROM events")
    assert _digest(path) == before


def test_postgres_is_read_only(
    golden_db: Path, reference: dict[str, np.ndarray], postgres_copy: Any, postgres_schema: str
) -> None:
    url = postgres_copy(golden_db, postgres_schema)
    with open_source(url) as wh:
        assert wh.dialect.name == "postgresql"
        _check_reads(wh, reference)
        with pytest.raises(SourceError, match="read-only transaction"):
            wh.fetch("DELETE FROM events")
        with pytest.raises(SourceError, match="read-only transaction"):
            wh.fetch("CREATE TABLE x (a INTEGER)")
        assert wh.fetch("SELECT COUNT(*) AS n FROM events")["n"][0] > 0


def test_duckdb_nulls_come_back_as_nan_or_none() -> None:
    with duckdb.connect() as con:
        wh = DuckDBWarehouse.wrap(con)
        result = wh.fetch("SELECT * FROM (VALUES (1, 'a'), (NULL, NULL)) t(x, y)")
        assert np.isnan(result["x"][1]) and result["x"][0] == 1
        assert list(result["y"]) == ["a", None]
        wh.close()
        assert con.execute("SELECT 1").fetchone() == (1,)  # a wrapped connection stays open


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{tmp}/missing.duckdb", "no such file or folder"),
        ("{tmp}/garbage.duckdb", "not a readable DuckDB file"),
        ("mysql+pymysql://user@host/db", "dialect 'mysql' is not supported"),
        ("sqlite://", "in-memory SQLite"),
        ("sqlite:///{tmp}/missing.db", "no such SQLite file"),
        ("postgresql+psycopg://nobody@127.0.0.1:9/none", "cannot connect"),
    ],
)
def test_sources_that_cannot_be_opened_say_why(tmp_path: Path, source: str, message: str) -> None:
    (tmp_path / "garbage.duckdb").write_bytes(os.urandom(4096))
    with pytest.raises(SourceError, match=message):
        open_source(source.format(tmp=tmp_path))
