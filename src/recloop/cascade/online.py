"""Stage 5, online impact: the slot where promising candidates wait for the online evaluation.

The online evaluation (the simulator or a real experiment's tables, `manifest.online`) is a later
part of recloop. Until it is wired in, this slot records a promising candidate as `pending`
with the settings the online test will use, so the loop can pick it up from the ledger.
"""

from __future__ import annotations

from recloop.cascade import causes
from recloop.cascade.context import CascadeContext
from recloop.cascade.stage import StageClock
from recloop.cascade.submission import Submission
from recloop.cascade.verdict import Evidence, Verdict
from recloop.workspace.manifest import Stage as StageName


class OnlineSlot:
    """Stage 5 (see the module docstring)."""

    name: StageName = "online"

    def run(self, candidate: Submission, context: CascadeContext) -> Verdict:
        clock = StageClock(self.name)
        worktree = context.worktree(candidate.name)
        if worktree is None:
            return clock.error(causes.NOT_MATERIALIZED, f"No worktree for {candidate.name!r}.")
        online = context.manifest.online
        return clock.verdict(
            "pending",
            causes.PENDING_ONLINE,
            f"Waiting for the online evaluation ({online.mode}, {online.traffic_fraction:.0%} of "
            f"traffic for {online.duration_days} days).",
            Evidence(details={"online": online.model_dump(), "worktree": str(worktree)}),
        )
