"""One module per schema revision, oldest first; alembic reads them by file, never by import."""
