"""Cause codes: one place, every code in the documented hierarchy, each code in one stage."""

from __future__ import annotations

from recloop.cascade import causes
from recloop.workspace.errors import CAUSES as PATCH_CAUSES


def test_every_code_appears_in_the_module_docstring() -> None:
    doc = causes.__doc__ or ""
    missing = sorted(code for code in causes.ALL_CAUSES if code not in doc)
    assert not missing


def test_codes_are_unique_and_belong_to_one_group() -> None:
    groups = [*causes.REJECT_CAUSES.values(), causes.PASS_CAUSES, causes.ERROR_CAUSES]
    flat = [code for group in groups for code in group]
    assert len(flat) == len(set(flat)) == len(causes.ALL_CAUSES)


def test_patch_refusals_keep_the_workspace_codes_verbatim() -> None:
    assert set(PATCH_CAUSES) <= set(causes.STRUCTURAL_CAUSES)
    assert causes.stage_of("protected-path") == "structural"


def test_stage_of() -> None:
    assert causes.stage_of(causes.SEEN_ITEMS) == "semantic"
    assert causes.stage_of(causes.SLOWDOWN) == "local"
    assert causes.stage_of(causes.GUARDRAIL_VIOLATED) == "offline"
    assert causes.stage_of(causes.PROMISING) is None
    assert causes.stage_of(causes.HARNESS_ERROR) is None


def test_codes_are_kebab_case() -> None:
    assert all(code == code.lower() and " " not in code for code in causes.ALL_CAUSES)
