"""One simulated day's rows of the tables, as numpy columns (codes, not strings, for speed).

The engine hands each round's sessions and responses to a `DayLogBuilder`; at the end of the day
`build` concatenates them into a `DayLog` whose columns the table writer bulk-inserts. Event
codes, variant codes and policy indices become strings only inside DuckDB (see `tables`).
Impressions are logged at the session's start, a click 5 s per rank after it, a consume 30 s after
its click, and a return at the session's start.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from recloop.sim.response import SlateResponse

if TYPE_CHECKING:
    from recloop.sim.engine import Engine, _Day

IMPRESSION, CLICK, CONSUME, RETURN = 0, 1, 2, 3
EVENT_TYPES = ("impression", "click", "consume", "return")
CLICK_DELAY_PER_RANK = 5
CONSUME_DELAY = 30
Columns = dict[str, np.ndarray]


@dataclass(frozen=True, eq=False)
class DayLog:
    """A day's new rows: events, exposures and assignments (column name -> array)."""

    events: Columns
    exposures: Columns
    assignments: Columns

    def __len__(self) -> int:
        return len(self.events["unit_id"])


def _concat(parts: list[Columns], names: tuple[str, ...]) -> Columns:
    return {name: np.concatenate([p[name] for p in parts]) for name in names} if parts else {}


EVENT_COLUMNS = ("unit_id", "session_id", "ts", "event_type", "item_id", "position", "value")
EXPOSURE_COLUMNS = (
    "unit_id", "session_id", "ts", "variant", "policy", "slate_size", "latency_ms"
)  # fmt: skip
ASSIGNMENT_COLUMNS = ("unit_id", "variant", "first_exposure")


class DayLogBuilder:
    """Collects the rows of one day's rounds."""

    def __init__(self, engine: Engine, today: _Day) -> None:
        self.engine = engine
        self.today = today
        self.events: list[Columns] = []
        self.exposures: list[Columns] = []

    def add_round(
        self,
        idx: np.ndarray,
        impressions: tuple[np.ndarray, np.ndarray, np.ndarray],
        resp: SlateResponse,
        gap: np.ndarray,
        shown: np.ndarray,
        latency: np.ndarray,
    ) -> None:
        """Rows of the sessions `idx` of today: impressions (row, rank, column) and responses."""
        r, slot, col = impressions
        today, pop = self.today, self.engine.population
        unit = pop.unit_id[today.user[idx]]
        sid = today.session_id[idx]
        ts = today.second[idx]
        logged = today.logged[idx]
        pool = self.engine.scenario.pool
        item = self.engine.scenario.item_ids[pool.items[pop.persona[today.user[idx]][r], col]]
        keep = logged[r]
        delay = CLICK_DELAY_PER_RANK * (slot + 1)
        for code, mask, offset, value in (
            (IMPRESSION, keep, 0, np.ones(len(r))),
            (CLICK, keep & resp.click, delay, np.ones(len(r))),
            (CONSUME, keep & resp.consume, delay + CONSUME_DELAY, resp.value),
        ):
            rows = np.flatnonzero(mask)
            self._event(
                code, unit[r[rows]], sid[r[rows]], (ts[r] + offset)[rows], item[rows],
                slot[rows] + 1, value[rows],
            )  # fmt: skip
        back = np.flatnonzero(logged & ~np.isnan(gap))
        n = len(back)
        self._event(RETURN, unit[back], sid[back], ts[back], np.full(n, -1), np.zeros(n), gap[back])
        exposed = np.flatnonzero(logged & today.in_test[idx])
        self.exposures.append(
            {
                "unit_id": unit[exposed],
                "session_id": sid[exposed],
                "ts": ts[exposed],
                "variant": self.engine.plan.variant[today.user[idx][exposed]],
                "policy": today.policy[idx][exposed].astype(np.int8),
                "slate_size": shown[exposed].astype(np.int16),
                "latency_ms": latency[exposed],
            }
        )

    def _event(
        self,
        code: int,
        unit: np.ndarray,
        session: np.ndarray,
        ts: np.ndarray,
        item: np.ndarray,
        position: np.ndarray,
        value: np.ndarray,
    ) -> None:
        self.events.append(
            {
                "unit_id": unit,
                "session_id": session,
                "ts": ts.astype(np.int64),
                "event_type": np.full(len(unit), code, np.int8),
                "item_id": item.astype(np.int64),
                "position": position.astype(np.int16),
                "value": value.astype(np.float64),
            }
        )

    def build(self) -> DayLog:
        today, engine = self.today, self.engine
        new = np.flatnonzero(today.first_exposure & today.logged)
        users = today.user[new]
        return DayLog(
            events=_concat(self.events, EVENT_COLUMNS),
            exposures=_concat(self.exposures, EXPOSURE_COLUMNS),
            assignments={
                "unit_id": engine.population.unit_id[users],
                "variant": engine.plan.variant[users],
                "first_exposure": today.second[new],
            },
        )
