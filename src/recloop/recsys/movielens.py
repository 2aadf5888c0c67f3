"""MovieLens 100K and 1M, read from the official files, verified, downloaded when missing.

The licence forbids redistribution, so recloop never ships the files: it reads them from a data
directory (`RECLOOP_DATA_DIR`, else the user cache directory) and fetches the official zip from
GroupLens when they are missing and the network is there. Every file is checked against a pinned
checksum before it is parsed, so a truncated or altered file is refused rather than evaluated.
"""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from recloop.recsys.data import Interactions, ItemInfo
from recloop.recsys.datadir import DataUnavailableError, data_dir

GROUPLENS = "https://files.grouplens.org/datasets/movielens"


@dataclass(frozen=True)
class MovieLensRelease:
    """Where a release lives and what its files must hash to."""

    name: str
    files: tuple[str, ...]  # what must be present after extraction
    zip_md5: str  # published by GroupLens next to the zip
    sha256: dict[str, str]  # extracted file -> sha256; empty when only the zip is pinned
    ratings_file: str
    n_ratings: int  # the published count: a second check where no file hash is pinned
    url: str


ML_100K = MovieLensRelease(
    name="ml-100k",
    files=("u.data", "u.item", "u.genre"),
    zip_md5="0e33842e24a9c977be4e0107933c0723",
    sha256={
        "u.data": "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490",
        "u.item": "553841ebc7de3a0fd0d6b62a204ea30c1e651aacfb2814c7a6584ac52f2c5701",
        "u.genre": "9757e0d3e6b298159a80dd48eaf938114690e911e39af97a76949ef1663610bb",
    },
    ratings_file="u.data",
    n_ratings=100_000,
    url=f"{GROUPLENS}/ml-100k.zip",
)
ML_1M = MovieLensRelease(
    name="ml-1m",
    files=("ratings.dat", "movies.dat"),
    zip_md5="c4d9eecfca2ab87c1945afe126590906",
    sha256={},
    ratings_file="ratings.dat",
    n_ratings=1_000_209,
    url=f"{GROUPLENS}/ml-1m.zip",
)


class ChecksumError(ValueError):
    """A data file's bytes differ from the pinned release."""


def _digest(path: Path, algorithm: str) -> str:
    h = hashlib.new(algorithm)
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify_files(folder: Path, sha256: dict[str, str]) -> None:
    """Raise ChecksumError naming the first file whose sha256 differs from the pinned one."""
    for name, expected in sha256.items():
        got = _digest(folder / name, "sha256")
        if got != expected:
            raise ChecksumError(
                f"{folder / name} has sha256 {got}, expected {expected}: the file is not the "
                "official release (delete it to have recloop download it again)"
            )


def _download(release: MovieLensRelease, target: Path) -> None:
    """Fetch the official zip, check its md5, extract it into target (atomically by rename)."""
    try:
        # a fresh opener: the proxy settings of the environment now, not of the first call
        with urllib.request.build_opener().open(release.url, timeout=60) as response:
            payload = response.read()
    except OSError as exc:
        raise DataUnavailableError(
            f"{release.name} is not in {target} and could not be downloaded from {release.url} "
            f"({exc}). Put the official files there or set RECLOOP_DATA_DIR."
        ) from exc
    md5 = hashlib.md5(payload).hexdigest()
    if md5 != release.zip_md5:
        raise ChecksumError(f"{release.url} has md5 {md5}, expected {release.zip_md5}")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        zipfile.ZipFile(io.BytesIO(payload)).extractall(tmp)
        extracted = Path(tmp) / release.name
        shutil.move(str(extracted), str(target))


def release_folder(release: MovieLensRelease, root: Path | None = None) -> Path:
    """The folder holding a release's files, downloading them first when they are missing."""
    folder = (root or data_dir()) / release.name
    if not all((folder / name).is_file() for name in release.files):
        _download(release, folder)
    verify_files(folder, release.sha256)
    return folder


