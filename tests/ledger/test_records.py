import datetime as dt

from recloop.ledger.models import ExperimentRow
from recloop.ledger.records import Experiment, ForbiddenDirection, from_row

NOW = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)


def test_from_row_copies_every_field() -> None:
    row = ExperimentRow(
        id=1,
        key="e",
        proposal_id=2,
        state="launched",
        state_version=10,
        base_commit=None,
        payload={"a": 1},
        created_at=NOW,
        updated_at=NOW,
    )
    record = from_row(Experiment, row)
    assert record == Experiment(1, "e", 2, "launched", 10, None, {"a": 1}, NOW, NOW)
    assert record.is_finished
    assert from_row(Experiment, row, state="closed").state == "closed"


def test_a_direction_is_active_until_removed_or_expired() -> None:
    def direction(expires: dt.datetime | None, removed: dt.datetime | None) -> ForbiddenDirection:
        return ForbiddenDirection(
            1, "s", "w", "r", "by", {}, NOW, expires, "p" if removed else None, removed, None
        )

    assert direction(None, None).active_at(NOW + dt.timedelta(days=999))
    assert direction(NOW + dt.timedelta(days=1), None).active_at(NOW)
    assert not direction(NOW, None).active_at(NOW)
    assert not direction(None, NOW).active_at(NOW - dt.timedelta(days=1))
