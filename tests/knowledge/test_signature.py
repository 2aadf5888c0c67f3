"""Signatures: near-duplicate attempts at one idea collide, different ideas do not."""

from __future__ import annotations

import math
import subprocess
from pathlib import Path
from typing import Any

import pytest

from recloop.knowledge.signature import (
    UNKNOWN_FAMILY,
    bucket_bounds,
    bucket_label,
    change_signature,
)

DATA = '''"""Interaction weights."""

import numpy as np

HALF_LIFE = 0.0


def weights(times):
    """One weight per interaction."""
    return np.ones(len(times))


class Index:
    def build(self, items):
        return sorted(items)

    def query(self, item):
        return item
'''
CONFIG = """[candidates]
popular = 100
neighbours = 50

[ranking.weights]
popularity = 0.5
"""


def decay(body: str) -> str:
    return DATA.replace("    return np.ones(len(times))", body)


def attempt(
    family: str | None = "time-decay",
    params: dict[str, Any] | None = None,
    data: str | None = None,
    config: str | None = None,
) -> dict[str, Any]:
    sources = {}
    if data is not None:
        sources["movierec/data.py"] = (DATA, data)
    if config is not None:
        sources["config/pipeline.toml"] = (CONFIG, config)
    return {
        "family": family,
        "parameters": {"half_life_days": 30} if params is None else params,
        "sources": sources,
    }


def moved_below_class(source: str) -> str:
    start, end = source.index("def weights"), source.index("class Index")
    return source[:start] + source[end:] + "\n\n" + source[start:end].rstrip() + "\n"


D1 = decay("    return np.exp(-np.asarray(times) / HALF_LIFE)")
D2 = decay("    t = np.asarray(times, dtype=float)\n    return np.exp(-t / HALF_LIFE)")
NEIGHBOURS_200 = CONFIG.replace("neighbours = 50", "neighbours = 200")
NEIGHBOURS_210 = CONFIG.replace("neighbours = 50", "neighbours = 210")

SAME_IDEA = {
    "the same function rewritten another way": (attempt(data=D1), attempt(data=D2)),
    "plus a comment and reformatting elsewhere": (
        attempt(data=D1),
        attempt(
            data=D2.replace("        return sorted(items)", "        return sorted( items )  # ok")
        ),
    ),
    "neighbours 200 and 210 (one log bucket)": (
        attempt("candidate-neighbours", {"neighbours": 200}, config=NEIGHBOURS_200),
        attempt("candidate-neighbours", {"neighbours": 210}, config=NEIGHBOURS_210),
    ),
    "half-life 30 and 33.5": (
        attempt(params={"half_life_days": 30}, data=D1),
        attempt(params={"half_life_days": 33.5}, data=D2),
    ),
    "an int and the same float": (
        attempt(params={"half_life_days": 30}, data=D1),
        attempt(params={"half_life_days": 30.0}, data=D1),
    ),
    "parameter names differing in case and dashes": (
        attempt(params={"Half-Life-Days": 30}, data=D1),
        attempt(params={"half_life_days": 30}, data=D1),
    ),
    "string values differing in case and spaces": (
        attempt(params={"kernel": "Exponential "}, data=D1),
        attempt(params={"kernel": "exponential"}, data=D2),
    ),
    "the same change with the function moved below the class": (
        attempt(data=D1),
        attempt(data=moved_below_class(D1)),
    ),
}

DIFFERENT_IDEAS = {
    "neighbours 200 and 20": (
        attempt("candidate-neighbours", {"neighbours": 200}, config=NEIGHBOURS_200),
        attempt(
            "candidate-neighbours",
            {"neighbours": 20},
            config=CONFIG.replace("neighbours = 50", "neighbours = 20"),
        ),
    ),
    "another family, same code": (attempt(data=D1), attempt("popularity-debias", data=D1)),
    "another function": (
        attempt(data=D1),
        attempt(data=DATA.replace("return sorted(items)", "return sorted(items, reverse=True)")),
    ),
    "another method of the same class": (
        attempt(data=DATA.replace("return sorted(items)", "return list(items)")),
        attempt(data=DATA.replace("return item\n", "return [item]\n")),
    ),
    "another file as well": (attempt(data=D1), attempt(data=D1, config=NEIGHBOURS_200)),
    "another config key": (
        attempt("blend-weights", {"w": 1}, config=NEIGHBOURS_200),
        attempt("blend-weights", {"w": 1}, config=CONFIG.replace("0.5", "0.8")),
    ),
    "an extra parameter": (
        attempt(params={"half_life_days": 30}, data=D1),
        attempt(params={"half_life_days": 30, "floor": 0.1}, data=D1),
    ),
    "a boolean and the number one": (
        attempt(params={"flag": True}, data=D1),
        attempt(params={"flag": 1}, data=D1),
    ),
    "opposite signs": (
        attempt(params={"w": 0.5}, data=D1),
        attempt(params={"w": -0.5}, data=D1),
    ),
    "zero and a small value": (
        attempt(params={"w": 0}, data=D1),
        attempt(params={"w": 0.01}, data=D1),
    ),
    "a known and an unknown family": (attempt(data=D1), attempt(None, data=D1)),
}


