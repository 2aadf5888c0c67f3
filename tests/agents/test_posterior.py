"""The family posterior: Beta counts, versions, discounting, and Thompson's preference."""

import random

from recloop.agents.outcome import Outcome
from recloop.agents.posterior import FamilyPosterior

PASS = Outcome.measured(0.01, passed=True)
FAIL = Outcome.failed("semantic", "tests-failed")
SHIP = Outcome.measured(0.02, passed=True, shipped=True)


def test_each_update_is_a_new_version_with_the_outcome_counted() -> None:
    first = FamilyPosterior()
    second = first.update("ease-ranking", PASS).update("ease-ranking", FAIL)
    assert (first.version, second.version) == (0, 2)
    assert first.families == {}
    assert (second.alpha("ease-ranking"), second.beta("ease-ranking")) == (2.0, 2.0)
    assert second.record("ease-ranking").outcomes == 2
    assert second.mean("time-decay") == 0.5  # never seen: the prior


def test_success_can_mean_shipped() -> None:
    posterior = FamilyPosterior(success="shipped").update("a", PASS).update("a", SHIP)
    assert (posterior.alpha("a"), posterior.beta("a")) == (2.0, 2.0)


def test_discounting_fades_old_outcomes() -> None:
    posterior = FamilyPosterior(discount=0.5)
    for _ in range(3):
        posterior = posterior.update("a", PASS)
    posterior = posterior.update("b", FAIL)
    assert posterior.record("a").successes == 0.875  # (1 * 0.5 + 1) * 0.5 + 1, then * 0.5
    assert posterior.record("b").failures == 1.0


def test_thompson_sampling_prefers_the_family_with_the_better_record() -> None:
    posterior = FamilyPosterior()
    for _ in range(6):
        posterior = posterior.update("good", PASS).update("bad", FAIL)
    posterior = posterior.update("good", FAIL).update("bad", PASS)  # 6/7 against 1/7
    rng = random.Random(0)
    firsts = [posterior.rank(["bad", "good", "new"], rng)[0][0] for _ in range(2000)]
    assert firsts.count("good") / 2000 > 0.6
    assert firsts.count("bad") / 2000 < 0.02
    assert 0.1 < firsts.count("new") / 2000 < 0.4  # an untried family keeps its chance


def test_the_posterior_round_trips_through_json() -> None:
    posterior = FamilyPosterior(discount=0.9).update("a", PASS)
    assert FamilyPosterior.model_validate_json(posterior.model_dump_json()) == posterior


def test_canonical_json_and_counts_are_what_the_ledger_keeps() -> None:
    posterior = FamilyPosterior(discount=0.5).update("a", PASS).update("b", FAIL)
    text = posterior.canonical_json()
    assert " " not in text and text.startswith('{"discount":0.5,"families":{"a":')
    assert FamilyPosterior.model_validate_json(text) == posterior
    assert posterior.model_copy().canonical_json() == text  # equal posteriors, equal text
    assert posterior.counts() == {
        "outcomes": 2,
        "successes": 0.5,  # a's success, discounted once by b's update
        "failures": 1.0,
        "families": {
            "a": {"successes": 0.5, "failures": 0.0, "outcomes": 1},
            "b": {"successes": 0.0, "failures": 1.0, "outcomes": 1},
        },
    }
    assert posterior.success_rate == 0.5 / 1.5
    assert FamilyPosterior().success_rate == 0.0
