"""Patterns: which proposals and changes they cover, with a clause per matching condition."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from recloop.knowledge.pattern import NumericRange, Pattern, ValueSet, condition_for
from recloop.knowledge.proposal import Proposal
from recloop.knowledge.signature import change_signature


def proposal(**fields: Any) -> Proposal:
    base: dict[str, Any] = {
        "family": "time-decay",
        "hypothesis": "h",
        "parameters": {"half_life_days": 32},
        "files": ("movierec/data.py",),
    }
    return Proposal.model_validate({**base, **fields})


EXACT = Pattern(
    family="time-decay",
    params={"Half-Life-Days": condition_for(30)},
    files=("movierec/data.py",),
    symbols=("movierec/data.py::weights",),
    exact=True,
)


def test_an_exact_pattern_covers_the_same_idea_and_says_why() -> None:
    clauses = EXACT.match_proposal(proposal())
    assert clauses == (
        "family 'time-decay'",
        "half_life_days = 32 is in [26.91, 38.05]",
        "and it sets no other parameter",
        "it plans to touch movierec/data.py",
    )


@pytest.mark.parametrize(
    "fields",
    [
        {"family": "popularity-debias"},
        {"parameters": {"half_life_days": 60}},
        {"parameters": {"half_life_days": "30"}},
        {"parameters": {}},
        {"parameters": {"half_life_days": 30, "floor": 0.1}},  # exact: no other parameter
        {"files": ("movierec/ranking.py",)},
    ],
)
def test_an_exact_pattern_does_not_cover_other_ideas(fields: dict[str, Any]) -> None:
    assert EXACT.match_proposal(proposal(**fields)) is None


def test_a_proposal_without_files_is_not_told_apart_by_files() -> None:
    clauses = EXACT.match_proposal(proposal(files=()))
    assert clauses is not None and "it names no files" in clauses[-1]


def test_a_loose_pattern_constrains_only_what_it_names() -> None:
    loose = Pattern(
        params={"neighbours": NumericRange(low=150, high=250)}, files=("movierec/candidates.py",)
    )
    wide = proposal(
        family="candidate-neighbours",
        parameters={"neighbours": 200, "popular": 10},
        files=("movierec/candidates.py", "movierec/pipeline.py"),
    )
    assert loose.match_proposal(wide) == (
        "neighbours = 200 is in [150, 250]",
        "it plans to touch movierec/candidates.py",
    )
    assert loose.match_proposal(wide.model_copy(update={"parameters": {"neighbours": 251}})) is None


def test_value_sets_and_booleans() -> None:
    kernel = Pattern(family="time-decay", params={"kernel": condition_for("Exponential")})
    assert kernel.match_proposal(proposal(parameters={"kernel": "exponential "})) is not None
    assert kernel.match_proposal(proposal(parameters={"kernel": "linear"})) is None
    flag = Pattern(params={"flag": condition_for(True)})
    assert flag.match_proposal(proposal(parameters={"flag": True})) is not None
    assert flag.match_proposal(proposal(parameters={"flag": 1})) is None
    assert NumericRange(low=0, high=2).contains(True) is False
    assert ValueSet(labels=("b", "a", "a")).labels == ("a", "b")


def test_match_change_needs_the_same_files_and_symbols_when_exact() -> None:
    before = "def weights():\n    return 1\n\n\ndef other():\n    return 2\n"

    def change(after: str) -> Any:
        return change_signature(
            family="time-decay",
            parameters={"half_life_days": 31},
            sources={"movierec/data.py": (before, after)},
        )

    same = change(before.replace("return 1", "return decay()"))
    both = change(before.replace("return 1", "return decay()").replace("2", "3"))
    assert EXACT.match_change(same, {"half_life_days": 31}) is not None
    assert EXACT.match_change(both, {"half_life_days": 31}) is None
    loose = EXACT.model_copy(update={"exact": False})
    clauses = loose.match_change(both, {"half_life_days": 31, "extra": 1})
    assert clauses is not None and "it changes symbols movierec/data.py::weights" in clauses


def test_patterns_are_normalised_and_never_cover_everything() -> None:
    assert list(EXACT.params) == ["half_life_days"]
    with pytest.raises(ValidationError, match="must name a family"):
        Pattern()
    with pytest.raises(ValidationError, match="distinct once normalised"):
        Pattern(params={"a": condition_for(1), "A": condition_for(2)})
    with pytest.raises(ValidationError):
        NumericRange(low=2, high=1)
    assert "family time-decay; half_life_days in [26.91, 38.05]; no other parameter" in (
        EXACT.describe()
    )
