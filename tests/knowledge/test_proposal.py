"""Proposals: validated at construction, parameter names compared once normalised."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from recloop.knowledge.proposal import FAMILIES, Proposal, normalise_name


def test_a_valid_proposal() -> None:
    proposal = Proposal(
        family="time-decay",
        hypothesis="Recent interactions say more about taste; weigh them higher.",
        parameters={"Half-Life-Days": 30, "kernel": "exp", "grid": [1, 2]},
        files=("movierec/data.py", "movierec/./config.py", "movierec/data.py"),
        risk="L2",
    )
    assert proposal.files == ("movierec/config.py", "movierec/data.py")
    assert proposal.normalised_parameters == {
        "half_life_days": 30,
        "kernel": "exp",
        "grid": [1, 2],
    }
    assert Proposal.model_validate_json(proposal.model_dump_json()) == proposal


@pytest.mark.parametrize(
    "fields",
    [
        {"family": "make-it-better"},
        {"hypothesis": ""},
        {"risk": "L5"},
        {"files": ("/etc/passwd",)},
        {"files": ("../outside.py",)},
        {"parameters": {"alpha": 1, "ALPHA": 2}},
        {"parameters": {" ": 1}},
        {"surprise": True},
    ],
)
def test_invalid_proposals_are_refused(fields: dict[str, object]) -> None:
    base: dict[str, object] = {"family": "free-form", "hypothesis": "h"}
    with pytest.raises(ValidationError):
        Proposal.model_validate({**base, **fields})


def test_families_and_names() -> None:
    assert "free-form" in FAMILIES and "blend-weights" in FAMILIES
    assert normalise_name("  Half-Life ") == "half_life"
