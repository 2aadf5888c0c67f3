import numpy as np

from movierec.candidates import CooccurrenceIndex, generate
from movierec.config import CandidateConfig, DataConfig
from movierec.data import TrainingLog, prepare


def test_the_index_counts_co_occurrences_without_self_pairs(train: TrainingLog) -> None:
    data = prepare(train, DataConfig())
    index = CooccurrenceIndex.build(data.interactions, neighbours=10)
    matrix = index.matrix.toarray()
    assert np.all(np.diag(matrix) == 0)
    assert matrix[2, 3] == 2  # users 0 and 1 watched both
    assert matrix[0, 1] == 3


def test_the_index_keeps_only_the_strongest_neighbours(train: TrainingLog) -> None:
    data = prepare(train, DataConfig())
    index = CooccurrenceIndex.build(data.interactions, neighbours=1)
    assert np.all(np.diff(index.matrix.indptr) <= 1)


def test_co_occurring_items_become_candidates_and_blocked_items_never(train: TrainingLog) -> None:
    data = prepare(train, DataConfig())
    index = CooccurrenceIndex.build(data.interactions, neighbours=10)
    history = data.interactions[[2]]  # watched 0, 1, 2: item 3 co-occurs with 2
    blocked = data.seen[[2]].toarray() > 0
    found = generate(
        history, blocked, data.item_popularity, index, CandidateConfig(popular=0, cooccurrence=2)
    )
    assert found.mask[0, 3]
    assert not found.mask[0, blocked[0]].any()


def test_a_new_user_gets_popular_candidates(train: TrainingLog) -> None:
    data = prepare(train, DataConfig())
    index = CooccurrenceIndex.build(data.interactions, neighbours=10)
    blocked = np.zeros((1, data.n_items), dtype=bool)
    config = CandidateConfig(popular=2, cooccurrence=5)
    found = generate(data.interactions[[5]], blocked, data.item_popularity, index, config)
    assert sorted(np.flatnonzero(found.mask[0]).tolist()) == [0, 1]
