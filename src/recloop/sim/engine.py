"""The simulation loop: day by day, sessions in rounds, every round one vectorised step.

Within a day a user's sessions are ordered in time, and her second session must see the state
her first one left (views, consumed items, satisfaction). So a day is cut into rounds — round r
holds every user's (r+1)-th session of the day — and each round is one numpy step over all its
sessions: a user appears at most once per round, so state updates are plain fancy-index writes.
The Python loop runs over days and rounds (at most `max_sessions_per_day` a day), never over
users, sessions or events.

A session: the policy's candidates for the user's persona minus the items she has consumed, first
`slate_size` kept, are her slate; `response` decides examination, clicks, consumes and their
satisfaction; then views, consumed items, recent satisfaction and the novelty counter are updated.
After the day, users who visited stay or leave (retention) and views fade (fatigue decay).

The engine measures per-unit totals of every test session (`metrics.UnitTotals`) and, given a
sink, hands it each day's rows of the tables (`tables`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.special import expit

from recloop.sim.assignment import AssignmentPlan
from recloop.sim.config import ResponseConfig
from recloop.sim.daylog import DayLog, DayLogBuilder
from recloop.sim.metrics import UnitTotals
from recloop.sim.pool import CandidatePool
from recloop.sim.response import examination, novelty, respond, return_probability
from recloop.sim.traffic import SECONDS_PER_DAY, Population, day_sessions

_SESSION_STREAM = 201
Sink = Callable[[DayLog], None]
Progress = Callable[[int, int], None]


@dataclass(frozen=True, eq=False)
class Scenario:
    """Everything a run needs besides its population and assignment."""

    pool: CandidatePool
    response: ResponseConfig
    day_multipliers: np.ndarray  # float64 per day
    shock: np.ndarray  # float32 per day: click and satisfaction logit shift
    novelty_lift: np.ndarray  # float32 (policy, persona): 0 where the slate did not change
    pre_days: int
    start_second: int  # epoch seconds of day 0's midnight (UTC)
    max_sessions_per_day: int
    bot_click: float
    item_ids: np.ndarray  # raw id of each item index, for the tables
    retention_shift: np.ndarray | None = None  # float32 per policy: return logit shift

    @property
    def total_days(self) -> int:
        return len(self.day_multipliers)


@dataclass(eq=False)
class UnitState:
    """The mutable state of every user of a population."""

    alive: np.ndarray
    satisfaction: np.ndarray
    last_visit: np.ndarray  # day (fractional) of the last session, NaN if none
    novel_exposures: np.ndarray
    views: np.ndarray  # float32 (users, pool columns), fading
    consumed: np.ndarray  # bool (users, pool columns)
    assigned: np.ndarray
    first_exposure: np.ndarray  # int64 epoch seconds, -1 if not assigned

    @classmethod
    def initial(cls, population: Population, n_columns: int) -> UnitState:
        n = population.size
        return cls(
            alive=np.ones(n, bool),
            satisfaction=np.zeros(n, np.float32),
            last_visit=population.last_visit.copy(),
            novel_exposures=np.zeros(n, np.int32),
            views=np.zeros((n, n_columns), np.float32),
            consumed=np.zeros((n, n_columns), bool),
            assigned=np.zeros(n, bool),
            first_exposure=np.full(n, -1, np.int64),
        )


@dataclass(eq=False)
class _Day:
    """Today's real sessions (of users still there), in user-then-time order."""

    potential: np.ndarray  # index into the day's potential sessions (and random draws)
    user: np.ndarray
    round: np.ndarray
    second: np.ndarray  # epoch seconds
    session_id: np.ndarray
    policy: np.ndarray  # policy index serving each session
    in_test: np.ndarray  # bool: counted in the test (assigned, incl. holdout)
    logged: np.ndarray  # bool: written to the tables (False where logging is lost)
    first_exposure: np.ndarray  # bool: the session that assigns its user
    draws: tuple[np.ndarray, np.ndarray, np.ndarray] = field(repr=False)
    churn_draw: np.ndarray = field(repr=False)  # uniform per user of the population


