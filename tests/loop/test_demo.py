"""The main job, small: the demo with the real Evaluation agent completes and reports a funnel;
`recloop status --json` reads the same from the workspace."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from recloop.ledger import Ledger
from recloop.loop.commands import register
from recloop.loop.demo import run_demo
from recloop.recsys.datadir import DATA_DIR_ENV


def test_a_short_demo_completes_and_reports_its_funnel(tmp_path: Path, ml100k_root: Path) -> None:
    result = run_demo(tmp_path / "demo", experiments=3, parallel=1)
    assert "MovieLens 100K" in result.data_note
    assert "demo-policy" in result.policy
    status = result.status
    assert status.experiments == status.finished == 3
    assert status.funnel["proposed"] == 3
    assert sum(sum(c.values()) for c in status.stopped.values()) + len(status.launched) == 3
    assert result.report.launched, "EASE (the first proposal) ships on ML-100K"
    assert status.offline_gain is not None and status.offline_gain > 0.3
    with Ledger.open(result.workspace) as ledger:
        deciders = {a.decided_by for a in ledger.approvals()}
        experiment = ledger.find_experiment(result.report.launched[0])
        assert experiment is not None
        launched = ledger.get_decision(experiment)
    assert deciders == {"demo-policy"}
    assert launched is not None and "decisive ship stop on day" in launched.explanation

    app = typer.Typer()
    register(app)
    shown = CliRunner().invoke(app, ["status", "--workspace", str(result.workspace), "--json"])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.output)
    assert data["funnel"] == status.funnel and data["experiments"] == 3


def test_without_ml100k_the_demo_runs_on_the_synthetic_world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No data reachable (an empty data folder, downloads refused): the demo says it uses the
    synthetic world and still ends with a funnel."""
    empty = tmp_path / "no-data"
    empty.mkdir()
    monkeypatch.setenv(DATA_DIR_ENV, str(empty))
    for proxy in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(proxy, "http://127.0.0.1:9")  # nothing listens: refused at once
    for bypass in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(bypass, raising=False)
    started = time.monotonic()
    result = run_demo(tmp_path / "demo", experiments=2, parallel=1)
    assert time.monotonic() - started < 60
    assert "synthetic world" in result.data_note and "not reachable" in result.data_note
    assert 'dataset = "synthetic"' in (result.workspace / "recloop.toml").read_text()
    status = result.status
    assert status.experiments == status.finished == 2
    assert status.funnel["proposed"] == 2
    assert sum(sum(c.values()) for c in status.stopped.values()) + len(status.launched) == 2
    assert not any(empty.iterdir()), "nothing was downloaded"
