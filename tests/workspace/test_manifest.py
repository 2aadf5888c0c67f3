"""The manifest: a valid one round-trips; each mistake is named by key, sentence and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from recloop.recsys.splits import SPLIT_KINDS
from recloop.stats.futility import DEFAULT_MIN_EFFECT
from recloop.workspace import manifest as manifest_module
from recloop.workspace.manifest import (
    MANIFEST_FILE,
    FloatParam,
    Manifest,
    load_manifest,
    parse_manifest,
)
from recloop.workspace.problems import ManifestError, Problem

TEMPLATE = Path(manifest_module.__file__).parent / "templates" / "movielens"

# A small valid manifest; the cases below edit one line of it, so line numbers are known.
BASE = """\
version = 1

[recommender]
entry_point = "team.model:build"
dependencies = ["numpy"]

[data]
dataset = "synthetic"

[split]
kind = "temporal-loo"
seed = 3
params = { n = 1 }

[paths]
editable = [
  "team/**/*.py",
  "config.toml",
]
protected = ["tests/**"]

[metrics.primary]
name = "ndcg@10"
min_effect = 0.01

[[metrics.guardrails]]
name = "coverage@10"
threshold = 0.1

[[metrics.guardrails]]
name = "popularity@10"
threshold = 0.1

[budgets]
local = { wall_seconds = 60, memory_mb = 512 }

[search]
config = "config.toml"

