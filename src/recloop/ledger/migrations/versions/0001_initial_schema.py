"""Initial schema: every ledger table, and the triggers that keep the audit log append-only.

Revision ID: 0001
Revises:
Create Date: 2026-11-25

Self-contained on purpose (no import of the models, which will move on): plain SQLAlchemy types
that match `recloop.ledger.schema` — `UTCDateTime` is `DateTime(timezone=True)` underneath.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JSON = sa.JSON()  # Postgres json, not jsonb (see recloop.ledger.schema)
KEY = sa.String(200)
WORD = sa.String(32)
COMMIT = sa.String(64)

STATES = (
    "proposed", "forbidden_check", "developed", "structural", "semantic", "local", "offline",
    "awaiting_approval", "online", "decided", "launched", "closed",
)  # fmt: skip
LEVELS = ("L1", "L2", "L3", "L4")

_APPEND_ONLY = "audit_log is append-only"


def _in(column: str, words: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(w) for w in words)})"


def _time(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _json(name: str) -> sa.Column:
    return sa.Column(name, JSON, nullable=False)


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), primary_key=True)


def _fk(name: str, table: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Integer(), sa.ForeignKey(f"{table}.id"), nullable=nullable)


def _removable() -> list[sa.Column]:
    return [
        sa.Column("signature", KEY, nullable=False),
        sa.Column("scope", KEY, nullable=False),
        _json("payload"),
        _time("created_at"),
        _time("expires_at", nullable=True),
        sa.Column("removed_by", KEY),
        _time("removed_at", nullable=True),
        sa.Column("removed_reason", sa.Text()),
    ]


def _index(table: str, *columns: str, unique: bool = False) -> None:
    op.create_index(op.f(f"ix_{table}_{columns[0]}"), table, list(columns), unique=unique)


def upgrade() -> None:
    _create_experiment_tables()
    _create_verification_tables()
    _create_learning_tables()
    _create_audit_log()


def _create_experiment_tables() -> None:
    op.create_table(
        "proposals",
        _id(),
        sa.Column("key", KEY, nullable=False, unique=True),
        sa.Column("family", KEY, nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("hypothesis", sa.Text(), nullable=False),
        sa.Column("level", WORD, nullable=False),
        sa.Column("source", KEY, nullable=False),
        _json("params"),
        _json("payload"),
        _time("created_at"),
        sa.CheckConstraint(_in("level", LEVELS), name="level"),
    )
    _index("proposals", "family")
    op.create_table(
        "experiments",
        _id(),
        sa.Column("key", KEY, nullable=False, unique=True),
        _fk("proposal_id", "proposals"),
        sa.Column("state", WORD, nullable=False),
        sa.Column("state_version", sa.Integer(), nullable=False),
        sa.Column("base_commit", COMMIT),
        _json("payload"),
        _time("created_at"),
        _time("updated_at"),
        sa.CheckConstraint(_in("state", STATES), name="state"),
    )
    _index("experiments", "proposal_id")
    _index("experiments", "state")
    op.create_table(
        "candidates",
        _id(),
        _fk("experiment_id", "experiments"),
        sa.Column("name", KEY, nullable=False),
        sa.Column("branch", sa.String(255), nullable=False),
        sa.Column("commit", COMMIT),
        sa.Column("base_commit", COMMIT),
        sa.Column("diff", sa.Text(), nullable=False),
        _json("payload"),
        _time("created_at"),
        sa.UniqueConstraint("experiment_id", "name"),
    )
    _index("candidates", "experiment_id")


def _create_verification_tables() -> None:
    op.create_table(
        "stage_runs",
        _id(),
        _fk("experiment_id", "experiments"),
        _fk("candidate_id", "candidates"),
        sa.Column("stage", KEY, nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("verdict", WORD, nullable=False),
        sa.Column("cause", KEY),
        sa.Column("sentence", sa.Text(), nullable=False),
        _json("evidence"),
        sa.Column("wall_seconds", sa.Float(), nullable=False),
        sa.Column("cpu_seconds", sa.Float(), nullable=False),
        _time("created_at"),
        sa.UniqueConstraint("experiment_id", "candidate_id", "stage", "attempt"),
        sa.CheckConstraint(_in("verdict", ("pass", "reject", "error", "pending")), name="verdict"),
    )
    _index("stage_runs", "experiment_id")
    _index("stage_runs", "candidate_id")
    op.create_table(
        "metrics",
        _id(),
        _fk("experiment_id", "experiments"),
        _fk("candidate_id", "candidates"),
        sa.Column("kind", WORD, nullable=False),
        sa.Column("name", KEY, nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("ci_low", sa.Float()),
        sa.Column("ci_high", sa.Float()),
        _json("payload"),
        _time("created_at"),
        sa.UniqueConstraint("candidate_id", "kind", "name", "attempt"),
        sa.CheckConstraint(_in("kind", ("offline", "online")), name="kind"),
    )
    _index("metrics", "experiment_id")
    _index("metrics", "candidate_id")
    op.create_table(
        "online_tests",
        _id(),
        _fk("experiment_id", "experiments"),
        _fk("candidate_id", "candidates"),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("tables_location", sa.Text(), nullable=False),
        sa.Column("status", WORD, nullable=False),
        _json("payload"),
        _json("decision_payload"),
        _time("started_at"),
        _time("ended_at", nullable=True),
        sa.UniqueConstraint("candidate_id", "attempt"),
        sa.CheckConstraint(
            _in("status", ("running", "completed", "stopped", "failed")), name="status"
        ),
    )
    _index("online_tests", "experiment_id")
    _index("online_tests", "candidate_id")
    op.create_table(
        "decisions",
        _id(),
        sa.Column(
            "experiment_id",
            sa.Integer(),
            sa.ForeignKey("experiments.id"),
            nullable=False,
            unique=True,
        ),
        _fk("candidate_id", "candidates", nullable=True),
        _fk("online_test_id", "online_tests", nullable=True),
        sa.Column("outcome", WORD, nullable=False),
        _json("rule_outcome"),
        sa.Column("decided_by", KEY, nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        _time("created_at"),
        sa.CheckConstraint(_in("outcome", ("ship", "no_ship", "inconclusive")), name="outcome"),
    )
    _index("decisions", "candidate_id")
    op.create_table(
        "approvals",
        _id(),
        _fk("experiment_id", "experiments"),
        sa.Column("gate", KEY, nullable=False),
        sa.Column("required_level", WORD, nullable=False),
        sa.Column("status", WORD, nullable=False),
        sa.Column("requested_by", KEY, nullable=False),
        _time("requested_at"),
        sa.Column("decided_by", KEY),
        sa.Column("note", sa.Text(), nullable=False),
        _time("decided_at", nullable=True),
        sa.UniqueConstraint("experiment_id", "gate"),
        sa.CheckConstraint(_in("required_level", LEVELS), name="required_level"),
        sa.CheckConstraint(_in("status", ("pending", "approved", "rejected")), name="status"),
    )
    _index("approvals", "experiment_id")
    _index("approvals", "status")


def _create_learning_tables() -> None:
    op.create_table(
        "knowledge_assets",
        _id(),
        sa.Column("key", KEY, nullable=False, unique=True),
        _fk("experiment_id", "experiments", nullable=True),
        sa.Column("kind", KEY, nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        _json("attribution"),
        _time("created_at"),
    )
    _index("knowledge_assets", "experiment_id")
    _index("knowledge_assets", "kind")
    op.create_table(
        "knowledge_tags",
        sa.Column("asset_id", sa.Integer(), sa.ForeignKey("knowledge_assets.id"), primary_key=True),
        sa.Column("tag", KEY, primary_key=True),
    )
    _index("knowledge_tags", "tag")
    op.create_table(
        "failure_records",
        _id(),
        sa.Column(
            "stage_run_id",
            sa.Integer(),
            sa.ForeignKey("stage_runs.id"),
            nullable=False,
            unique=True,
        ),
        _fk("experiment_id", "experiments"),
        _fk("candidate_id", "candidates"),
        sa.Column("stage", KEY, nullable=False),
        sa.Column("cause", KEY),
        sa.Column("family", KEY),
        *_removable(),
    )
    _index("failure_records", "experiment_id")
    _index("failure_records", "candidate_id")
    _index("failure_records", "signature")
    op.create_table(
        "forbidden_directions",
        _id(),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", KEY, nullable=False),
        *_removable(),
    )
    _index("forbidden_directions", "signature")
    live = sa.text("removed_at IS NULL")
    op.create_index(
        "uq_forbidden_directions_live",
        "forbidden_directions",
        ["signature", "scope"],
        unique=True,
        sqlite_where=live,
        postgresql_where=live,
    )
    op.create_table(
        "playbook_versions",
        _id(),
        sa.Column("agent", KEY, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("parent_version", sa.Integer()),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_sha256", sa.String(64), nullable=False),
        sa.Column("outcome_rate", sa.Float()),
        sa.Column("n_outcomes", sa.Integer()),
        sa.Column("accepted", sa.Boolean()),
        _json("payload"),
        _time("created_at"),
        _time("scored_at", nullable=True),
        sa.UniqueConstraint("agent", "version"),
        sa.UniqueConstraint("agent", "text_sha256"),
    )
    op.create_table(
        "llm_calls",
        _id(),
        sa.Column("key", KEY, unique=True),
        sa.Column("agent", KEY, nullable=False),
        _fk("experiment_id", "experiments", nullable=True),
        sa.Column("model", KEY, nullable=False),
        sa.Column("tokens_in", sa.Integer(), nullable=False),
        sa.Column("tokens_out", sa.Integer(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("latency_seconds", sa.Float(), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("error", sa.Text()),
        _json("payload"),
        _time("created_at"),
    )
    _index("llm_calls", "agent")
    _index("llm_calls", "experiment_id")


def _create_audit_log() -> None:
    op.create_table(
        "audit_log",
        _id(),
        _time("at"),
        sa.Column("actor", KEY, nullable=False),
        sa.Column("action", KEY, nullable=False),
        sa.Column("subject", KEY, nullable=False),
        _fk("experiment_id", "experiments", nullable=True),
        _json("payload"),
    )
    _index("audit_log", "subject")
    _index("audit_log", "experiment_id")
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{event.lower()} BEFORE {event} ON audit_log "
                f"BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY}'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION recloop_audit_log_append_only() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            f"RAISE EXCEPTION '{_APPEND_ONLY}' USING ERRCODE = 'insufficient_privilege'; "
            "END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION recloop_audit_log_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION recloop_audit_log_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE audit_log")  # its triggers go with it
        op.execute("DROP FUNCTION recloop_audit_log_append_only()")
    else:
        op.drop_table("audit_log")
    for table in (
        "llm_calls", "playbook_versions", "forbidden_directions", "failure_records",
        "knowledge_tags", "knowledge_assets", "approvals", "decisions", "online_tests",
        "metrics", "stage_runs", "candidates", "experiments", "proposals",
    ):  # fmt: skip
        op.drop_table(table)