class Engine:
    """Runs one population through a scenario under an assignment and a routing of variants."""

    def __init__(
        self,
        scenario: Scenario,
        population: Population,
        plan: AssignmentPlan,
        route: tuple[int, int, int],
        seed: int,
        stream: int = 0,
        lost: np.ndarray | None = None,
    ) -> None:
        self.scenario = scenario
        self.population = population
        self.plan = plan
        self.route = np.asarray(route, np.int64)  # policy index of control, treatment, holdout
        self.seed = seed
        self.stream = stream
        self.lost = np.zeros(population.size, bool) if lost is None else lost
        self.state = UnitState.initial(population, scenario.pool.n_columns)
        self.totals = UnitTotals.zeros(population.size)
        self.exam = examination(scenario.response.slate_size, scenario.response.position_decay)
        self.sessions = 0
        self._next_session_id = 1

    def run(self, sink: Sink | None = None, progress: Progress | None = None) -> UnitTotals:
        """Simulate every day; return the per-unit totals of test sessions."""
        days = self.scenario.total_days
        for day in range(days):
            self.step(day, sink)
            if progress is not None:
                progress(day + 1, days)
        return self.totals

    def step(self, day: int, sink: Sink | None = None) -> None:
        """Simulate one day (its sessions round by round, then retention and fatigue decay)."""
        today = self._sessions(day)
        log = DayLogBuilder(self, today) if sink is not None else None
        order = np.argsort(today.round, kind="stable")
        bounds = np.searchsorted(
            today.round[order], np.arange(int(today.round.max(initial=-1)) + 2)
        )
        for r in range(len(bounds) - 1):
            self._serve(today, order[bounds[r] : bounds[r + 1]], day, log)
        self._retain(today)
        if self.scenario.response.fatigue > 0:
            self.state.views *= np.float32(self.scenario.response.fatigue_decay)
        self.sessions += len(today.user)
        if sink is not None and log is not None:
            sink(log.build())

    def _sessions(self, day: int) -> _Day:
        sc, st, pop = self.scenario, self.state, self.population
        rng = np.random.default_rng([self.seed, _SESSION_STREAM, self.stream, day])
        pot = day_sessions(pop, day, sc.day_multipliers[day], sc.max_sessions_per_day, rng)
        shape = (len(pot.user), sc.response.slate_size)
        draws = (
            rng.random(shape, np.float32),
            rng.random(shape, np.float32),
            rng.standard_normal(shape, np.float32),
        )
        churn_draw = rng.random(pop.size)
        keep = np.flatnonzero(st.alive[pot.user])
        user = pot.user[keep]
        seconds = sc.start_second + day * SECONDS_PER_DAY + pot.second[keep]
        test_day = day - sc.pre_days
        in_test = (test_day >= 0) & (self.plan.eligible_day[user] <= test_day)
        first = in_test & ~st.assigned[user] & (pot.round[keep] == 0)
        st.assigned[user[first]] = True
        st.first_exposure[user[first]] = seconds[first]
        variant = self.plan.variant[user]
        ids = np.arange(self._next_session_id, self._next_session_id + len(user), dtype=np.int64)
        self._next_session_id += len(user)
        return _Day(
            potential=keep,
            user=user,
            round=pot.round[keep],
            second=seconds,
            session_id=ids,
            policy=np.where(in_test, self.route[variant], 0),
            in_test=in_test,
            logged=~(in_test & self.lost[user]),
            first_exposure=first,
            draws=draws,
            churn_draw=churn_draw,
        )

    def _serve(self, today: _Day, idx: np.ndarray, day: int, log: DayLogBuilder | None) -> None:
        sc, st, pop, cfg = self.scenario, self.state, self.population, self.scenario.response
        pool = sc.pool
        u = today.user[idx]
        persona = pop.persona[u]
        policy = today.policy[idx]
        cols = pool.columns[policy, persona]  # (S, candidates)
        avail = ~st.consumed[u[:, None], cols]
        rank = np.cumsum(avail, axis=1, dtype=np.int32)
        r, j = np.nonzero(avail & (rank <= cfg.slate_size))
        slot = rank[r, j] - 1
        col = cols[r, j]
        uu, pr = u[r], persona[r]
        scale = sc.novelty_lift[policy, persona]
        lift = novelty(st.novel_exposures[u], 1.0, cfg.novelty_exposures) * scale
        logit = pool.click_logit[pr, col] + pop.bias[uu] + sc.shock[day] + lift[r]
        if cfg.fatigue > 0:
            logit -= cfg.fatigue * np.log1p(st.views[uu, col])
        prob = self.exam[slot] * expit(logit)
        bot = pop.bot[uu]
        prob[bot] = sc.bot_click
        sat = pool.satisfaction_logit[pr, col] + sc.shock[day]
        sat[bot] = -np.inf  # bots never consume
        pot = today.potential[idx][r]
        draws = tuple(d[pot, slot] for d in today.draws)
        resp = respond(prob, sat, draws, cfg.satisfaction_noise)
        st.views[uu, col] += 1.0
        st.consumed[uu[resp.consume], col[resp.consume]] = True
        n = len(idx)
        clicks = np.bincount(r, weights=resp.click, minlength=n)
        consumes = np.bincount(r, weights=resp.consume, minlength=n)
        value = np.bincount(r, weights=resp.value, minlength=n)
        session_satisfaction = (
            value - cfg.disappointment * (clicks - consumes) - cfg.boredom * (clicks == 0)
        )
        st.satisfaction[u] = cfg.memory * st.satisfaction[u] + (1 - cfg.memory) * (
            session_satisfaction
        )
        st.novel_exposures[u] += scale > 0
        now = (today.second[idx] - sc.start_second) / SECONDS_PER_DAY  # days since day 0
        gap = now - st.last_visit[u]  # NaN for a first visit
        st.last_visit[u] = now
        shown = np.bincount(r, minlength=n)
        latency = pool.latency_ms[policy, persona]
        measured = today.in_test[idx]
        self.totals.add(
            u[measured],
            sessions=np.ones(int(measured.sum())),
            impressions=shown[measured],
            clicks=clicks[measured],
            consumes=consumes[measured],
            consumption=value[measured],
            returns=(~np.isnan(gap) & ~today.first_exposure[idx])[measured],
            latency_ms=latency[measured],
        )
        if log is not None:
            log.add_round(idx, (r, slot, col), resp, gap, shown, latency)

    def _retain(self, today: _Day) -> None:
        st, pop = self.state, self.population
        first = today.round == 0
        visitors = today.user[first]
        shift = self.scenario.retention_shift
        stay = today.churn_draw[visitors] < return_probability(
            st.satisfaction[visitors],
            pop.loyalty[visitors],
            self.scenario.response,
            None if shift is None else shift[today.policy[first]],
        )
        leave = visitors[~(stay | pop.bot[visitors])]
        st.alive[leave] = False
