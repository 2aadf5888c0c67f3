from pathlib import Path

import duckdb
import numpy as np
import pytest

from recloop.recsys.data import Interactions
from recloop.recsys.evaluate import evaluate
from recloop.recsys.logsource import LogSource, read_log
from recloop.recsys.models import make_model
from recloop.recsys.splits import make_split
from recloop.recsys.tabular import TableReadError


def _write(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


@pytest.fixture(scope="module")
def rewritten(ml100k_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ML-100K u.data rewritten as CSV, Parquet and a folder of Parquet parts, other headers."""
    out = tmp_path_factory.mktemp("byod")
    con = duckdb.connect()
    con.execute(
        f"CREATE TABLE r AS SELECT * FROM read_csv('{ml100k_root}/ml-100k/u.data', delim='\t', "
        "header=false, columns={'userId': 'BIGINT', 'movieId': 'BIGINT', 'rating': 'DOUBLE', "
        "'timestamp': 'BIGINT'})"
    )
    con.execute(f"COPY r TO '{out}/ratings.csv' (HEADER)")
    con.execute(
        "COPY (SELECT userId AS member, movieId AS film, rating AS stars, timestamp * 1000 AS ms "
        f"FROM r) TO '{out}/ratings.parquet' (FORMAT parquet)"
    )
    (out / "parts").mkdir()
    for part in range(3):
        con.execute(
            f"COPY (SELECT * FROM r WHERE userId % 3 = {part}) "
            f"TO '{out}/parts/part-{part}.parquet' (FORMAT parquet)"
        )
    return out


def _ndcg(data: Interactions) -> np.ndarray:
    split = make_split(data.implicit(4), "temporal-loo")
    return evaluate(make_model("ease"), split, k=10).per_user["ndcg"]


def test_csv_and_parquet_match_the_builtin_loader(rewritten: Path, ml100k: Interactions) -> None:
    expected = _ndcg(ml100k)
    csv = read_log(LogSource(path=rewritten / "ratings.csv"))
    assert csv.mapping == {
        "user": "userId",
        "item": "movieId",
        "rating": "rating",
        "time": "timestamp",
    }
    parquet = read_log(
        LogSource(
            path=rewritten / "ratings.parquet",
            columns={"user": "member", "item": "film", "rating": "stars", "time": "ms"},
        )
    )
    parts = read_log(LogSource(path=rewritten / "parts"))
    for loaded in (csv, parquet, parts):
        assert loaded.interactions.n_interactions == 100_000
        np.testing.assert_array_equal(_ndcg(loaded.interactions), expected)


def test_iso_times_and_milliseconds_become_epoch_seconds(tmp_path: Path) -> None:
    iso = _write(
        tmp_path / "iso.csv",
        "user_id,item_id,ts",
        ["a,x,2020-01-01 00:00:10", "a,y,2020-01-01T00:00:20"],
    )
    ms = _write(
        tmp_path / "ms.csv", "user_id,item_id,ts", ["a,x,1577836810000", "a,y,1577836820000"]
    )
    for path in (iso, ms):
        data = read_log(LogSource(path=path)).interactions
        assert sorted(data.timestamps.tolist()) == [1577836810, 1577836820]


def test_implicit_log_keeps_every_interaction(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "clicks.tsv", "user\titem\ttimestamp", ["1\t10\t5", "1\t11\t6", "2\t10\t7"]
    )
    loaded = read_log(LogSource(path=path))
    assert "implicit" in loaded.notes[0]
    assert loaded.interactions.implicit(4).n_interactions == 3  # no threshold on clicks


def test_duplicates_policy_and_count(tmp_path: Path) -> None:
    rows = ["1,10,1,100", "1,10,5,300", "1,10,3,200", "2,10,4,100"]
    path = _write(tmp_path / "dup.csv", "user_id,item_id,rating,timestamp", rows)
    last = read_log(LogSource(path=path))
    assert last.duplicates_removed == 2
    assert sorted(last.interactions.ratings.tolist()) == [4.0, 5.0]  # the latest (t=300) kept
    first = read_log(LogSource(path=path, duplicates="first"))
    assert sorted(first.interactions.ratings.tolist()) == [1.0, 4.0]
    kept = read_log(LogSource(path=path, duplicates="all"))
    assert (kept.duplicates_removed, kept.interactions.n_interactions) == (0, 4)


@pytest.mark.parametrize(
    ("header", "rows", "columns", "message"),
    [
        ("uid,product,score", ["1,2,3"], {}, r"no item column among uid, product, score"),
        (
            "user_id,userId,item_id",
            ["1,2,3"],
            {},
            r"ambiguous user column, candidates user_id, userId",
        ),
        (
            "user_id,item_id",
            ["1,2"],
            {"rating": "stars"},
            r"column 'stars' \(given for rating\) is not in the file",
        ),
        (
            "user_id,item_id,rating",
            ["1,2,4", "1,3,five"],
            {},
            r"'rating' \(rating\) holds a value that is not a number.*row 2",
        ),
        (
            "user_id,item_id,ts",
            ["1,2,100", "1,3,yesterday"],
            {},
            r"'ts' \(time\) holds a value.*row 2.*yesterday",
        ),
        ("user_id,item_id", ["1,2", ",3"], {}, r"'user_id' \(user\) is empty.*row 2"),
        ("user_id,item_id", ["1,2"], {"colour": "x"}, r"unknown column role colour"),
    ],
)
def test_bad_input_names_file_column_and_row(
    tmp_path: Path, header: str, rows: list[str], columns: dict[str, str], message: str
) -> None:
    path = _write(tmp_path / "bad.csv", header, rows)
    with pytest.raises(TableReadError, match=message) as caught:
        read_log(LogSource(path=path, columns=columns))
    assert str(path) in str(caught.value)


def test_missing_file_and_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(TableReadError, match="no such file"):
        read_log(LogSource(path=tmp_path / "absent.csv"))
    with pytest.raises(TableReadError, match=r"no \.parquet files"):
        read_log(LogSource(path=tmp_path))


def test_nothing_left_after_the_threshold_names_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "low.csv", "user_id,item_id,rating", ["1,2,1", "2,2,2"])
    data = read_log(LogSource(path=path)).interactions
    with pytest.raises(ValueError, match=r"low\.csv.*rating >= 4"):
        data.implicit(4)


def test_a_split_without_test_users_is_an_error(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "single.csv", "user_id,item_id,rating,timestamp", ["1,2,5,1", "2,3,5,2"]
    )
    data = read_log(LogSource(path=path)).interactions
    with pytest.raises(ValueError, match="no test users"):
        make_split(data.implicit(4), "temporal-loo")
