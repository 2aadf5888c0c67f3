"""Alembic migrations of the ledger (`env.py`, `versions/`); run by `recloop.ledger.migrate`."""
