"""Per-family Optuna search: inside the declared spaces, seeded, resumable from its records."""

from pathlib import Path

import pytest

from recloop.agents.search import ParameterSearch, SearchState
from recloop.agents.space import check_values, float_param, int_param
from recloop.workspace.manifest import load_manifest

TEMPLATE = Path(__file__).parents[2] / "src/recloop/workspace/templates/movielens"


@pytest.fixture(scope="module")
def space():  # the example manifest's [search] spaces: floats, ints with steps and logs, choices
    search = load_manifest(TEMPLATE).search
    assert search is not None
    return tuple(search.params)


def _objective(params: dict) -> float:
    return -((params["ranking.weights.popularity"] - 0.3) ** 2)


def _run(space, seed: int, n: int, resume_at: int | None = None) -> list[dict]:
    search = ParameterSearch("config", space, seed=seed)
    asked = []
    for i in range(n):
        if i == resume_at:  # as after a crash: rebuilt from the records alone
            search = ParameterSearch.from_state(
                SearchState.model_validate_json(search.state.model_dump_json()), space
            )
        trial = search.ask()
        asked.append(trial.params)
        search.tell(trial.number, value=_objective(trial.params))
    return asked


def test_every_asked_point_is_inside_the_declared_spaces(space) -> None:
    for params in _run(space, seed=0, n=12):
        assert check_values(space, params) == []
        assert params["candidates.popular"] % 25 == 0
        assert params["rerank.max_per_genre"] in (2, 3, 4, 5, 10)


def test_the_same_seed_asks_the_same_points_and_another_seed_others(space) -> None:
    assert _run(space, seed=3, n=8) == _run(space, seed=3, n=8)
    assert _run(space, seed=3, n=8) != _run(space, seed=4, n=8)


def test_a_search_rebuilt_from_its_records_asks_what_the_original_would(space) -> None:
    assert _run(space, seed=1, n=10, resume_at=6) == _run(space, seed=1, n=10)


def test_tpe_concentrates_near_the_best_value_after_the_random_start() -> None:
    search = ParameterSearch("f", (float_param("x", 0.0, 10.0),), seed=0, startup_trials=4)
    for _ in range(30):
        trial = search.ask()
        search.tell(trial.number, value=-abs(float(trial.params["x"]) - 7.0))
    late = [abs(float(t.params["x"]) - 7.0) for t in search.trials[-15:]]
    assert sum(late) / len(late) < 2.0  # uniform sampling: 2.9 on average
    best = search.best()
    assert best is not None and abs(float(best.params["x"]) - 7.0) < 0.2


def test_defaults_come_first_and_the_baseline_is_a_free_observation() -> None:
    search = ParameterSearch("f", (float_param("x", 0.0, 10.0),))
    baseline = search.observe_baseline({"x": 1.0}, champion="abc1234")
    assert baseline is not None and baseline.value == 0.0 and baseline.status == "complete"
    assert search.observe_baseline({"x": 2.0}, champion="abc1234") is None  # once per champion
    assert search.observe_baseline({"x": 20.0}, champion="def5678") is None  # outside the space
    first = search.ask(defaults={"x": 5.0})
    assert first.source == "defaults" and first.params == {"x": 5.0}
    assert search.ask(defaults={"x": 5.0}).source == "optimiser"


def test_failures_and_outside_points_are_kept_but_not_given_to_the_study() -> None:
    search = ParameterSearch("f", (float_param("x", 0.0, 1.0),), seed=2)
    trial = search.ask()
    failed = search.tell(trial.number, failure="semantic: tests failed")
    assert failed.status == "failed" and failed.value is None
    external = search.tell_params({"x": 3.0}, value=0.5)  # an LLM's point, outside the space
    assert external.source == "external" and external.status == "complete"
    assert search.best() == external
    assert check_values(search.space, search.ask().params) == []


def test_tell_checks_its_arguments() -> None:
    search = ParameterSearch("f", (float_param("x", 0.0, 1.0),))
    trial = search.ask()
    with pytest.raises(ValueError, match="either a value or a failure"):
        search.tell(trial.number)
    with pytest.raises(ValueError, match="finite"):
        search.tell(trial.number, value=float("inf"))
    with pytest.raises(KeyError):
        search.tell(5, value=1.0)
    search.tell(trial.number, value=0.1, feasible=False)
    with pytest.raises(ValueError, match="already complete"):
        search.tell(trial.number, value=0.2)
    assert search.best() is None  # the only value broke a guardrail


def test_tell_params_completes_the_pending_trial_with_those_parameters() -> None:
    search = ParameterSearch("f", (float_param("x", 0.0, 1.0),), seed=5)
    first, second = search.ask(), search.ask()
    assert first.params != second.params
    told = search.tell_params(second.params, value=0.3)
    assert told.number == second.number and [t.number for t in search.pending()] == [0]


def test_only_trials_of_the_given_champion_feed_the_study() -> None:
    space = (float_param("x", 0.0, 1.0),)
    old = ParameterSearch("f", space, seed=0)
    for _ in range(6):
        trial = old.ask(champion="aaaaaaa")
        old.tell(trial.number, value=float(trial.params["x"]))
    fresh = ParameterSearch("f", space, seed=0, trials=old.trials, champion="bbbbbbb")
    alone = ParameterSearch("f", space, seed=0, trials=(), champion="bbbbbbb")
    # with every old trial filtered out, the sampler is in its random start either way
    assert 0.0 <= float(fresh.ask().params["x"]) <= 1.0
    assert len(fresh.trials) == 7 and len(alone.trials) == 0


def test_an_integer_log_scale_with_a_step_stays_on_the_step_grid() -> None:
    space = (int_param("n", 10, 400, step=10, log=True),)
    search = ParameterSearch("f", space, seed=0)
    for _ in range(8):
        trial = search.ask()
        assert check_values(space, trial.params) == []
        search.tell(trial.number, value=float(trial.params["n"]))
