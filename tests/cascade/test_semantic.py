"""The semantic stage end to end on the corpus workspace (interface, probe, the team's tests)."""

from __future__ import annotations

from recloop.cascade import causes
from recloop.cascade.context import CascadeContext
from recloop.cascade.semantic import SemanticStage
from recloop.cascade.structural import StructuralStage
from recloop.cascade.submission import Submission


def test_a_sound_candidate_passes_every_check(
    corpus_context: CascadeContext, popularity_off: str
) -> None:
    candidate = Submission(name="semantic-ok", patch=popularity_off)
    assert SemanticStage().run(candidate, corpus_context).cause == causes.NOT_MATERIALIZED
    try:
        assert StructuralStage().run(candidate, corpus_context).passed
        verdict = SemanticStage().run(candidate, corpus_context)
    finally:
        corpus_context.candidates.remove("semantic-ok")
    assert (verdict.outcome, verdict.cause) == ("pass", causes.PASSED), verdict.sentence
    details = verdict.evidence.details
    assert details["contract"]["phase"] == "done"
    assert details["contract"]["cold_start_users"] == corpus_context.settings.cold_start_users
    assert details["tests"]["exit_code"] == 0
    assert verdict.cost.wall_seconds > 0 and verdict.cost.cpu_seconds > 0
