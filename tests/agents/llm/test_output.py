"""Reading structured output back: JSON found in fences or prose, errors as sentences."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from recloop.agents.llm.output import (
    extract_json_object,
    parse_reply,
    retry_instruction,
    schema_instruction,
)


class Idea(BaseModel):
    title: str
    lift: float


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1}', {"a": 1}),
        ('```json\n{"a": {"b": [1, 2]}}\n```', {"a": {"b": [1, 2]}}),
        ('Sure {not json} here: {"a": 1} and {"b": 2}', {"a": 1}),
        ('[1, 2] then {"a": 1}', {"a": 1}),
        ('{"a": ', None),
        ("no braces at all", None),
    ],
)
def test_extract_json_object(text: str, expected: dict[str, object] | None) -> None:
    assert extract_json_object(text) == expected


def test_parse_reply_returns_the_model_or_the_errors() -> None:
    assert parse_reply('ok: {"title": "t", "lift": 1}', Idea) == Idea(title="t", lift=1.0)
    assert parse_reply('{"title": "t"}', Idea) == ["lift: Field required"]
    assert parse_reply("nothing", Idea) == ["the reply contains no JSON object"]


def test_instructions_carry_the_schema_and_the_errors() -> None:
    assert '"title"' in schema_instruction(Idea) and "Idea" in schema_instruction(Idea)
    assert "- lift: Field required" in retry_instruction(["lift: Field required"])
