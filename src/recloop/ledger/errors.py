"""What the ledger refuses, and why.

    LedgerError                    base of the errors below
    ├── LedgerUnavailableError     the database cannot be opened or migrated (bad URL, a
    │                              schema newer than this recloop, a driver not installed)
    ├── NotFoundError              no row with that id or key (carries `kind` and `ref`)
    ├── IllegalTransitionError     a move the state machine does not have (`states.TRANSITIONS`);
    │                              refused before the database is touched
    ├── StaleStateError            compare-and-set lost: the experiment is no longer in the state
    │                              the caller named (carries `expected` and `actual`); nothing
    │                              was written
    ├── ApprovalRequiredError      a gate needs an approved approval that is not there
    ├── ConflictError              an idempotent write met an existing row that says otherwise
    │                              (an approval already decided the other way, a candidate of
    │                              another experiment)
    └── AppendOnlyError            code tried to change or delete an audit entry

Database-level refusals (the audit log's UPDATE/DELETE triggers, unique constraints) surface as
SQLAlchemy's `DBAPIError` subclasses when they are reached by raw SQL; the ledger's own methods
never reach them except through the audited paths above.
"""

from __future__ import annotations


class LedgerError(Exception):
    """Base of the ledger's errors."""


class LedgerUnavailableError(LedgerError):
    """The ledger's database cannot be opened or brought to the current schema."""


class NotFoundError(LedgerError):
    """No row of `kind` matches `ref`."""

    def __init__(self, kind: str, ref: object) -> None:
        super().__init__(f"no {kind} {ref!r} in the ledger")
        self.kind = kind
        self.ref = ref


class IllegalTransitionError(LedgerError):
    """`from_state → to_state` is not a move of the experiment state machine."""

    def __init__(self, from_state: str, to_state: str, reason: str) -> None:
        super().__init__(f"illegal transition {from_state} → {to_state}: {reason}")
        self.from_state = from_state
        self.to_state = to_state


class StaleStateError(LedgerError):
    """The experiment was not in `expected` (it was in `actual`): another writer got there."""

    def __init__(self, experiment_id: int, expected: str, actual: str) -> None:
        super().__init__(
            f"experiment {experiment_id} is in state {actual!r}, not {expected!r}: "
            "another writer moved it first"
        )
        self.experiment_id = experiment_id
        self.expected = expected
        self.actual = actual


class ApprovalRequiredError(LedgerError):
    """The gate needs an approved approval for the experiment and has none."""

    def __init__(self, experiment_id: int, gate: str, status: str | None) -> None:
        seen = "no approval was requested" if status is None else f"the approval is {status}"
        super().__init__(f"experiment {experiment_id} cannot pass gate {gate!r}: {seen}")
        self.experiment_id = experiment_id
        self.gate = gate
        self.status = status


class ConflictError(LedgerError):
    """An idempotent write found an existing row that contradicts it."""


class AppendOnlyError(LedgerError):
    """Audit entries are never updated or deleted."""
