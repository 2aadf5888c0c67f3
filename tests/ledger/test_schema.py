import datetime as dt

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from recloop.ledger.schema import NAMING_CONVENTION, Base, UTCDateTime, in_vocabulary

AWARE = dt.datetime(2026, 11, 25, 11, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))


def test_times_are_stored_as_utc_and_read_back_aware() -> None:
    kind = UTCDateTime()
    stored = kind.process_bind_param(AWARE, sqlite.dialect())
    assert stored == dt.datetime(2026, 11, 25, 9, 0)  # SQLite: the UTC wall time
    assert kind.process_result_value(stored, sqlite.dialect()) == AWARE
    on_postgres = kind.process_bind_param(AWARE, postgresql.dialect())
    assert on_postgres.tzinfo is dt.UTC and on_postgres == AWARE
    assert kind.process_bind_param(None, sqlite.dialect()) is None


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        UTCDateTime().process_bind_param(dt.datetime(2026, 1, 1), sqlite.dialect())


def test_constraints_are_named_by_convention() -> None:
    assert Base.metadata.naming_convention == NAMING_CONVENTION
    names = {c.name for c in Base.metadata.tables["stage_runs"].constraints}
    assert {"pk_stage_runs", "ck_stage_runs_verdict"} <= names
    assert "uq_stage_runs_experiment_id_candidate_id_stage_attempt" in names


def test_in_vocabulary() -> None:
    assert in_vocabulary("kind", ("offline", "online")) == "kind IN ('offline', 'online')"