def _check_count(release: MovieLensRelease, n: int) -> None:
    if n != release.n_ratings:
        raise ChecksumError(
            f"{release.name}/{release.ratings_file} holds {n:,} ratings, the official release "
            f"{release.n_ratings:,}: the file is incomplete or not the official one"
        )


def _year_from_title(titles: list[str]) -> np.ndarray:
    years = [re.search(r"\((\d{4})\)\s*$", t.strip()) for t in titles]
    return np.array([float(m.group(1)) if m else np.nan for m in years])


def _genre_matrix(rows: list[list[int]], n_items: int, n_genres: int) -> sp.csr_matrix:
    indptr = np.cumsum([0] + [len(r) for r in rows])
    indices = np.fromiter((g for r in rows for g in r), dtype=np.int32, count=int(indptr[-1]))
    data = np.ones(len(indices), np.float32)
    return sp.csr_matrix((data, indices, indptr), shape=(n_items, n_genres))


def _attach_items(
    ratings: Interactions, item_ids: np.ndarray, info: ItemInfo, name: str
) -> Interactions:
    """Align item side information (given for item_ids) to the rated items' index."""
    order = np.argsort(item_ids)
    pos = order[np.searchsorted(item_ids, ratings.item_ids, sorter=order)]
    if not np.array_equal(item_ids[pos], ratings.item_ids):
        raise ValueError(f"{name}: some rated items are missing from the item file")
    return replace(ratings.with_item_info(info.take(pos)), name=name)


def load_ml100k(root: Path | None = None, release: MovieLensRelease = ML_100K) -> Interactions:
    """MovieLens 100K: 100,000 ratings (1-5) of 1,682 movies by 943 users, with 19 genres."""
    folder = release_folder(release, root)
    raw = np.loadtxt(folder / "u.data", dtype=np.int64, delimiter="\t", ndmin=2)
    _check_count(release, len(raw))
    ratings = Interactions.from_raw(raw[:, 0], raw[:, 1], raw[:, 2], raw[:, 3])
    genre_lines = (folder / "u.genre").read_text("latin-1").split("\n")
    genre_names = tuple(line.split("|")[0] for line in genre_lines if "|" in line)
    ids, titles, flags = [], [], []
    for line in (folder / "u.item").read_text("latin-1").splitlines():
        fields = line.split("|")
        ids.append(int(fields[0]))
        titles.append(fields[1])
        flags.append([g for g, f in enumerate(fields[5:]) if f == "1"])
    info = ItemInfo(
        _genre_matrix(flags, len(ids), len(genre_names)), genre_names, _year_from_title(titles)
    )
    return _attach_items(ratings, np.array(ids), info, "ml-100k")


def load_ml1m(root: Path | None = None, release: MovieLensRelease = ML_1M) -> Interactions:
    """MovieLens 1M: 1,000,209 ratings of 3,706 movies by 6,040 users (`::`-separated, latin-1)."""
    folder = release_folder(release, root)
    text = (folder / "ratings.dat").read_bytes().replace(b"::", b"\t")
    raw = np.loadtxt(io.BytesIO(text), dtype=np.int64, delimiter="\t", ndmin=2)
    _check_count(release, len(raw))
    ratings = Interactions.from_raw(raw[:, 0], raw[:, 1], raw[:, 2], raw[:, 3])
    ids, titles, genre_lists = [], [], []
    for line in (folder / "movies.dat").read_text("latin-1").splitlines():
        movie_id, title, genres = line.split("::")
        ids.append(int(movie_id))
        titles.append(title)
        genre_lists.append(genres.strip().split("|"))
    genre_names = tuple(sorted({g for gs in genre_lists for g in gs}))
    genre_index = {g: i for i, g in enumerate(genre_names)}
    rows = [[genre_index[g] for g in gs] for gs in genre_lists]
    info = ItemInfo(
        _genre_matrix(rows, len(ids), len(genre_names)), genre_names, _year_from_title(titles)
    )
    return _attach_items(ratings, np.array(ids), info, "ml-1m")
