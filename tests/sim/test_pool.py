from __future__ import annotations

import numpy as np

from recloop.sim.world import PreparedWorld


def test_pool_columns_point_back_to_each_policys_candidates(world: PreparedWorld) -> None:
    pool = world.pool
    for index, slates in enumerate(world.slates):
        personas = np.arange(len(slates.items))[:, None]
        items = pool.items[personas, pool.columns[index]]
        np.testing.assert_array_equal(items, slates.items[:, : pool.n_candidates])
    used = pool.items >= 0
    for row in pool.items[:50]:
        kept = row[row >= 0]
        assert len(np.unique(kept)) == len(kept)  # one column per distinct item
    assert np.isfinite(pool.click_logit[used]).all() and np.isinf(pool.click_logit[~used]).all()


def test_pool_logits_are_the_calibrated_truth(world: PreparedWorld) -> None:
    pool, truth, model = world.pool, world.truth, world.click_model
    personas = np.arange(20)
    items = pool.items[personas, 0]
    rel = truth.relevance(personas, items)
    np.testing.assert_allclose(
        pool.click_logit[personas, 0], model.click_logit(rel, truth.item_bait[items]), rtol=1e-5
    )
    expected = model.satisfaction_logit(rel, truth.item_quality[items], truth.item_bait[items])
    np.testing.assert_allclose(pool.satisfaction_logit[personas, 0], expected, rtol=1e-5)
