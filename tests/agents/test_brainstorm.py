"""The non-LLM brainstormer: applicable families, Thompson order, Optuna points, forbidden
directions skipped, risk levels by rule, and a memory it resumes from."""

from collections import Counter
from datetime import UTC, datetime

import pytest

from recloop.agents.brainstorm import (
    MAX_FORBIDDEN_ASKS,
    BrainstormContext,
    Brainstormer,
    CatalogueBrainstormer,
)
from recloop.agents.memory import AgentMemory
from recloop.agents.outcome import Outcome
from recloop.agents.space import check_values
from recloop.agents.transforms import default_catalogue
from recloop.agents.transforms.config import CONFIG_FAMILY
from recloop.knowledge.forbidden import forbid
from recloop.knowledge.pattern import NumericRange, Pattern
from recloop.knowledge.proposal import Proposal
from recloop.knowledge.store import MemoryStore
from recloop.workspace.git import run_git

NOW = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)  # before the context's time
NOW_REASON = "a person said so"
RISK = {
    CONFIG_FAMILY: "L1",
    "ease-ranking": "L4",
    "candidate-neighbours": "L4",
    "time-decay": "L3",
    "popularity-debias": "L3",
    "diversity-rerank": "L4",
    "cold-start-fallback": "L3",
}


def test_it_is_a_brainstormer_and_proposes_every_family_once_before_repeating(example) -> None:
    brainstormer = CatalogueBrainstormer(seed=0)
    assert isinstance(brainstormer, Brainstormer)
    context = example.context()
    ranked = brainstormer.rank(context, 9)
    families = [r.proposal.family for r in ranked]
    assert sorted(families[:7]) == sorted(RISK) and len(set(families[7:])) == 2
    draws = [r.draw for r in ranked[:7]]
    assert draws == sorted(draws, reverse=True)
    catalogue = default_catalogue()
    for entry in ranked:
        proposal = entry.proposal
        transformation = catalogue.get(proposal.family)
        assert transformation is not None
        assert check_values(transformation.space(context.view), proposal.parameters) == []
        assert proposal.risk == RISK[proposal.family]
        assert (
            proposal.files
            and proposal.hypothesis
            and "P(passes offline)" in (proposal.expected_effect)
        )
    assert brainstormer.skipped == []


def test_the_first_point_of_a_code_family_is_its_default(example) -> None:
    proposals = CatalogueBrainstormer(seed=0).propose(example.context(), 7)
    by_family = {p.family: p for p in proposals}
    assert by_family["ease-ranking"].parameters == {"l2": 250.0}
    assert by_family["ease-ranking"].files == ("movierec/candidates.py", "movierec/pipeline.py")


def test_thompson_sampling_prefers_the_family_with_the_better_record(example) -> None:
    learner = CatalogueBrainstormer(seed=0)
    good = Proposal(family="time-decay", hypothesis="h", parameters={"half_life": 2.0})
    bad = Proposal(family="cold-start-fallback", hypothesis="h", parameters={"min_history": 5})
    for _ in range(8):
        learner.learn(good, Outcome.measured(0.004, passed=True))
        learner.learn(bad, Outcome.measured(-0.001, passed=False))
    context = example.context()
    firsts = Counter(
        CatalogueBrainstormer(memory=learner.memory, seed=seed).rank(context, 1)[0].proposal.family
        for seed in range(60)
    )
    assert firsts["time-decay"] > 15  # 9/10 against the untried families' 1/2
    assert firsts["cold-start-fallback"] == 0  # 1/10


def test_learning_feeds_the_posterior_and_the_familys_search(example) -> None:
    brainstormer = CatalogueBrainstormer(seed=0)
    proposal = brainstormer.propose(example.context(), 1)[0]
    brainstormer.learn(proposal, Outcome.measured(0.003, passed=True, feasible=False))
    memory = brainstormer.memory
    assert memory.posterior.version == 1 and memory.posterior.mean(proposal.family) == 2 / 3
    trial = memory.searches[proposal.family].trials[-1]
    assert (trial.status, trial.value, trial.feasible) == ("complete", 0.003, False)
    free = Proposal(family="free-form", hypothesis="an LLM's idea", parameters={"x": [1, 2]})
    brainstormer.learn(free, Outcome.failed("structural", "syntax-error"))
    assert brainstormer.memory.posterior.record("free-form").failures == 1.0
    assert "free-form" not in brainstormer.memory.searches


def test_a_withdrawn_proposal_frees_its_pending_trial(example) -> None:
    brainstormer = CatalogueBrainstormer(seed=0)
    proposal = brainstormer.propose(example.context(), 1)[0]
    brainstormer.withdraw(proposal)
    trial = brainstormer.memory.searches[proposal.family].trials[-1]
    assert (trial.status, trial.failure) == ("failed", "withdrawn")
    assert brainstormer.memory.posterior.version == 0


