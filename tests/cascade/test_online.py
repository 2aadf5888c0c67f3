"""The online slot: a promising candidate is recorded as pending, with the online settings."""

from __future__ import annotations

from recloop.cascade import causes
from recloop.cascade.context import CascadeContext
from recloop.cascade.online import OnlineSlot
from recloop.cascade.structural import StructuralStage
from recloop.cascade.submission import Submission


def test_pending_with_the_manifest_s_online_settings(
    example_context: CascadeContext, popularity_off: str
) -> None:
    candidate = Submission(name="pop0", patch=popularity_off)
    assert OnlineSlot().run(candidate, example_context).cause == causes.NOT_MATERIALIZED
    assert StructuralStage().run(candidate, example_context).passed
    verdict = OnlineSlot().run(candidate, example_context)
    assert (verdict.outcome, verdict.cause) == ("pending", causes.PENDING_ONLINE)
    assert verdict.evidence.details["online"]["mode"] == "simulator"
