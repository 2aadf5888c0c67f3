"""The experiment ledger: every proposal, experiment, verdict, decision and approval, audited.

SQLite in the workspace's `.recloop/ledger.db` by default (WAL, several writing processes), any
SQLAlchemy URL — Postgres through psycopg 3 in particular — by setting. Alembic migrations
create and evolve the schema; `Ledger.open` applies them. See `ledger.Ledger` for the API,
`states` for the experiment state machine, `errors` for what is refused.
"""

from recloop.ledger.engine import URL_ENV
from recloop.ledger.errors import (
    AppendOnlyError,
    ApprovalRequiredError,
    ConflictError,
    IllegalTransitionError,
    LedgerError,
    LedgerUnavailableError,
    NotFoundError,
    StaleStateError,
)
from recloop.ledger.ledger import Ledger
from recloop.ledger.records import (
    Approval,
    AuditEntry,
    Candidate,
    Decision,
    Experiment,
    FailureRecord,
    ForbiddenDirection,
    ForbiddenDirectionWrite,
    KnowledgeAsset,
    LLMCall,
    LLMUsage,
    Metric,
    MetricValue,
    OnlineTest,
    PlaybookVersion,
    Proposal,
    StageRun,
)
from recloop.ledger.states import STATES, TERMINAL, TRANSITIONS, State

__all__ = [
    "STATES",
    "TERMINAL",
    "TRANSITIONS",
    "URL_ENV",
    "AppendOnlyError",
    "Approval",
    "ApprovalRequiredError",
    "AuditEntry",
    "Candidate",
    "ConflictError",
    "Decision",
    "Experiment",
    "FailureRecord",
    "ForbiddenDirection",
    "ForbiddenDirectionWrite",
    "IllegalTransitionError",
    "KnowledgeAsset",
    "LLMCall",
    "LLMUsage",
    "Ledger",
    "LedgerError",
    "LedgerUnavailableError",
    "Metric",
    "MetricValue",
    "NotFoundError",
    "OnlineTest",
    "PlaybookVersion",
    "Proposal",
    "StageRun",
    "StaleStateError",
    "State",
]
