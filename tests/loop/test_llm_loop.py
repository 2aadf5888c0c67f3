"""The run loop with the LLM agents: a scripted model behind a real OpenAI-compatible endpoint
on loopback proposes, writes the diffs and edits the playbooks; the loop's budgets, fallbacks
and accounting around it are recloop's own."""

from __future__ import annotations

import datetime as dt
import difflib
import itertools
import json
import pickle
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from recloop.agents.llm import (
    BRAINSTORMER,
    DEVELOP_PLAYBOOK,
    DEVELOPER,
    LLMConfigError,
    ScriptedLLMServer,
    ScriptedReply,
    resolve_llm,
)
from recloop.agents.posterior import PLAYBOOK_AGENT
from recloop.knowledge import workspace_store
from recloop.ledger import Ledger
from recloop.loop.llm_agents import tagged_playbook
from recloop.loop.runner import RunReport, RunSettings, run_loop
from recloop.loop.workers import WorkerSpec
from recloop.workspace.git import run_git
from recloop.workspace.manifest import MANIFEST_FILE, LLMSettings

RANKING = "movierec/ranking.py"
TOKENS_IN, TOKENS_OUT = 900, 100  # every scripted reply: 1000 tokens, so budgets are exact
NO_LLM = 'provider = "none"'


class ScriptedModel:
    """A responder that answers by the request's content: brainstorm prompts get a proposal,
    develop prompts a read and then a real diff of the example's ranking code, reflection
    prompts an edit of the playbook. `fail` answers everything with HTTP 500."""

    def __init__(self, diff: str, *, fail: bool = False) -> None:
        self.diff = diff
        self.fail = fail
        self._ideas = itertools.count(1)
        self._lock = threading.Lock()

    def __call__(self, request: dict[str, Any]) -> ScriptedReply:
        if self.fail:
            return ScriptedReply.failure(500, "the model server is down")
        messages = request["messages"]
        system, last = messages[0]["content"], messages[-1]["content"]
        if system.startswith("You are the brainstorm agent"):
            with self._lock:
                n = next(self._ideas)
            return self._reply({"proposals": [self._proposal(n)]})
        if system.startswith("You are recloop's Develop agent"):
            if last.startswith("Result of read_file"):
                message = "Floor the popularity scale at 1e-9"
                return self._reply({"tool": "propose_diff", "diff": self.diff, "message": message})
            return self._reply({"tool": "read_file", "path": RANKING, "start": 20, "end": 35})
        if system.startswith("You maintain the playbook"):
            agent = DEVELOPER if DEVELOPER in system else BRAINSTORMER
            text = f"- Edited for {agent}: keep changes small and read before writing."
            return self._reply({"text": text, "rationale": "both experiments passed offline"})
        return ScriptedReply.failure(400, "no script for this prompt")

    @staticmethod
    def _proposal(n: int) -> dict[str, Any]:
        return {
            "family": "free-form",
            "hypothesis": f"Idea {n}. A larger floor keeps the popularity feature finite.",
            "expected_effect": "ndcg@10 flat, no NaN on an empty catalogue",
            "risk": "L3",
            "files": [RANKING],
            "parameters": {},
        }

    @staticmethod
    def _reply(body: dict[str, Any]) -> ScriptedReply:
        return ScriptedReply(content=json.dumps(body), tokens_in=TOKENS_IN, tokens_out=TOKENS_OUT)


def ranking_diff(root: Path) -> str:
    """The diff a model would write: the popularity floor from 1e-12 to 1e-9."""
    before = (root / RANKING).read_text(encoding="utf-8")
    after = before.replace("1e-12)", "1e-9)", 1)
    assert after != before
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        f"a/{RANKING}",
        f"b/{RANKING}",
    )
    return "".join(lines)


