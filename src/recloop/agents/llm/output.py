"""Structured output: the instruction that asks for JSON, and reading a model's reply back.

Models wrap JSON in ```json fences or prose however they are asked, so `parse_reply` takes the
first JSON object anywhere in the text, validates it against the pydantic schema and returns
either the model or the errors to quote back to the model when asking again.
"""

from __future__ import annotations

import json
from typing import TypeVar

from pydantic import BaseModel, ValidationError

T = TypeVar("T", bound=BaseModel)
_DECODER = json.JSONDecoder()


def schema_instruction(schema: type[BaseModel]) -> str:
    """The system-prompt text that asks for one JSON object matching `schema`."""
    return (
        "Reply with exactly one JSON object and nothing else. It must validate against this "
        f"JSON schema ({schema.__name__}):\n{json.dumps(schema.model_json_schema(), indent=1)}"
    )


def retry_instruction(errors: list[str]) -> str:
    """The user message that quotes the validation errors and asks again."""
    listed = "\n".join(f"- {error}" for error in errors)
    return (
        f"Your reply did not validate:\n{listed}\n"
        "Reply again with only the corrected JSON object matching the schema."
    )


def extract_json_object(text: str) -> dict[str, object] | None:
    """The first JSON object in `text` (bare, fenced or inside prose), or None."""
    start = text.find("{")
    while start != -1:
        try:
            value, _ = _DECODER.raw_decode(text, start)
        except json.JSONDecodeError:
            pass
        else:
            if isinstance(value, dict):
                return value
        start = text.find("{", start + 1)
    return None


def parse_reply(text: str, schema: type[T]) -> T | list[str]:
    """The validated model, or the errors (as sentences) that stopped it."""
    found = extract_json_object(text)
    if found is None:
        return ["the reply contains no JSON object"]
    try:
        return schema.model_validate(found)
    except ValidationError as exc:
        return [
            f"{'.'.join(map(str, e['loc'])) or '(root)'}: {e['msg']}"
            for e in exc.errors(include_url=False)
        ]
