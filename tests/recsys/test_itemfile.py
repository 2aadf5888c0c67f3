from pathlib import Path

import numpy as np
import pytest

from recloop.recsys.itemfile import read_item_info
from recloop.recsys.tabular import TableReadError


def test_genres_split_on_pipes_and_commas_aligned_to_the_item_index(tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text(
        "movie_id,genres,year\n10,Action|Comedy,1995\n"
        '30,"Drama, Comedy",\n20,,2001\n99,Horror,1990\n'
    )
    info = read_item_info(path, np.array([10, 20, 30, 40]))
    assert info.genre_names == ("Action", "Comedy", "Drama", "Horror")
    dense = info.genres.toarray()
    assert dense.tolist() == [[1, 1, 0, 0], [0, 0, 0, 0], [0, 1, 1, 0], [0, 0, 0, 0]]
    assert info.year[0] == 1995 and info.year[1] == 2001
    assert np.isnan(info.year[2]) and np.isnan(info.year[3])  # no year; item 40 not in the file


def test_missing_genres_column_is_named(tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text("item_id,title\n1,Heat\n")
    with pytest.raises(TableReadError, match="no genres column among item_id, title"):
        read_item_info(path, np.array([1]))
