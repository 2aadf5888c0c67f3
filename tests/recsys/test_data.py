import numpy as np
import pytest
import scipy.sparse as sp

from recloop.recsys.data import Interactions, ItemInfo


def _toy() -> Interactions:
    # raw ids deliberately unsorted and sparse: users 30, 10, 20; items "c", "a", "b"
    return Interactions.from_raw(
        user_ids=np.array([30, 10, 10, 20, 30, 30]),
        item_ids=np.array(["c", "a", "b", "a", "c", "b"]),
        ratings=np.array([5, 3, 4, 5, 1, 2]),
        timestamps=np.array([6, 1, 2, 3, 4, 5]),
        name="toy",
    )


def test_from_raw_indexes_sorted_ids() -> None:
    data = _toy()
    assert list(data.user_ids) == [10, 20, 30]
    assert list(data.item_ids) == ["a", "b", "c"]
    assert list(data.users) == [2, 0, 0, 1, 2, 2]
    assert list(data.items) == [2, 0, 1, 0, 2, 1]
    assert data.shape == (3, 3)


def test_matrix_sums_duplicates_and_binary_counts_once() -> None:
    data = _toy()
    # user 30 rated item "c" twice (5 and 1): the value matrix sums, the binary view counts once
    assert data.matrix[2, 2] == 6.0
    assert data.binary[2, 2] == 1.0
    assert list(data.user_counts) == [2, 1, 2]
    assert list(data.item_counts) == [2, 2, 1]


def test_select_keeps_index_space() -> None:
    data = _toy()
    part = data.select(data.timestamps <= 2)
    assert part.shape == data.shape
    assert part.n_interactions == 2


def test_implicit_keeps_positives_and_reindexes() -> None:
    data = _toy()
    positives = data.implicit(4)
    assert positives.n_interactions == 3  # ratings 5, 4, 5
    assert list(positives.user_ids) == [10, 20, 30]
    assert list(positives.item_ids) == ["a", "b", "c"]
    assert np.all(positives.ratings == 1.0)
    only_fives = data.implicit(5)
    assert list(only_fives.user_ids) == [20, 30]
    assert list(only_fives.item_ids) == ["a", "c"]


def test_implicit_with_nothing_left_is_an_error() -> None:
    with pytest.raises(ValueError, match="no interaction"):
        _toy().implicit(6)


def test_reindex_carries_item_info_rows() -> None:
    genres = sp.csr_matrix(np.array([[1, 0], [0, 1], [1, 1]], dtype=np.float32))
    info = ItemInfo(genres, ("x", "y"), np.array([1990.0, 2000.0, np.nan]))
    data = Interactions(
        users=np.array([0, 1], np.int32),
        items=np.array([2, 0], np.int32),
        ratings=np.array([5, 5], np.float32),
        timestamps=np.array([1, 2], np.int64),
        user_ids=np.array([1, 2]),
        item_ids=np.array([7, 8, 9]),
        item_info=info,
    )
    kept = data.reindexed()
    assert list(kept.item_ids) == [7, 9]
    assert kept.item_info is not None
    assert kept.item_info.genres.toarray().tolist() == [[1, 0], [1, 1]]
    assert kept.item_info.year[0] == 1990.0 and np.isnan(kept.item_info.year[1])


def test_rejects_misaligned_arrays() -> None:
    with pytest.raises(ValueError, match="same length"):
        Interactions(
            users=np.array([0], np.int32),
            items=np.array([0, 0], np.int32),
            ratings=np.ones(1, np.float32),
            timestamps=np.zeros(1, np.int64),
            user_ids=np.array([1]),
            item_ids=np.array([1]),
        )


def test_rejects_index_outside_the_map() -> None:
    with pytest.raises(ValueError, match="item index"):
        Interactions(
            users=np.array([0], np.int32),
            items=np.array([3], np.int32),
            ratings=np.ones(1, np.float32),
            timestamps=np.zeros(1, np.int64),
            user_ids=np.array([1]),
            item_ids=np.array([1, 2]),
        )


def test_describe_summarises() -> None:
    summary = _toy().describe()
    assert summary["users"] == 3 and summary["items"] == 3 and summary["interactions"] == 6
    assert summary["density"] == round(6 / 9, 6)
