"""The data profile: golden numbers on a hand-computed log, Gini against the pairwise formula,
and the cache that computes a workspace's profile once per champion commit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recloop.agents.llm.profile import ProfileCache, gini, profile_data
from recloop.recsys.data import Interactions
from recloop.recsys.logsource import LogSource
from recloop.workspace.example import create_example
from recloop.workspace.manifest import DataSection, load_manifest

DAY = 86_400


def tiny() -> Interactions:
    """3 users, 3 items: a is seen 3 times, b twice, c once; 10 days from first to last."""
    return Interactions.from_raw(
        user_ids=np.array([1, 1, 1, 2, 2, 3]),
        item_ids=np.array(["a", "b", "c", "a", "b", "a"]),
        ratings=np.array([5, 4, 2, 5, 1, 4]),
        timestamps=np.array([0, 1, 2, 3, 4, 10]) * DAY,
        name="tiny",
    )


def test_profile_of_a_hand_computed_log() -> None:
    profile = profile_data(tiny(), implicit_threshold=4.0)
    assert (profile.users, profile.items, profile.interactions) == (3, 3, 6)
    assert profile.density == pytest.approx(6 / 9, abs=1e-6)
    assert (profile.median_per_user, profile.median_per_item) == (2.0, 2.0)
    assert profile.top_1pct_item_share == pytest.approx(3 / 6)  # at least one item: a
    assert profile.top_10pct_item_share == pytest.approx(3 / 6)
    assert profile.item_gini == pytest.approx(4 / 18, abs=1e-12)  # counts 1, 2, 3
    assert profile.positive_share == pytest.approx(4 / 6)
    assert profile.time_span_days == pytest.approx(10.0)
    text = profile.render()
    assert "3 users, 3 items, 6 interactions" in text and "66.7% of interactions" in text
    assert "top 1% of items hold 50.0%" in text and "Gini of item popularity 0.222" in text


def test_an_implicit_log_has_no_positive_share() -> None:
    data = tiny()
    implicit = Interactions.from_raw(data.user_ids[data.users], data.item_ids[data.items])
    profile = profile_data(implicit, implicit_threshold=4.0)
    assert profile.positive_share is None and "implicit log" in profile.render()


def test_gini_against_the_pairwise_formula() -> None:
    counts = np.random.default_rng(0).poisson(3.0, size=200) ** 2
    pairwise = np.abs(counts[:, None] - counts[None, :]).sum() / (
        2 * len(counts) ** 2 * counts.mean()
    )
    assert gini(counts) == pytest.approx(pairwise, abs=1e-12)
    assert gini(np.full(5, 7)) == pytest.approx(0.0, abs=1e-12)
    assert gini(np.array([0, 0, 0, 10])) == pytest.approx(0.75)
    assert gini(np.array([])) == 0.0 and gini(np.zeros(3)) == 0.0


def test_the_cache_loads_once_per_champion_commit(tmp_path: Path) -> None:
    root = create_example(tmp_path / "ws").path
    log = root / "events.csv"
    log.write_text("user_id,item_id,rating,timestamp\n1,10,5,0\n2,10,4,86400\n2,11,3,172800\n")
    manifest = load_manifest(root).model_copy(
        update={"data": DataSection(source=LogSource(path=Path("events.csv")))}
    )
    cache = ProfileCache(size=1)
    first = cache.get(root, manifest, "c1")
    assert (first.users, first.items, first.interactions) == (2, 2, 3)
    log.write_text(log.read_text() + "3,12,5,259200\n")
    assert cache.get(root, manifest, "c1") is first  # same champion: not reloaded
    second = cache.get(root, manifest, "c2")
    assert second.interactions == 4 and second.users == 3
    assert cache.get(root, manifest, "c1").interactions == 4  # evicted (size 1): recomputed