[[search.params]]
path = "ranking.alpha"
type = "float"
low = 0.0
high = 1.0
"""


def _line_of(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if fragment in line)


def _problems(text: str) -> list[Problem]:
    with pytest.raises(ManifestError) as info:
        parse_manifest(text)
    return info.value.problems


def _only_problem(text: str) -> Problem:
    problems = _problems(text)
    assert len(problems) == 1, problems
    return problems[0]


def _edit(old: str, new: str) -> str:
    assert BASE.count(old) == 1, old
    return BASE.replace(old, new)


def test_the_base_manifest_is_valid_and_defaults_are_filled_in() -> None:
    manifest = parse_manifest(BASE)
    assert manifest.recommender.module == "team.model"
    assert manifest.recommender.factory == "build"
    assert manifest.split.params == {"n": 1}
    assert manifest.k == 10
    assert manifest.metrics.primary.direction == "maximize"
    assert manifest.metrics.guardrails[1].direction == "minimize"  # popularity bias
    assert manifest.budgets.local.wall_seconds == 60
    assert manifest.budgets.offline.wall_seconds == 1800  # a default
    assert manifest.llm.provider == "none" and manifest.autonomy.approve_launch
    assert isinstance(manifest.search.params[0], FloatParam) if manifest.search else False
    assert manifest.online.min_effect == DEFAULT_MIN_EFFECT  # the Evaluation agent's default


def test_a_negative_online_minimum_effect_is_refused_at_its_line() -> None:
    text = BASE + "\n[online]\nmin_effect = -0.1\n"
    with pytest.raises(ManifestError) as info:
        parse_manifest(text)
    line = len(text.splitlines())
    assert (
        f"recloop.toml:{line}: online.min_effect: input should be greater than or equal to 0"
        in (info.value.render())
    )


def test_a_valid_manifest_round_trips_through_its_data() -> None:
    manifest = load_manifest(TEMPLATE)
    again = Manifest.model_validate(manifest.model_dump())
    assert again == manifest
    assert Manifest.model_validate_json(manifest.model_dump_json()) == manifest


def test_the_example_manifest_says_what_it_ships_with() -> None:
    manifest = load_manifest(TEMPLATE)
    assert manifest.recommender.entry_point == "movierec.pipeline:build_recommender"
    assert manifest.data.dataset == "ml-100k" and manifest.split.kind == "temporal-loo"
    assert manifest.metrics.primary.name == "ndcg@10"
    names = [g.name for g in manifest.metrics.guardrails]
    assert {"coverage@10", "popularity@10", "latency_ms_per_1k_users"} <= set(names)
    assert manifest.search is not None and len(manifest.search.params) >= 5


def test_the_manifest_recloop_dir_and_git_are_always_protected() -> None:
    paths = parse_manifest(_edit('protected = ["tests/**"]', "protected = []")).paths
    for path in (MANIFEST_FILE, ".recloop/worktrees/x/a.py", ".git/config"):
        assert paths.is_protected(path)
        assert not paths.is_editable(path)
    assert paths.is_editable("team/a/b.py") and paths.is_editable("config.toml")
    assert not paths.is_editable("other.py")


def test_protected_wins_over_editable() -> None:
    paths = parse_manifest(
        _edit('protected = ["tests/**"]', 'protected = ["team/secret.py"]')
    ).paths
    assert paths.is_editable("team/open.py")
    assert not paths.is_editable("team/secret.py")


def test_an_unknown_key_is_an_error_with_a_suggestion_and_its_line() -> None:
    text = _edit("seed = 3", "seed = 3\nsed = 4")
    problem = _only_problem(text)
    assert problem.key == "split.sed"
    assert problem.message.startswith("unknown key (did you mean 'seed'?)")
    assert "expected one of: kind, seed, params" in problem.message
    assert problem.line == _line_of(text, "sed = 4") == 13


def test_an_unknown_key_inside_an_inline_table_points_at_its_line() -> None:
    text = _edit(
        "local = { wall_seconds = 60, memory_mb = 512 }",
        "local = { wall_second = 60, memory_mb = 512 }",
    )
    problems = _problems(text)
    keys = {p.key: p for p in problems}
    assert keys["budgets.local.wall_second"].line == _line_of(text, "wall_second") == 35
    assert "did you mean 'wall_seconds'" in keys["budgets.local.wall_second"].message
    assert keys["budgets.local.wall_seconds"].message == "missing required key"


def test_an_unknown_top_level_table_is_an_error() -> None:
    text = BASE + "\n[extras]\nx = 1\n"
    problem = _only_problem(text)
    assert (problem.key, problem.line) == ("extras", _line_of(text, "[extras]"))


def test_a_wrong_type_names_the_key_the_value_and_the_line() -> None:
    text = _edit("seed = 3", 'seed = "three"')
    problem = _only_problem(text)
    assert problem.key == "split.seed"
    assert "valid integer" in problem.message and "'three'" in problem.message
    assert problem.line == 12


def test_a_bad_metric_name_is_named_with_a_suggestion() -> None:
    text = _edit('name = "popularity@10"', 'name = "populrity@10"')
    problem = _only_problem(text)
    assert problem.key == "metrics.guardrails[1].name"
    assert "unknown metric 'populrity@10'" in problem.message
    assert "did you mean 'popularity@10'" in problem.message
    assert problem.line == _line_of(text, "populrity") == 31


def test_a_metric_without_a_list_length_is_explained() -> None:
    problem = _only_problem(_edit('name = "coverage@10"', 'name = "coverage"'))
    assert problem.key == "metrics.guardrails[0].name"
    assert "needs a list length, e.g. 'coverage@10'" in problem.message


def test_metrics_at_another_list_length_are_an_error_at_their_line() -> None:
    text = _edit('name = "coverage@10"', 'name = "coverage@20"')
    problem = _only_problem(text)
    assert problem.key == "metrics.guardrails[0].name"
    assert "at @20 but the primary metric is at @10" in problem.message
    assert problem.line == 27


def test_a_guardrail_on_the_primary_metric_is_an_error() -> None:
    problem = _only_problem(_edit('name = "coverage@10"', 'name = "ndcg@10"'))
    assert problem.key == "metrics.guardrails[0].name"
    assert "already the primary metric" in problem.message


def test_the_primary_metric_must_be_a_ranking_metric() -> None:
    problem = _only_problem(_edit('name = "ndcg@10"', 'name = "fit_seconds"'))
    assert problem.key == "metrics.primary.name"
    assert "must be a ranking metric" in problem.message


def test_a_bad_glob_is_named_by_its_element_and_line() -> None:
    text = _edit('  "config.toml",', '  "../config.toml",')
    problem = _only_problem(text)
    assert problem.key == "paths.editable[1]"
    assert "'..'" in problem.message
    assert problem.line == _line_of(text, "../config.toml") == 18


@pytest.mark.parametrize(
    ("glob", "reason"),
    [
        ("/etc/**", "absolute"),
        ("tests\\\\x", "backslash"),
        ("src/a**", "whole segment"),
        ("src/[ab", "unclosed"),
        ("", "empty"),
    ],
)
def test_each_kind_of_bad_glob_says_why(glob: str, reason: str) -> None:
    text = _edit('protected = ["tests/**"]', f'protected = ["{glob}"]')
    problem = _only_problem(text)
    assert problem.key == "paths.protected[0]" and reason in problem.message
    assert problem.line == 20


def test_a_missing_section_is_named_and_has_no_line() -> None:
    text = _edit('[data]\ndataset = "synthetic"\n', "")
    problem = _only_problem(text)
    assert problem.key == "data"
    assert problem.message == "missing required table [data]"
    assert problem.line is None


def test_a_missing_key_points_at_its_table() -> None:
    text = _edit('entry_point = "team.model:build"\n', "")
    problem = _only_problem(text)
    assert (problem.key, problem.message) == ("recommender.entry_point", "missing required key")
    assert problem.line == _line_of(text, "[recommender]") == 3


def test_a_toml_syntax_error_reports_tomllib_line_and_column() -> None:
    text = _edit('kind = "temporal-loo"', 'kind = "temporal-loo')
    problem = _only_problem(text)
    assert problem.key == ""
    assert problem.message.startswith("TOML syntax error: ")
    assert "(at line" not in problem.message
    assert problem.line == 11 and problem.column is not None


def test_every_problem_is_reported_at_once_in_line_order() -> None:
    text = _edit("seed = 3", 'seed = "x"').replace('name = "ndcg@10"', 'name = "ndcg10"')
    text = text.replace('entry_point = "team.model:build"', 'entry_point = "team.model"')
    problems = _problems(text)
    assert [p.key for p in problems] == [
        "recommender.entry_point",
        "split.seed",
        "metrics.primary.name",
    ]
    assert [p.line for p in problems] == [4, 12, 23]


def test_unknown_dataset_and_split_kind_list_the_choices() -> None:
    problem = _only_problem(_edit('dataset = "synthetic"', 'dataset = "ml-25m"'))
    assert problem.key == "data.dataset" and "ml-100k" in problem.message
    problem = _only_problem(_edit('kind = "temporal-loo"', 'kind = "loo"'))
    assert problem.key == "split.kind" and "'temporal-loo'" in problem.message


def test_a_split_parameter_the_kind_does_not_take_is_named() -> None:
    text = _edit("params = { n = 1 }", "params = { n = 1, test_fraction = 0.2 }")
    problem = _only_problem(text)
    assert problem.key == "split.params.test_fraction"
    assert "takes no parameter 'test_fraction'" in problem.message
    assert problem.line == 13


def test_the_split_functions_cover_every_split_kind() -> None:
    assert set(manifest_module._SPLIT_FUNCTIONS) == set(SPLIT_KINDS)


def test_a_search_range_upside_down_points_at_high() -> None:
    text = _edit("high = 1.0", "high = -1.0")
    problem = _only_problem(text)
    assert problem.key == "search.params[0].high"
    assert problem.line == _line_of(text, "high = -1.0")


def test_an_unknown_key_in_a_search_param_lists_that_params_keys() -> None:
    text = _edit("low = 0.0", "lo = 0.0")
    problems = {p.key: p for p in _problems(text)}
    assert "expected one of: path, low, high, log, type" in problems["search.params[0].lo"].message
    assert problems["search.params[0].low"].message == "missing required key"


def test_the_search_config_must_be_editable() -> None:
    text = _edit('config = "config.toml"', 'config = "tests/config.toml"')
    problem = _only_problem(text)
    assert problem.key == "search.config" and "not editable" in problem.message


def test_an_api_key_is_never_accepted_in_place_of_its_variable_name() -> None:
    problem = _only_problem(BASE + '\n[llm]\napi_key_env = "sk-ant-123"\n')
    assert problem.key == "llm.api_key_env" and "never put a key" in problem.message


def test_entry_point_and_dependencies_are_checked_for_form() -> None:
    problem = _only_problem(_edit('entry_point = "team.model:build"', 'entry_point = "a/b.py"'))
    assert problem.key == "recommender.entry_point"
    problem = _only_problem(_edit('dependencies = ["numpy"]', 'dependencies = ["scipy.sparse"]'))
    assert problem.key == "recommender.dependencies"


def test_load_manifest_without_a_file_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"no recloop\.toml in"):
        load_manifest(tmp_path)


def test_the_error_message_reads_like_a_compiler(tmp_path: Path) -> None:
    (tmp_path / MANIFEST_FILE).write_text(_edit("seed = 3", 'seed = "x"'))
    with pytest.raises(ManifestError) as info:
        load_manifest(tmp_path)
    text = str(info.value)
    assert "is not a valid manifest (1 problem)" in text
    assert f"{tmp_path / MANIFEST_FILE}:12: split.seed: input should be a valid integer" in text


def test_a_value_no_member_of_a_union_accepts_is_one_problem_at_its_element() -> None:
    text = (
        BASE + '\n[[search.params]]\npath = "a.b"\ntype = "categorical"\nchoices = [1, {x = 1}]\n'
    )
    problem = _only_problem(text)
    assert problem.key == "search.params[1].choices[1]"
    assert "valid boolean" in problem.message and "valid string" in problem.message
    assert problem.line == _line_of(text, "choices = [1, {x = 1}]")


def test_the_manifest_builds_the_split_it_describes() -> None:
    manifest = parse_manifest(_edit("params = { n = 1 }", "params = { n = 2 }"))
    split = manifest.build_split(manifest.load_data())
    assert split.kind == "temporal-loo"
    assert (split.params["n"], split.params["seed"]) == (2, 3)
    assert split.train.ratings.max() == 1.0  # binarised at the implicit threshold


def test_the_data_can_be_the_teams_own_log(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    rows = [f"{u},{i},5,{u * 100 + i}" for u in range(30) for i in range(u % 7, u % 7 + 6)]
    (tmp_path / "logs" / "events.csv").write_text(
        "user_id,item_id,rating,timestamp\n" + "\n".join(rows) + "\n"
    )
    text = _edit('dataset = "synthetic"', '[data.source]\npath = "logs/events.csv"')
    manifest = parse_manifest(text)
    data = manifest.load_data(tmp_path)
    assert data.n_interactions == len(rows)
    assert manifest.build_split(data).params["test_held_out"] == 30  # one per user


def test_the_data_needs_exactly_one_source() -> None:
    both = _edit('dataset = "synthetic"', 'dataset = "synthetic"\nsource = { path = "x.csv" }')
    with pytest.raises(ManifestError, match=r"exactly one of data\.dataset"):
        parse_manifest(both)