def configure_llm(root: Path, server: ScriptedLLMServer, **budgets: int) -> None:
    """Point the workspace's manifest at the scripted server, with `budgets`, and commit."""
    manifest = root / MANIFEST_FILE
    text = manifest.read_text(encoding="utf-8")
    start = text.index("[llm]")
    settings = {
        "provider": '"openai"',
        "model": '"scripted-model"',
        "base_url": f'"{server.base_url}"',
        "timeout_seconds": "30.0",
        "max_retries": "0",
        "price_in_per_mtok": "1.0",
        "price_out_per_mtok": "2.0",
        **{name: str(value) for name, value in budgets.items()},
    }
    section = "[llm]\n" + "".join(f"{k} = {v}\n" for k, v in settings.items())
    manifest.write_text(text[:start] + section, encoding="utf-8")
    run_git(["commit", "--quiet", "--no-verify", "-am", "Use the scripted model"], root)


@pytest.fixture
def serve(workspace: Path) -> Iterator[Callable[..., ScriptedLLMServer]]:
    """`serve(fail=False, **budgets)`: a scripted server the workspace's manifest points at."""
    servers: list[ScriptedLLMServer] = []
    diff = ranking_diff(workspace)

    def start(*, fail: bool = False, **budgets: int) -> ScriptedLLMServer:
        server = ScriptedLLMServer(responder=ScriptedModel(diff, fail=fail)).start()
        servers.append(server)
        configure_llm(workspace, server, **budgets)
        return server

    yield start
    for server in servers:
        server.stop()


