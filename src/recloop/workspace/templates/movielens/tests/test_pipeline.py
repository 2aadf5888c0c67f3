import numpy as np
import pytest

from movierec.config import CandidateConfig, PipelineConfig
from movierec.data import TrainingLog
from movierec.pipeline import Recommender, build_recommender


def _all_users(train: TrainingLog) -> np.ndarray:
    return np.arange(train.n_users)


def test_every_user_gets_k_distinct_valid_unseen_items(train: TrainingLog) -> None:
    recs = Recommender().fit(train).recommend(_all_users(train), k=3)
    assert recs.shape == (6, 3) and np.issubdtype(recs.dtype, np.integer)
    assert ((recs >= 0) & (recs < train.n_items)).all()
    for user, row in enumerate(recs):
        assert len(set(row.tolist())) == 3
        seen = set(train.binary[user].indices.tolist())
        assert not seen & set(row.tolist())


def test_recommendations_are_deterministic(train: TrainingLog) -> None:
    first = Recommender().fit(train).recommend(_all_users(train), k=3)
    second = Recommender().fit(train).recommend(_all_users(train), k=3)
    np.testing.assert_array_equal(first, second)


def test_a_user_without_history_gets_the_most_popular_items(train: TrainingLog) -> None:
    recs = Recommender().fit(train).recommend(np.array([5]), k=2)
    assert sorted(recs[0].tolist()) == [0, 1]


def test_co_occurrence_drives_personal_recommendations(train: TrainingLog) -> None:
    config = PipelineConfig(candidates=CandidateConfig(popular=0))
    recs = Recommender(config).fit(train).recommend(np.array([2]), k=1)
    assert recs[0].tolist() == [3]  # item 3 was watched with items 0, 1 and 2


def test_seen_items_may_come_back_when_not_excluded(train: TrainingLog) -> None:
    recs = Recommender().fit(train).recommend(np.array([0]), k=4, exclude_seen=False)
    assert set(recs[0].tolist()) & {0, 1, 2, 3}


def test_batches_give_the_same_answer_as_one_call(
    train: TrainingLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = Recommender().fit(train)
    whole = model.recommend(_all_users(train), k=3)
    monkeypatch.setattr("movierec.pipeline.BATCH_USERS", 2)
    np.testing.assert_array_equal(model.recommend(_all_users(train), k=3), whole)


def test_recommend_before_fit_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="fit"):
        Recommender().recommend(np.array([0]), k=1)


def test_the_factory_builds_the_configured_pipeline(train: TrainingLog) -> None:
    model = build_recommender()
    assert model.fit(train) is model
    assert model.recommend(np.array([0, 5]), k=2).shape == (2, 2)
