"""Ledgers to test against: SQLite always, PostgreSQL when RECLOOP_TEST_POSTGRES_URL is set.

Each Postgres test gets its own schema (dropped afterwards), selected through the URL's
`options=-csearch_path=…`, so tests never see each other's rows — the audit log cannot be
emptied, by design. Worker processes (`run_workers`) race on one ledger from outside pytest.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import URL, create_engine, make_url, text

from recloop.ledger import Candidate, Experiment, Ledger

POSTGRES_ENV = "RECLOOP_TEST_POSTGRES_URL"


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


def postgres_base_url() -> str:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(f"no PostgreSQL server: set {POSTGRES_ENV} (e.g. postgresql+psycopg://…)")
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL on each backend."""
    if request.param == "sqlite":
        yield URL.create(
            "sqlite", database=str(tmp_path / ".recloop" / "ledger.db")
        ).render_as_string()
        return
    base = postgres_base_url()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ledger(ledger_url: str, clock: FakeClock) -> Iterator[Ledger]:
    opened = Ledger.open(url=ledger_url, clock=clock, actor="test")
    yield opened
    opened.close()


def new_experiment(ledger: Ledger, key: str = "e-1") -> Experiment:
    proposal = ledger.add_proposal(
        f"p-{key}", family="time-decay", title="Decay old interactions", level="L2", source="test"
    )
    return ledger.create_experiment(key, proposal)


def new_candidate(ledger: Ledger, experiment: Experiment, name: str = "c-1") -> Candidate:
    return ledger.add_candidate(
        experiment, name, branch=f"recloop/{name}", commit="a" * 40, diff="--- a\n+++ b\n"
    )


@pytest.fixture
def experiment(ledger: Ledger) -> Experiment:
    """A new experiment (state `proposed`) in `ledger`."""
    return new_experiment(ledger)


@pytest.fixture
def candidate(ledger: Ledger, experiment: Experiment) -> Candidate:
    """A candidate of `experiment`."""
    return new_candidate(ledger, experiment)


@pytest.fixture
def make_experiment() -> Callable[..., Experiment]:
    """`make_experiment(ledger, key)`: another experiment, with its own proposal."""
    return new_experiment


@pytest.fixture
def make_candidate() -> Callable[..., Candidate]:
    """`make_candidate(ledger, experiment, name)`: another candidate."""
    return new_candidate


@pytest.fixture
def workers(tmp_path: Path) -> Callable[..., list[Any]]:
    """`workers(url, task, n, **args)`: see `run_workers`."""

    def run(url: str, task: str, n: int, **args: object) -> list[Any]:
        return run_workers(url, task, n, tmp_path, **args)

    return run


WORKERS = Path(__file__).with_name("ledger_workers.py")


def run_workers(url: str, task: str, n: int, tmp_path: Path, **args: object) -> list[Any]:
    """Start `n` processes that open the ledger, wait at a barrier, then all run `task`
    (a function of `ledger_workers.py`) at once; returns their JSON results."""
    barrier = tmp_path / f"barrier-{uuid.uuid4().hex[:8]}"
    barrier.mkdir()
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKERS), url, str(barrier), str(i), task, json.dumps(args)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(n)
    ]
    deadline = time.monotonic() + 120
    while len(list(barrier.glob("ready-*"))) < n:
        if any(p.poll() not in (None, 0) for p in procs) or time.monotonic() > deadline:
            for p in procs:
                p.kill()
            errors = [p.communicate()[1] for p in procs]
            raise AssertionError(f"a worker did not get ready: {errors}")
        time.sleep(0.01)
    (barrier / "go").touch()
    results = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results
