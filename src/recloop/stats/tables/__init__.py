"""Experiment tables wherever a team keeps them: read-only sources, the contract, per-unit SQL.

`open_source` opens a DuckDB file, a folder of Parquet files or a SQLAlchemy URL read-only (one
`Warehouse` port, two adapters); `validate` checks the contract and describes the experiment
(`ExperimentInfo`); `queries` computes per-unit totals at a look, over the pre-period and by day;
`daily` zero-fills unit-day panels. Errors: `errors` (one hierarchy).
"""

from recloop.stats.tables.contract import ExperimentInfo, validate
from recloop.stats.tables.errors import Problem, SchemaError, SourceError, TableError
from recloop.stats.tables.warehouse import Warehouse, open_source

__all__ = [
    "ExperimentInfo",
    "Problem",
    "SchemaError",
    "SourceError",
    "TableError",
    "Warehouse",
    "open_source",
    "validate",
]
