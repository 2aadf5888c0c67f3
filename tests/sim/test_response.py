from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit

from recloop.sim.config import ResponseConfig
from recloop.sim.response import (
    calibrate,
    examination,
    novelty,
    respond,
    return_probability,
)
from recloop.sim.truth import SyntheticTruth


def test_calibration_hits_the_base_and_top_click_rates(truth: SyntheticTruth) -> None:
    config = ResponseConfig(base_ctr=0.02, top_ctr=0.3)
    model = calibrate(truth, config)
    train = truth.train
    rel = truth.relevance(np.arange(train.n_users)[:, None], np.arange(train.n_items)[None, :])
    logit = model.click_logit(rel, truth.item_bait[None, :])
    logit[train.binary.toarray() > 0] = -np.inf  # unseen items only
    unseen = np.isfinite(logit)
    assert expit(logit[unseen]).mean() == pytest.approx(0.02, rel=0.1)
    top = np.sort(logit, axis=1)[:, -10:]
    assert expit(top).mean() == pytest.approx(0.3, rel=0.1)
    assert model.slope > 0


def test_satisfaction_rises_with_relevance_and_quality_and_falls_with_bait(
    truth: SyntheticTruth,
) -> None:
    model = calibrate(truth, ResponseConfig())
    base = model.satisfaction_logit(np.zeros(1), np.zeros(1), np.zeros(1))
    assert model.satisfaction_logit(np.ones(1), np.zeros(1), np.zeros(1)) > base
    assert model.satisfaction_logit(np.zeros(1), np.ones(1), np.zeros(1)) > base
    assert model.satisfaction_logit(np.zeros(1), np.zeros(1), np.ones(1)) < base
    assert model.click_logit(np.zeros(1), np.ones(1)) > model.click_logit(np.zeros(1), np.zeros(1))


def test_examination_novelty_and_retention_curves() -> None:
    exam = examination(10, 0.8)
    assert exam[0] == 1.0 and (np.diff(exam) < 0).all()
    lift = novelty(np.arange(10), 0.5, 4.0)
    assert lift[0] == pytest.approx(0.5) and lift[4] == pytest.approx(0.5 / np.e)
    config = ResponseConfig()
    p = return_probability(np.array([-0.3, 0.0, 0.3]), np.zeros(3), config)
    assert (np.diff(p) > 0).all()
    loyal = return_probability(np.zeros(2), np.array([-1.0, 1.0]), config)
    assert loyal[1] > loyal[0]


def test_consumes_imply_clicks_and_values_lie_in_the_unit_interval() -> None:
    rng = np.random.default_rng(0)
    n = 100_000
    draws = (rng.random(n), rng.random(n), rng.standard_normal(n))
    resp = respond(np.full(n, 0.3), np.full(n, 1.0), draws, 0.5)
    assert (resp.click | ~resp.consume).all()
    assert resp.click.mean() == pytest.approx(0.3, abs=0.01)
    assert resp.consume.sum() / resp.click.sum() == pytest.approx(expit(1.0), abs=0.02)
    values = resp.value[resp.consume]
    assert ((values > 0) & (values < 1)).all() and (resp.value[~resp.consume] == 0).all()
