"""`Ledger`: the one door to the ledger's database, with a typed method per loop step.

    with Ledger.open(workspace) as ledger:       # SQLite at <workspace>/.recloop/ledger.db
        proposal = ledger.add_proposal("p-1", family="time-decay", title=…, level="L1", …)
        experiment = ledger.create_experiment("e-1", proposal)
        ledger.transition(experiment, "proposed", "forbidden_check")

`Ledger.open` brings the schema to the newest migration before returning. Every write method
is one committed transaction with its audit entry; the `*_add`/`record_*`/`request_*`/`start_*`
methods are idempotent by their natural key (calling again returns what is recorded).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

from recloop.ledger._agents import AgentsPart
from recloop.ledger._approvals import ApprovalsPart
from recloop.ledger._core import Clock, utc_now
from recloop.ledger._experiments import ExperimentsPart
from recloop.ledger._knowledge import KnowledgePart
from recloop.ledger._learning import LearningPart
from recloop.ledger._verification import VerificationPart
from recloop.ledger.engine import create_ledger_engine, resolve_url
from recloop.ledger.errors import LedgerUnavailableError
from recloop.ledger.migrate import upgrade


class Ledger(
    ExperimentsPart, VerificationPart, ApprovalsPart, LearningPart, KnowledgePart, AgentsPart
):
    """The experiment ledger (see the module docstring; errors in `recloop.ledger.errors`)."""

    @classmethod
    def open(
        cls,
        target: str | os.PathLike[str] | None = None,
        *,
        url: str | URL | None = None,
        env: Mapping[str, str] | None = None,
        clock: Clock = utc_now,
        actor: str = "recloop",
    ) -> Ledger:
        """Open (creating and migrating when needed) the ledger of a workspace or at a URL.

        `target` is a workspace directory or a database URL; `url` or `$RECLOOP_LEDGER_URL`
        choose another database (`engine.resolve_url` has the order). `actor` is who the
        audit log names by default; `clock` returns aware datetimes (tests move time).
        """
        resolved = resolve_url(target, url=url, env=env)
        try:
            engine = create_ledger_engine(resolved)
            try:
                upgrade(engine)
            except BaseException:
                engine.dispose()
                raise
        except ImportError as exc:
            raise LedgerUnavailableError(
                f"cannot open the ledger at {resolved!r}: its database driver is not installed "
                f"({exc}); for Postgres install recloop[postgres] (psycopg 3)"
            ) from exc
        except (SQLAlchemyError, OSError) as exc:
            raise LedgerUnavailableError(f"cannot open the ledger at {resolved!r}: {exc}") from exc
        return cls(engine, clock=clock, actor=actor)

    @classmethod
    def memory(cls, *, clock: Clock = utc_now, actor: str = "recloop") -> Ledger:
        """A private in-memory SQLite ledger (for tests of the loop's other parts)."""
        return cls.open(url="sqlite://", clock=clock, actor=actor)

    def __enter__(self) -> Ledger:
        return self