def test_a_brainstormer_rebuilt_from_its_memory_proposes_the_same(example) -> None:
    first = CatalogueBrainstormer(seed=7)
    context = example.context()
    for proposal in first.propose(context, 3):
        first.learn(proposal, Outcome.measured(0.001, passed=False))
    saved = AgentMemory.model_validate_json(first.memory.model_dump_json())
    again = CatalogueBrainstormer(memory=saved, seed=7).rank(context, 4)
    assert again == CatalogueBrainstormer(memory=first.memory, seed=7).rank(context, 4)


def test_a_family_wide_forbidden_direction_skips_the_family(example) -> None:
    direction = forbid(
        Pattern(family="ease-ranking"), origin="person", by="ana", reason=NOW_REASON, now=NOW
    )
    brainstormer = CatalogueBrainstormer(seed=0)
    proposals = brainstormer.propose(example.context((direction,)), 10)
    assert "ease-ranking" not in {p.family for p in proposals}
    assert [s.family for s in brainstormer.skipped] == ["ease-ranking"]
    assert direction.id in brainstormer.skipped[0].reason
    assert "ease-ranking" not in brainstormer.memory.searches  # no trial was spent on it


def test_a_forbidden_region_is_re_asked_and_a_fully_forbidden_space_skipped(example) -> None:
    middle = forbid(
        Pattern(family="popularity-debias", params={"beta": NumericRange(low=0.4, high=0.6)}),
        origin="person",
        by="ana",
        reason=NOW_REASON,
        now=NOW,
    )
    brainstormer = CatalogueBrainstormer(seed=0)
    proposals = brainstormer.propose(example.context((middle,)), 7)
    debias = next(p for p in proposals if p.family == "popularity-debias")
    assert not 0.4 <= debias.parameters["beta"] <= 0.6
    default_trial = brainstormer.memory.searches["popularity-debias"].trials[0]
    assert default_trial.params == {"beta": 0.5}
    assert default_trial.failure == f"forbidden: {middle.id}"

    everything = forbid(
        Pattern(family="time-decay", params={"half_life": NumericRange(low=0.0, high=1e3)}),
        origin="person",
        by="ana",
        reason=NOW_REASON,
        now=NOW,
    )
    other = CatalogueBrainstormer(seed=0)
    families = {p.family for p in other.propose(example.context((everything,)), 7)}
    assert "time-decay" not in families
    assert len(other.memory.searches["time-decay"].trials) == MAX_FORBIDDEN_ASKS
    assert [s.family for s in other.skipped] == ["time-decay"]


def test_once_ease_is_the_champion_it_is_proposed_as_a_parameter_tweak(example) -> None:
    _, result = example.develop("ease-ranking", {"l2": 80.0}, "ease")
    assert result.ok
    example.launch("ease")
    brainstormer = CatalogueBrainstormer(seed=0)
    context = example.context()
    ease = next(p for p in brainstormer.propose(context, 7) if p.family == "ease-ranking")
    assert ease.risk == "L1" and ease.files == ("movierec/candidates.py",)
    baseline = brainstormer.memory.searches["ease-ranking"].trials[0]
    assert baseline.source == "baseline" and baseline.params == {"l2": 80.0}
    assert baseline.champion == context.champion.commit
    # the item-similarity swap still applies on top of EASE: it replaces the generator again
    similarity = CatalogueBrainstormer(seed=0).propose(context, 7)
    assert "candidate-neighbours" in {p.family for p in similarity}


def test_on_a_workspace_without_the_examples_code_only_config_changes_remain(example) -> None:
    for path in (example.root / "movierec").glob("*.py"):
        path.write_text('"""Replaced."""\n')
    run_git(["commit", "-qam", "a different recommender"], example.root)
    brainstormer = CatalogueBrainstormer(seed=0)
    proposals = brainstormer.propose(example.context(), 5)
    assert {p.family for p in proposals} == {CONFIG_FAMILY}
    assert len(proposals) == 5 and len({str(p.parameters) for p in proposals}) == 5
    reasons = {s.family: s.reason for s in brainstormer.skipped}
    assert set(reasons) == set(RISK) - {CONFIG_FAMILY}
    assert reasons["ease-ranking"] == "CooccurrenceIndex is defined nowhere"


def test_the_context_of_a_workspace_reads_its_champion_and_knowledge_store(example) -> None:
    direction = forbid(
        Pattern(family="ease-ranking"), origin="person", by="ana", reason=NOW_REASON, now=NOW
    )
    store = MemoryStore()
    store.add(direction)
    context = BrainstormContext.of(example.root, NOW, store)
    assert context.champion == example.context().champion
    assert context.directions == (direction,) and context.failures == ()
    assert context.view.locate("Recommender") == "movierec/pipeline.py"
    assert BrainstormContext.of(example.root, NOW).directions == ()


@pytest.mark.parametrize("n", [0, 1])
def test_n_bounds_the_number_of_proposals(example, n: int) -> None:
    assert len(CatalogueBrainstormer().propose(example.context(), n)) == n