@pytest.mark.parametrize(("a", "b"), SAME_IDEA.values(), ids=SAME_IDEA.keys())
def test_near_duplicates_collide(a: dict[str, Any], b: dict[str, Any]) -> None:
    first, second = change_signature(**a), change_signature(**b)
    assert first == second
    assert first.key == second.key


@pytest.mark.parametrize(("a", "b"), DIFFERENT_IDEAS.values(), ids=DIFFERENT_IDEAS.keys())
def test_different_ideas_do_not_collide(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert change_signature(**a).key != change_signature(**b).key


def test_signature_parts() -> None:
    signature = change_signature(
        **attempt("candidate-neighbours", {"Neighbours": 200}, data=D1, config=NEIGHBOURS_200)
    )
    assert signature.family == "candidate-neighbours"
    assert signature.files == ("config/pipeline.toml", "movierec/data.py")
    assert signature.symbols == (
        "config/pipeline.toml::candidates.neighbours",
        "movierec/data.py::weights",
    )
    assert signature.params == (("neighbours", "~181"),)
    assert signature.key.startswith("sg-") and len(signature.key) == 15
    assert "candidate-neighbours (neighbours=~181)" in signature.describe()


def test_unknown_family_and_files_without_visible_change() -> None:
    signature = change_signature(
        family=None, parameters={}, changed_files=["movierec/extra.py"], sources={}
    )
    assert signature.family == UNKNOWN_FAMILY
    assert signature.symbols == ("movierec/extra.py::*",)


def test_from_a_git_diff_alone_the_same_idea_still_collides(tmp_path: Path) -> None:
    def git_diff(after: str) -> str:
        repo = tmp_path / f"r{len(list(tmp_path.iterdir()))}"
        (repo / "movierec").mkdir(parents=True)
        (repo / "movierec/data.py").write_text(DATA)
        run = [
            ["init", "-q"],
            ["add", "."],
            ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"],
        ]
        for args in run:
            subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)
        (repo / "movierec/data.py").write_text(after)
        out = subprocess.run(["git", "diff"], cwd=repo, check=True, capture_output=True, text=True)
        return out.stdout

    first = change_signature(family="time-decay", parameters={"h": 30}, diff=git_diff(D1))
    second = change_signature(family="time-decay", parameters={"h": 31}, diff=git_diff(D2))
    other = change_signature(
        family="time-decay",
        parameters={"h": 30},
        diff=git_diff(DATA.replace("return item\n", "return [item]\n")),
    )
    assert first.key == second.key
    assert first.symbols == ("movierec/data.py::weights",)
    assert other.symbols == ("movierec/data.py::Index.query",)


@pytest.mark.parametrize(
    ("value", "label"),
    [
        (200, "~181"),
        (210, "~181"),
        (20, "~22.6"),
        (0.5, "~0.5"),
        (-3, "~-2.83"),
        (0, "0"),
        (0.0, "0"),
        (math.inf, "inf"),
        (True, "true"),
        (None, "none"),
        (" Cosine", '"cosine"'),
        ([200, "a"], '[~181,"a"]'),
    ],
)
def test_bucket_labels(value: Any, label: str) -> None:
    assert bucket_label(value) == label


def test_buckets_are_half_octaves_around_powers_of_root_two() -> None:
    low, high = bucket_bounds(200)
    assert low == pytest.approx(2**7.25) and high == pytest.approx(2**7.75)
    assert low < 200 < high and low < 210 < high and not low < 20 < high
    assert high / low == pytest.approx(2**0.5)
    assert bucket_bounds(-200) == (-high, -low)
    assert bucket_bounds(200, ratio=2.0) == (pytest.approx(2**7.5), pytest.approx(2**8.5))
