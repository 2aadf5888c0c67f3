"""The champion's measurements: cached by commit, manifest, data and settings; read back exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recloop.cascade import champion
from recloop.cascade.context import CascadeContext
from recloop.cascade.settings import CascadeSettings


def test_the_cache_round_trips(corpus_context: CascadeContext, tmp_path: Path) -> None:
    baseline = corpus_context.champion()
    path = tmp_path / "c.npz"
    champion.save(path, baseline)
    back = champion.load(path, baseline.key)
    assert back is not None
    assert back.local == baseline.local and back.commit == baseline.commit
    assert np.array_equal(back.offline.recs, baseline.offline.recs)
    assert back.offline.per_user.keys() == baseline.offline.per_user.keys()
    for name, values in baseline.offline.per_user.items():
        assert np.array_equal(back.offline.per_user[name], values)
    assert back.offline.summary == baseline.offline.summary
    assert champion.load(path, "another key") is None
    assert champion.load(tmp_path / "missing.npz", baseline.key) is None


def test_a_second_context_reads_the_cache(
    corpus_context: CascadeContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    baseline = corpus_context.champion()
    assert champion.cache_path(corpus_context, baseline.key).is_file()

    def no_measuring(*args: object) -> None:
        raise AssertionError("measured again")

    monkeypatch.setattr(champion, "measure", no_measuring)
    again = CascadeContext(corpus_context.root, data_root=corpus_context.data_root)
    assert again.champion().key == baseline.key


def test_the_key_follows_what_the_measurements_depend_on(
    corpus_context: CascadeContext,
) -> None:
    key = champion.cache_key(corpus_context)
    other = CascadeContext(
        corpus_context.root,
        CascadeSettings(local_users=100),
        data_root=corpus_context.data_root,
    )
    assert champion.cache_key(other) != key
    assert champion.cache_key(corpus_context) == key
