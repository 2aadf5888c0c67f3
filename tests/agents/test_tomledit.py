"""Setting TOML values in place: comments, order and layout survive."""

import tomllib

import pytest

from recloop.agents.tomledit import ConfigEditError, get_value, set_values

CONFIG = """\
# top comment
[data]
half_life = 0.0  # days

[ranking.weights]
# blend
popularity = 0.5
"""


def test_values_are_set_and_everything_else_is_kept() -> None:
    out = set_values(CONFIG, {"data.half_life": 12.5, "ranking.weights.popularity": 1})
    assert out == CONFIG.replace("0.0  # days", "12.5  # days").replace("= 0.5", "= 1")
    assert get_value(out, "ranking.weights.popularity") == 1


def test_a_missing_key_is_added_to_its_table_with_a_comment() -> None:
    out = set_values(CONFIG, {"data.floor": 0.1}, {"data.floor": "new"})
    assert "half_life = 0.0  # days\nfloor = 0.1  # new\n" in out
    new_table = set_values(CONFIG, {"rerank.depth": 3})
    assert tomllib.loads(new_table)["rerank"] == {"depth": 3}
    assert get_value(CONFIG, "rerank.depth") is None


def test_a_key_through_a_value_or_invalid_toml_is_refused() -> None:
    with pytest.raises(ConfigEditError, match="is not a table"):
        set_values(CONFIG, {"data.half_life.x": 1})
    with pytest.raises(ConfigEditError, match="not valid TOML"):
        set_values("[data\n", {"a": 1})
