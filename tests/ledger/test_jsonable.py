import dataclasses
import datetime as dt
import math
from pathlib import Path

import numpy as np
import pytest
from pydantic import BaseModel

from recloop.ledger.jsonable import to_json, to_json_object


class Effect(BaseModel):
    metric: str
    lift: float


@dataclasses.dataclass
class Cost:
    wall: float
    when: dt.datetime


def test_plain_json_passes_unchanged() -> None:
    value = {"a": [1, 2.5, None, True, "x"], "b": {"c": []}}
    assert to_json(value) == value


def test_richer_values_become_plain_json() -> None:
    when = dt.datetime(2026, 11, 25, 9, 30, tzinfo=dt.UTC)
    value = {
        "tuple": (1, 2),
        "numpy": [np.float32(0.5), np.int64(7), np.bool_(True), np.arange(3)],
        "path": Path("/x/y.py"),
        "when": when,
        "day": dt.date(2026, 11, 25),
        "model": Effect(metric="ndcg@10", lift=0.01),
        "dataclass": Cost(wall=1.5, when=when),
        "non_finite": [math.nan, math.inf, -math.inf],
    }
    assert to_json(value) == {
        "tuple": [1, 2],
        "numpy": [0.5, 7, True, [0, 1, 2]],
        "path": "/x/y.py",
        "when": "2026-11-25T09:30:00+00:00",
        "day": "2026-11-25",
        "model": {"metric": "ndcg@10", "lift": 0.01},
        "dataclass": {"wall": 1.5, "when": "2026-11-25T09:30:00+00:00"},
        "non_finite": ["NaN", "Infinity", "-Infinity"],
    }
    assert type(to_json(np.int64(3))) is int


def test_what_is_not_json_is_refused_with_its_place() -> None:
    with pytest.raises(TypeError, match=r"\$\.evidence\.files\[1\]: set is not JSON"):
        to_json({"evidence": {"files": ["a", {"b"}]}})
    with pytest.raises(TypeError, match="keys must be strings"):
        to_json({1: "x"})


def test_payloads_are_objects() -> None:
    assert to_json_object(None) == {}
    assert to_json_object({"k": (1,)}) == {"k": [1]}
    with pytest.raises(TypeError, match="payload: a payload must be a mapping, not list"):
        to_json_object([1], "payload")  # type: ignore[arg-type]
