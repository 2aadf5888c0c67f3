import hashlib
import io
import shutil
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from functools import partial
from http.server import HTTPServer, SimpleHTTPRequestHandler
from pathlib import Path

import numpy as np
import pytest

from recloop.recsys.datadir import DataUnavailableError
from recloop.recsys.movielens import (
    ML_1M,
    ML_100K,
    ChecksumError,
    load_ml1m,
    load_ml100k,
)

# a tiny ML-1M fixture in the official format: `::`-separated, latin-1
RATINGS_DAT = "1::10::5::978300760\n1::20::3::978302109\n2::10::4::978301968\n2::30::1::978300275\n"
MOVIES_DAT = (
    "10::Toy Story (1995)::Animation|Children's|Comedy\n"
    "20::Jumanji (1995)::Adventure|Children's|Fantasy\n"
    "30::Café Society (1995)::Drama\n"
    "40::Never Rated (1996)::Drama\n"
)


def _write_ml1m(folder: Path) -> None:
    folder.mkdir(parents=True)
    (folder / "ratings.dat").write_bytes(RATINGS_DAT.encode("latin-1"))
    (folder / "movies.dat").write_bytes(MOVIES_DAT.encode("latin-1"))


def _fixture_release() -> object:
    return replace(ML_1M, n_ratings=4, url="http://127.0.0.1:9/nothing-listens-here.zip")


def test_ml100k_matches_the_official_release(ml100k_root: Path) -> None:
    data = load_ml100k(ml100k_root)
    assert data.describe()["interactions"] == 100_000
    assert (data.n_users, data.n_items) == (943, 1682)
    assert data.item_info is not None
    assert len(data.item_info.genre_names) == 19
    # first line of u.data: 196 242 3 881250949
    first = (data.users == np.searchsorted(data.user_ids, 196)) & (
        data.items == np.searchsorted(data.item_ids, 242)
    )
    assert data.ratings[first].tolist() == [3.0]
    assert data.timestamps[first].tolist() == [881250949]
    # item 1 is Toy Story (1995): Animation, Children's, Comedy
    toy = data.item_info.genres[np.searchsorted(data.item_ids, 1)].indices
    assert {data.item_info.genre_names[g] for g in toy} == {"Animation", "Children's", "Comedy"}
    assert data.item_info.year[np.searchsorted(data.item_ids, 1)] == 1995


def test_altered_file_is_refused(ml100k_root: Path, tmp_path: Path) -> None:
    copy = tmp_path / "ml-100k"
    shutil.copytree(ml100k_root / "ml-100k", copy)
    (copy / "u.data").chmod(0o644)
    with (copy / "u.data").open("ab") as f:
        f.write(b"1\t1\t5\t1\n")
    with pytest.raises(ChecksumError, match=r"u\.data has sha256"):
        load_ml100k(tmp_path)


def test_ml1m_loader_reads_the_official_format(tmp_path: Path) -> None:
    _write_ml1m(tmp_path / "ml-1m")
    data = load_ml1m(tmp_path, release=_fixture_release())
    assert (data.n_users, data.n_items, data.n_interactions) == (2, 3, 4)
    assert data.item_info is not None
    assert data.item_info.genres.shape == (3, 6)  # only rated items; 6 distinct genres
    assert data.item_info.year.tolist() == [1995.0, 1995.0, 1995.0]
    cafe = data.item_info.genres[2].indices
    assert [data.item_info.genre_names[g] for g in cafe] == ["Drama"]


def test_ml1m_with_missing_ratings_is_refused(tmp_path: Path) -> None:
    _write_ml1m(tmp_path / "ml-1m")
    with pytest.raises(ChecksumError, match="1,000,209"):
        load_ml1m(tmp_path)  # the real release expects 1,000,209 ratings


def test_missing_files_without_network_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataUnavailableError, match="could not be downloaded"):
        load_ml1m(tmp_path, release=_fixture_release())


@pytest.fixture
def zip_server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Serve a zip of the ML-1M fixture over HTTP on loopback: (url, md5)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("ml-1m/ratings.dat", RATINGS_DAT.encode("latin-1"))
        archive.writestr("ml-1m/movies.dat", MOVIES_DAT.encode("latin-1"))
    served = tmp_path / "served"
    served.mkdir()
    (served / "ml-1m.zip").write_bytes(buffer.getvalue())
    handler = partial(SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/ml-1m.zip"
        yield url, hashlib.md5(buffer.getvalue()).hexdigest()
    finally:
        server.shutdown()
        server.server_close()


def test_download_extracts_and_verifies(tmp_path: Path, zip_server: tuple[str, str]) -> None:
    url, md5 = zip_server
    root = tmp_path / "cache"
    release = replace(ML_1M, n_ratings=4, url=url, zip_md5=md5)
    data = load_ml1m(root, release=release)
    assert data.n_interactions == 4
    assert (root / "ml-1m" / "ratings.dat").is_file()


def test_download_with_wrong_md5_is_refused(tmp_path: Path, zip_server: tuple[str, str]) -> None:
    url, _ = zip_server
    release = replace(ML_1M, n_ratings=4, url=url, zip_md5="0" * 32)
    with pytest.raises(ChecksumError, match="md5"):
        load_ml1m(tmp_path / "cache", release=release)
    assert not (tmp_path / "cache" / "ml-1m").exists()


def test_ml100k_release_pins_every_parsed_file() -> None:
    assert set(ML_100K.files) <= set(ML_100K.sha256)
