"""The gain over the starting point: measured offline figures from the champion cache, online
lifts as measured per launch, and their product labelled as compounded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from recloop.cascade.champion import cached_summaries
from recloop.ledger import Ledger
from recloop.loop.render import gain_sentence, print_status
from recloop.loop.runner import RunSettings, run_loop
from recloop.loop.status import workspace_status


def test_gains_on_a_ledger_with_launches(workspace: Path, helpers: Any) -> None:
    report = run_loop(
        workspace,
        RunSettings(experiments=2),
        evaluator_factory=lambda: helpers.Scripted("ship"),
        auto_approver="demo-policy",
    )
    assert report.launched, "the scripted evaluator ships what passes the cascade"
    with Ledger.open(workspace) as ledger:
        status = workspace_status(ledger, "ndcg@10", workspace)
        blind = workspace_status(ledger, "ndcg@10")  # without the cache: offline-stage figures
        moves = ledger.audit_log(action="champion.move")
    measured = cached_summaries(workspace)
    start, now = moves[0].payload["from"], moves[-1].payload["to"]
    assert status.offline_start == measured[start]["ndcg@10"]
    assert status.offline_sources["start"] == "champion-cache"
    if now in measured:  # a later experiment measured the new champion
        assert status.offline_now == measured[now]["ndcg@10"]
        assert status.offline_sources["now"] == "champion-cache"
    else:
        assert status.offline_now == status.launched[-1].offline_candidate
        assert status.offline_sources["now"] == "offline-stage"
    assert blind.offline_sources == {"start": "offline-stage", "now": "offline-stage"}
    assert blind.offline_start == pytest.approx(status.offline_start, rel=1e-9)
    assert status.offline_gain is not None and status.offline_gain > 0.3  # EASE on ML-100K
    n = len(report.launched)
    assert status.online_lifts == [0.1] * n  # each launch's lift, as measured
    assert status.online_gain_compounded == pytest.approx(1.1**n - 1.0)
    sentence = gain_sentence(status)
    assert "compounded" in sentence and "not measured against the start" in sentence
    assert "+10.0%" in sentence and "exact" not in sentence
    console = Console(record=True, width=160)
    print_status(console, status)
    assert "the champion's own measurement" in console.export_text()
    data = status.to_json()
    assert data["online_gain_compounded"] == status.online_gain_compounded
    assert data["offline_gain"] == status.offline_gain
