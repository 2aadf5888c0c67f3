from pathlib import Path

import pytest

from movierec.config import (
    DEFAULT_CONFIG,
    ConfigError,
    PipelineConfig,
    config_from_dict,
    load_config,
)


def test_the_shipped_config_file_is_valid() -> None:
    assert isinstance(load_config(DEFAULT_CONFIG), PipelineConfig)


def test_sections_left_out_keep_their_defaults() -> None:
    config = config_from_dict({"candidates": {"popular": 7}})
    assert config.candidates.popular == 7
    assert config.rerank == PipelineConfig().rerank


def test_an_integer_is_accepted_where_a_number_is_expected() -> None:
    assert (
        config_from_dict({"ranking": {"weights": {"popularity": 2}}}).ranking.weights.popularity
        == 2.0
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"candidates": {"popularr": 3}}, "unknown key candidates.popularr"),
        ({"candidates": {"popular": 1.5}}, "candidates.popular must be an integer"),
        ({"candidates": {"popular": True}}, "candidates.popular must be an integer"),
        ({"rerank": {"max_per_genre": 0}}, "max_per_genre must be >= 1"),
        ({"ranking": {"weights": {"popularity": -1.0}}}, "popularity must be >= 0"),
        ({"ranking": 3}, "ranking must be a table"),
    ],
)
def test_bad_values_name_the_key(raw: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        config_from_dict(raw)


def test_load_config_reads_toml(tmp_path: Path) -> None:
    path = tmp_path / "pipeline.toml"
    path.write_text("[rerank]\nmax_per_genre = 3\n")
    assert load_config(path).rerank.max_per_genre == 3
