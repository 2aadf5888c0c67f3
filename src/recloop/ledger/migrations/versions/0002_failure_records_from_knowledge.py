"""Failure records from the knowledge store: a `key` (the record's own id), stage run optional.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

The knowledge store (`recloop.knowledge.ledger_store`) keeps every cascade rejection, including
those with no stage run in the ledger (a harness error before the run was written, a record
imported from an old `knowledge.json`). So `stage_run_id`, `experiment_id` and `candidate_id`
become nullable, and `key` — unique, the record's `fr-…` id — makes its writes idempotent on
every backend. SQLite alters by copying the table (Alembic's batch mode).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_LINKS = ("stage_run_id", "experiment_id", "candidate_id")


def upgrade() -> None:
    with op.batch_alter_table("failure_records") as batch:
        batch.add_column(sa.Column("key", sa.String(200)))
        batch.create_unique_constraint("uq_failure_records_key", ["key"])
        for column in _LINKS:
            batch.alter_column(column, existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM failure_records WHERE stage_run_id IS NULL")
    with op.batch_alter_table("failure_records") as batch:
        batch.drop_constraint("uq_failure_records_key", type_="unique")
        batch.drop_column("key")
        for column in _LINKS:
            batch.alter_column(column, existing_type=sa.Integer(), nullable=False)
