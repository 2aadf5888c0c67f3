"""The interface check: factory and methods read from the AST of the entry point."""

from __future__ import annotations

from pathlib import Path

import pytest

from recloop.cascade.interface import check_interface
from recloop.workspace.manifest import load_manifest

PIPELINE = "movierec/pipeline.py"


def _edit(root: Path, old: str, new: str, path: str = PIPELINE) -> None:
    text = (root / path).read_text(encoding="utf-8")
    assert old in text
    (root / path).write_text(text.replace(old, new), encoding="utf-8")


def _messages(root: Path) -> list[str]:
    return [loc.message for loc in check_interface(root, load_manifest(root))]


def test_the_example_keeps_the_interface(example: Path) -> None:
    assert _messages(example) == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("def build_recommender(", "def make_recommender(", "defines no 'build_recommender'"),
        (
            "def build_recommender(config_path: str | Path = DEFAULT_CONFIG)",
            "def build_recommender(config_path: str | Path)",
            "config_path has no default",
        ),
        ("    def recommend(self, user_ids", "    def rank(self, user_ids", "has no recommend()"),
        ("    def fit(self, train: TrainingLog)", "    def fit(self)", "fit(train) no longer fits"),
        (
            "user_ids: np.ndarray, k: int, exclude_seen: bool = True)",
            "user_ids: np.ndarray, k: int, batch: int, exclude_seen: bool = True)",
            "batch has no default",
        ),
    ],
)
def test_breaking_changes_are_named(example: Path, old: str, new: str, expected: str) -> None:
    _edit(example, old, new)
    messages = _messages(example)
    assert messages and expected in messages[0]


def test_a_missing_module_is_reported(example: Path) -> None:
    (example / PIPELINE).unlink()
    assert "is gone" in _messages(example)[0]


def test_what_cannot_be_resolved_is_left_to_the_probe(example: Path) -> None:
    _edit(
        example, "    return Recommender(load_config(config_path))", "    return _make(config_path)"
    )
    (example / PIPELINE).write_text(
        (example / PIPELINE).read_text(encoding="utf-8")
        + "\n\ndef _make(path):\n    return Recommender(load_config(path))\n",
        encoding="utf-8",
    )
    assert _messages(example) == []


def test_keyword_catch_alls_satisfy_the_interface(example: Path) -> None:
    _edit(
        example,
        "user_ids: np.ndarray, k: int, exclude_seen: bool = True)",
        "user_ids: np.ndarray, k: int, **options: bool)",
    )
    assert _messages(example) == []
