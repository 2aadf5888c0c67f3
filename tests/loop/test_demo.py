"""The main job, small: the demo with the real Evaluation agent completes and reports a funnel;
`recloop status --json` reads the same from the workspace."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from recloop.ledger import Ledger
from recloop.loop.commands import register
from recloop.loop.demo import run_demo


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
    assert deciders == {"demo-policy"}

    app = typer.Typer()
    register(app)
    shown = CliRunner().invoke(app, ["status", "--workspace", str(result.workspace), "--json"])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.output)
    assert data["funnel"] == status.funnel and data["experiments"] == 3
