"""Why an analysis of experiment tables refuses to compute a number — the whole hierarchy here.

    TableError (ValueError)      anything wrong with a source of experiment tables
    ├── SourceError              the source cannot be opened read-only: a missing file or
    │                            folder, an unsupported URL or SQL dialect, a refused connection
    └── SchemaError              the tables break the contract (README, "The experiment tables"):
                                 a missing table or column, a wrong type, a unit in both arms, an
                                 experiment session timed before its unit's first exposure, an
                                 experiment name that is not there, ... `problems` lists every
                                 one found, each naming its table and column.

Both are raised before any statistic is computed. A missing pre-period is not an error: CUPED
and the segments are skipped and the attribution says so.
"""

from __future__ import annotations

from dataclasses import dataclass


class TableError(ValueError):
    """A source of experiment tables that cannot be analysed."""


class SourceError(TableError):
    """The source cannot be opened (read-only) or spoken to."""


@dataclass(frozen=True)
class Problem:
    """One breach of the contract: where (table, column) and what."""

    table: str
    column: str | None
    message: str

    def __str__(self) -> str:
        where = self.table if self.column is None else f"{self.table}.{self.column}"
        return f"{where}: {self.message}"


class SchemaError(TableError):
    """The tables break the contract; `problems` holds every breach found."""

    def __init__(self, source: str, problems: list[Problem] | tuple[Problem, ...]) -> None:
        self.source = source
        self.problems = tuple(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"the experiment tables in {source} break the contract:\n{lines}")
