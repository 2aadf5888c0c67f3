"""Knowledge assets of finished experiments: text for retrieval, the same facts as data."""

from __future__ import annotations

from recloop.knowledge.assets import (
    ExperimentFacts,
    OfflineFacts,
    OnlineFacts,
    asset_attribution,
    asset_text,
    asset_title,
)

LAUNCHED = ExperimentFacts(
    key="ease-ranking-t0",
    family="ease-ranking",
    level="L4",
    hypothesis="EASE scores explain co-consumption better than item-kNN.",
    files=("movierec/ranking.py", "movierec/config.py"),
    agent="catalogue",
    launched=True,
    offline=OfflineFacts(metric="ndcg@10", champion=0.052, candidate=0.079, difference=0.027),
    online=OnlineFacts(
        decision="ship",
        primary_metric="consumption_per_user",
        primary_lift=0.1234,
        report="Shipped: the gain held after each user's first sessions.",
        attribution={"srm": {"p_value": 0.41}},
    ),
)
STOPPED = ExperimentFacts(
    key="time-decay-t3",
    family="time-decay",
    level="L1",
    hypothesis="Recent interactions predict better.",
    launched=False,
    stage="semantic",
    cause="tests-failed",
    sentence="tests/test_ranking.py::test_order failed",
)


def test_a_launched_experiment_reads_as_what_was_tried_and_measured() -> None:
    text = asset_text(LAUNCHED)
    assert text.splitlines()[0] == (
        "Experiment ease-ranking-t0, family ease-ranking, level L4: launched."
    )
    assert "Files changed: movierec/ranking.py, movierec/config.py." in text
    assert "Offline ndcg@10: 0.0790 against the champion's 0.0520 (difference +0.0270)." in text
    assert "Online A/B test: ship, consumption_per_user +12.3%. Shipped: the gain held" in text
    assert "Why it stopped" not in text
    assert asset_title(LAUNCHED) == "ease-ranking-t0 (ease-ranking, L4): launched"
    assert set(LAUNCHED.tags) == {"family:ease-ranking", "level:L4", "launched", "online:ship"}


def test_a_stopped_experiment_says_where_and_why() -> None:
    text = asset_text(STOPPED)
    assert "L1: stopped at semantic: tests-failed." in text
    assert "Why it stopped: tests/test_ranking.py::test_order failed" in text
    assert "Offline" not in text and "Online" not in text
    assert "stage:semantic" in STOPPED.tags and "cause:tests-failed" in STOPPED.tags


def test_the_attribution_is_the_same_facts_as_data() -> None:
    data = asset_attribution(LAUNCHED)
    assert ExperimentFacts.model_validate(data) == LAUNCHED
    assert data["online"]["attribution"] == {"srm": {"p_value": 0.41}}
