from collections.abc import Callable

import numpy as np
import pytest

from recloop.recsys.data import Interactions
from recloop.recsys.evaluate import InvalidRecommendationsError, evaluate
from recloop.recsys.models import make_model
from recloop.recsys.protocol import top_k
from recloop.recsys.splits import Split, make_split


def _log(n_users: int = 60, n_items: int = 40, per_user: int = 12, seed: int = 0) -> Interactions:
    rng = np.random.default_rng(seed)
    users = np.repeat(np.arange(n_users), per_user)
    items = np.concatenate([rng.choice(n_items, per_user, replace=False) for _ in range(n_users)])
    times = rng.integers(0, 10_000, len(users))
    return Interactions.from_raw(users, items, timestamps=times)


class Scripted:
    """A recommender whose answer is computed by a function of (users, k) — for bad outputs."""

    def __init__(self, answer: Callable[[np.ndarray, int], np.ndarray]) -> None:
        self.answer = answer

    def fit(self, train: Interactions) -> None:
        self.train = train

    def recommend(self, user_ids: np.ndarray, k: int, exclude_seen: bool = True) -> np.ndarray:
        return self.answer(user_ids, k)


class Oracle:
    """Knows the test set (what a candidate must never see): ranks held-out items first."""

    def __init__(self, split: Split) -> None:
        self.split = split

    def fit(self, train: Interactions) -> None:
        pass

    def recommend(self, user_ids: np.ndarray, k: int, exclude_seen: bool = True) -> np.ndarray:
        scores = (
            self.split.test.binary[user_ids].toarray()
            - 2 * self.split.train.binary[user_ids].toarray()
        )
        return top_k(scores, k)


@pytest.fixture
def split() -> Split:
    return make_split(_log(), "temporal-loo")


def _unseen(split: Split) -> Callable[[np.ndarray, int], np.ndarray]:
    def answer(users: np.ndarray, k: int) -> np.ndarray:
        return top_k(-split.train.binary[users].toarray(), k)

    return answer


@pytest.mark.parametrize(
    ("rule", "corrupt"),
    [
        ("shape", lambda recs: recs[:, :-1]),
        ("dtype", lambda recs: recs.astype(np.float64)),
        ("invalid-id", lambda recs: np.where(np.arange(recs.shape[1]) == 3, 10_000, recs)),
        ("duplicate", lambda recs: np.concatenate([recs[:, :1], recs[:, :-1]], axis=1)),
    ],
)
def test_bad_output_is_rejected_with_the_rule(
    split: Split, rule: str, corrupt: Callable[[np.ndarray], np.ndarray]
) -> None:
    good = _unseen(split)
    model = Scripted(lambda users, k: corrupt(good(users, k)))
    with pytest.raises(InvalidRecommendationsError) as caught:
        evaluate(model, split, k=5)
    assert caught.value.rule == rule
    assert rule in str(caught.value)


def test_seen_items_are_rejected_naming_a_user(split: Split) -> None:
    def answer(users: np.ndarray, k: int) -> np.ndarray:
        return top_k(split.train.binary[users].toarray(), k)  # seen items first

    with pytest.raises(InvalidRecommendationsError) as caught:
        evaluate(Scripted(answer), split, k=5)
    assert caught.value.rule == "seen-item"
    user = caught.value.user
    assert user is not None and f"user {user}" in str(caught.value)
    assert split.train.binary[user].nnz > 0


def test_an_oracle_scores_perfectly(split: Split) -> None:
    result = evaluate(Oracle(split), split, k=5)
    assert np.all(result.per_user["hitrate"] == 1.0)
    assert np.all(result.per_user["ndcg"] == 1.0)
    assert result.summary()["recall@5"] == 1.0


def test_results_do_not_depend_on_the_batch_size(split: Split) -> None:
    small = evaluate(make_model("itemknn"), split, k=5, batch_users=7)
    large = evaluate(make_model("itemknn"), split, k=5, batch_users=1000)
    assert np.array_equal(small.user_ids, split.test_users)
    for name, values in small.per_user.items():
        np.testing.assert_array_equal(values, large.per_user[name])
    assert small.aggregates == large.aggregates


def test_progress_reports_every_batch(split: Split) -> None:
    calls: list[tuple[int, int]] = []
    evaluate(
        make_model("pop"), split, k=5, batch_users=16, progress=lambda d, t: calls.append((d, t))
    )
    n = len(split.test_users)
    assert calls[-1] == (n, n)
    assert len(calls) == -(-n // 16)


def test_k_beyond_the_catalogue_is_an_error(split: Split) -> None:
    with pytest.raises(ValueError, match="k must be between"):
        evaluate(make_model("pop"), split, k=split.train.n_items + 1)


def test_ml100k_collaborative_models_beat_popularity(ml100k: Interactions) -> None:
    split = make_split(ml100k.implicit(4), "temporal-loo")
    scores = {
        name: evaluate(make_model(name), split, k=10).summary()["ndcg@10"]
        for name in ("pop", "ease", "itemknn")
    }
    assert scores["ease"] > scores["pop"] and scores["itemknn"] > scores["pop"]
    assert 0.01 < scores["pop"] < scores["ease"] < 0.5