def status_json(workspace: Path) -> dict[str, Any]:
    from recloop.cli import app

    result = CliRunner().invoke(app, ["status", "--workspace", str(workspace), "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def run(
    workspace: Path, helpers: Any, notes: list[str] | None = None, **settings: Any
) -> RunReport:
    return run_loop(
        workspace,
        RunSettings(**settings),
        evaluator_factory=lambda: helpers.Scripted("no_ship"),
        auto_approver="demo-policy",
        notify=None if notes is None else notes.append,
    )


def test_runs_driven_by_the_llm_reach_offline_account_every_call_and_evolve_playbooks(
    workspace: Path, serve: Callable[..., ScriptedLLMServer], helpers: Any
) -> None:
    server = serve()
    report = run(workspace, helpers, experiments=2, reflect_every=2)

    keys = ["free-form-llm1", "free-form-llm2"]
    assert report.agents == "llm" and report.budget_spent is None
    assert report.started == keys and sorted(report.finished) == keys
    with Ledger.open(workspace) as ledger:
        for key in keys:
            experiment = ledger.find_experiment(key)
            assert experiment is not None
            proposal = ledger.get_proposal(experiment.proposal_id)
            assert proposal.source == BRAINSTORMER
            assert "offline" in {r.stage for r in ledger.stage_runs(experiment)}
            made = ledger.candidates(experiment)[0].payload
            assert (made["agent"], made["files"]) == (DEVELOPER, [RANKING])
            assert experiment.payload["playbooks"] == {BRAINSTORMER: 1, DEVELOPER: 1}
            calls = ledger.llm_calls(experiment=experiment)
            assert [c.agent for c in calls] == [DEVELOPER, DEVELOPER]
            brainstorm = ledger.llm_calls(agent=BRAINSTORMER)
            ids = proposal.payload["llm_calls"]
            assert len(ids) == 1 and ids[0] in {c.id for c in brainstorm}
        calls = ledger.llm_calls()
        assert len(calls) == len(server.requests) == 2 + 4 + 2  # brainstorm, develop, reflect
        assert all(c.tokens_in == TOKENS_IN and c.error is None for c in calls)
        for agent in (BRAINSTORMER, DEVELOPER):
            root, trial = ledger.playbook_versions(agent)
            assert root.accepted is True and (root.n_outcomes, root.outcome_rate) == (2, 1.0)
            assert trial.accepted is None and trial.parent_version == 1
            assert sorted(trial.payload["batch"]) == keys and agent in trial.text
    status = status_json(workspace)
    assert status["llm_usage"][DEVELOPER]["calls"] == 4
    assert status["llm_usage"]["total"]["tokens_in"] == 8 * TOKENS_IN
    assert status["llm_usage"]["total"]["cost_usd"] == pytest.approx(8 * (900 + 200) / 1e6)
    assert {a: (p["version"], p["status"]) for a, p in status["playbooks"].items()} == {
        BRAINSTORMER: (2, "trial"),
        DEVELOPER: (2, "trial"),
    }
    develop_system = next(
        r["messages"][0]["content"]
        for r in server.requests
        if r["messages"][0]["content"].startswith("You are recloop's Develop agent")
    )
    assert DEVELOP_PLAYBOOK in develop_system  # version 1 is the default text
    helpers.check_invariants(workspace)

    # The next run recalls the outcomes and runs the trial versions (the budget ends it early).
    server = serve(max_tokens_per_run=1500)
    report = run(workspace, helpers, experiments=1, reflect_every=2)
    assert report.started == ["free-form-llm3"] and report.budget_spent is not None
    brainstorm, develop = (r["messages"] for r in server.requests)
    assert "Edited for llm-brainstormer" in brainstorm[0]["content"]
    assert "Hypothesis was: Idea 1." in brainstorm[1]["content"]
    assert "Hypothesis was: Idea 2." in brainstorm[1]["content"]
    # what the finished experiments taught, retrieved from their knowledge assets
    assert "Experiment free-form-llm1, family free-form" in brainstorm[1]["content"]
    assert "Edited for llm-developer" in develop[0]["content"]
    with Ledger.open(workspace) as ledger:
        experiment = ledger.find_experiment("free-form-llm3")
        assert experiment is not None
        assert experiment.payload["playbooks"] == {BRAINSTORMER: 2, DEVELOPER: 2}


def test_a_spent_budget_stops_the_run_cleanly_and_a_larger_one_goes_on(
    workspace: Path, serve: Callable[..., ScriptedLLMServer], helpers: Any
) -> None:
    serve(max_tokens_per_run=1500)  # brainstorm (1000), a read (2000), then refused
    notes: list[str] = []
    report = run(workspace, helpers, notes, experiments=3)

    assert report.started == report.finished == ["free-form-llm1"]
    assert report.budget_spent == "tokens per run used 2000 of 1500"
    assert any(n.startswith("LLM budget spent: tokens per run used 2000 of 1500") for n in notes)
    with Ledger.open(workspace) as ledger:
        experiment = ledger.find_experiment("free-form-llm1")
        assert experiment is not None and experiment.state == "closed"
        closing = ledger.history(experiment)[-1].payload["payload"]
        assert (closing["stage"], closing["cause"]) == ("develop", "budget-exhausted")
        assert ledger.candidates(experiment) == []
        assert ledger.forbidden_directions() == []
        assert ledger.playbook_versions(PLAYBOOK_AGENT) == []  # the posterior learned nothing
    store = workspace_store(workspace)
    assert store.list() == [] and store.failures() == []
    helpers.check_invariants(workspace)

    # Per run: the first run's 2000 tokens do not count against the second run's 3500.
    serve(max_tokens_per_run=3500)
    again = run(workspace, helpers, experiments=1)
    assert again.budget_spent is None and again.started == again.finished == ["free-form-llm2"]
    with Ledger.open(workspace) as ledger:
        experiment = ledger.find_experiment("free-form-llm2")
        assert experiment is not None
        assert "offline" in {r.stage for r in ledger.stage_runs(experiment)}
    helpers.check_invariants(workspace)


def test_with_the_model_down_the_catalogue_proposes_and_develops_and_the_idea_is_judged(
    workspace: Path, serve: Callable[..., ScriptedLLMServer], helpers: Any
) -> None:
    server = serve(fail=True)
    notes: list[str] = []
    report = run(workspace, helpers, notes, experiments=1)

    assert report.started == report.finished == ["ease-ranking-t0"]
    assert any(n.startswith("LLM unavailable:") and "the catalogue proposes" in n for n in notes)
    with Ledger.open(workspace) as ledger:
        experiment = ledger.find_experiment("ease-ranking-t0")
        assert experiment is not None
        assert ledger.get_proposal(experiment.proposal_id).source == "catalogue-brainstormer"
        assert experiment.payload["playbooks"] == {}  # no LLM agent acted on it
        (candidate,) = ledger.candidates(experiment)
        assert candidate.payload["agent"] == "catalogue"  # the catalogue developed its own idea
        assert "offline" in {r.stage for r in ledger.stage_runs(experiment)}
        errors = [c.error for c in ledger.llm_calls()]
        assert len(errors) == len(server.requests) == 1 and all(e for e in errors)
        decision = ledger.get_decision(experiment)  # judged on its merits, not on the outage
        assert decision is not None and decision.outcome == "no_ship"
    helpers.check_invariants(workspace)


def test_a_commit_recovered_after_a_crash_keeps_the_agent_that_made_it(
    workspace: Path,
    serve: Callable[..., ScriptedLLMServer],
    helpers: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Killed between the LLM's commit and its ledger record; resumed with the catalogue."""
    server = serve()
    real = Ledger.add_candidate

    def crash(self: Ledger, *args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(Ledger, "add_candidate", real)
        raise KeyboardInterrupt("killed after the commit")

    monkeypatch.setattr(Ledger, "add_candidate", crash)
    with pytest.raises(KeyboardInterrupt):
        run(workspace, helpers, experiments=1)
    requests = len(server.requests)
    report = run(workspace, helpers, experiments=0, agents="catalogue")

    assert report.agents == "catalogue" and report.resumed == ["free-form-llm1"]
    assert len(server.requests) == requests == 3  # nothing asked again
    with Ledger.open(workspace) as ledger:
        experiment = ledger.find_experiment("free-form-llm1")
        assert experiment is not None
        assert ledger.candidates(experiment)[0].payload["agent"] == DEVELOPER
    helpers.check_invariants(workspace)


def test_agents_llm_without_a_configured_llm_is_a_clear_error(workspace: Path) -> None:
    assert NO_LLM in (workspace / MANIFEST_FILE).read_text(encoding="utf-8")
    with pytest.raises(LLMConfigError, match="--agents llm needs a configured LLM"):
        run_loop(workspace, RunSettings(agents="llm"))
    from recloop.cli import app

    result = CliRunner().invoke(app, ["run", "--workspace", str(workspace), "--agents", "llm"])
    assert result.exit_code == 2
    assert "--agents llm needs a configured LLM" in " ".join(result.output.split())
    with Ledger.open(workspace) as ledger:
        assert ledger.experiments() == []


def test_each_experiment_is_developed_with_the_playbook_version_it_was_tagged_with(
    tmp_path: Path,
) -> None:
    with Ledger.open(tmp_path) as ledger:
        assert tagged_playbook(ledger, "anything") == DEVELOP_PLAYBOOK  # nothing recorded yet
        ledger.add_playbook_version(DEVELOPER, "v1 text")
        ledger.score_playbook_version(DEVELOPER, 1, outcome_rate=0.5, n_outcomes=2, accepted=True)
        ledger.add_playbook_version(DEVELOPER, "v2 text", parent_version=1)
        proposal = ledger.add_proposal("p", family="free-form", title="t", level="L3", source="t")
        ledger.create_experiment("on-v2", proposal, payload={"playbooks": {DEVELOPER: 2}})
        ledger.create_experiment("untagged", proposal)
        assert tagged_playbook(ledger, "on-v2") == "v2 text"
        assert tagged_playbook(ledger, "untagged") == "v1 text"  # the newest accepted


def test_a_worker_spec_with_llm_settings_crosses_to_a_spawned_process(tmp_path: Path) -> None:
    settings = LLMSettings(provider="openai", model="m", api_key_env="RECLOOP_TEST_KEY")
    config = resolve_llm(settings, env={"RECLOOP_TEST_KEY": "sk-secret-0123456789"})
    spec = WorkerSpec(tmp_path, None, None, None, config, dt.datetime.now(dt.UTC))
    copy = pickle.loads(pickle.dumps(spec))
    assert copy == spec and copy.llm is not None
    assert copy.llm.api_key.get_secret_value() == "sk-secret-0123456789"
