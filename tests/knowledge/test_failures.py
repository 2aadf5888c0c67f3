"""Failure records: built from the cascade's plain fields, stable ids, errors never count."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from pydantic import BaseModel, ValidationError

from recloop.knowledge.champion import Champion
from recloop.knowledge.failures import FailureRecord
from recloop.knowledge.proposal import Proposal

DIFF = """--- a/movierec/data.py
+++ b/movierec/data.py
@@ -1,2 +1,2 @@
 def weights():
-    return 1
+    return decay(30)
"""


def test_a_rejection_with_its_proposal(now: datetime, champion: Champion) -> None:
    proposal = Proposal(
        family="time-decay", hypothesis="h", parameters={"half_life_days": 30}, files=("x.py",)
    )
    record = FailureRecord.from_rejection(
        stage="structural",
        cause="undefined-name",
        sentence="movierec/data.py:2: name 'decay' is not defined",
        evidence={"file": "movierec/data.py", "line": 2, "log": ["F821"]},
        changed_files=["movierec/data.py"],
        diff=DIFF,
        proposal=proposal,
        champion=champion.commit,
        candidate="c1",
        now=now,
    )
    assert record.id.startswith("fr-") and len(record.id) == 11
    assert record.family == "time-decay" and record.parameters == {"half_life_days": 30}
    assert record.counts
    assert record.signature.symbols == ("movierec/data.py::weights",)
    assert record.recorded_at == now
    assert record.describe().startswith(f"{record.id} structural/undefined-name: movierec")
    assert FailureRecord.model_validate_json(record.model_dump_json()) == record


def test_ids_are_stable_and_distinct(now: datetime) -> None:
    def make(at: datetime, cause: str = "undefined-name") -> FailureRecord:
        return FailureRecord.from_rejection(
            stage="structural", cause=cause, sentence="s", diff=DIFF, now=at
        )

    assert make(now).id == make(now).id
    assert make(now).id != make(now + timedelta(seconds=1)).id
    assert make(now).id != make(now, "syntax-error").id


def test_evidence_may_be_a_pydantic_model(now: datetime) -> None:
    class Evidence(BaseModel):
        log_tail: str = "F821 undefined name"
        lines: list[int] = [2]

    record = FailureRecord.from_rejection(
        stage="structural", cause="undefined-name", sentence="s", evidence=Evidence(), now=now
    )
    assert record.evidence == {"log_tail": "F821 undefined name", "lines": [2]}


def test_an_infrastructure_error_is_recorded_but_never_counts(now: datetime) -> None:
    record = FailureRecord.from_rejection(
        stage="local", cause="sandbox-crashed", sentence="out of disk", verdict="error", now=now
    )
    assert not record.counts


def test_timestamps_are_utc_and_naive_ones_refused(now: datetime) -> None:
    paris = now.astimezone(timezone(timedelta(hours=1)))
    record = FailureRecord.from_rejection(stage="offline", cause="c", sentence="s", now=paris)
    assert record.recorded_at.utcoffset() == timedelta(0) and record.recorded_at == now
    with pytest.raises(ValueError, match="no timezone"):
        FailureRecord.from_rejection(
            stage="offline", cause="c", sentence="s", now=now.replace(tzinfo=None)
        )


def test_unknown_stage_is_refused(now: datetime) -> None:
    with pytest.raises(ValidationError):
        FailureRecord.from_rejection(stage="vibes", cause="c", sentence="s", now=now)  # type: ignore[arg-type]
