"""The verification cascade: cheap-to-expensive stages that judge a candidate change.

    submission (name + patch against the champion)
      -> structural   read the change: policy, size, syntax, imports, reach, lint; commit it
      -> semantic     interface (AST), contract probe on a sample, the team's tests (sandboxed)
      -> local        fit + recommend at scale within budget; costs against the champion
      -> offline      trusted evaluator on the full split; paired intervals vs the champion
      -> online       slot: promising candidates wait as `pending`

Every stage implements `Stage` (`stage`): `run(submission, context) -> Verdict`. A `Verdict`
(`verdict`) carries an outcome, a cause code (`causes`, all codes and their hierarchy), a
sentence, evidence and its cost; `run_cascade` (`runner`) runs the stages in order and stops at
the first rejection. `CascadeContext` (`context`) holds the champion, its manifest and data and
recloop's `CascadeSettings`; the champion's measurements are cached per commit (`champion`).
`corpus` and `bench` are the planted-fault corpus and `recloop bench cascade` (`commands`).
"""

from recloop.cascade import causes
from recloop.cascade.context import CascadeContext, ChampionFailedError
from recloop.cascade.local import LocalStage
from recloop.cascade.offline import OfflineStage
from recloop.cascade.online import OnlineSlot
from recloop.cascade.runner import default_stages, run_cascade, run_stage
from recloop.cascade.semantic import SemanticStage
from recloop.cascade.settings import CascadeSettings
from recloop.cascade.stage import Stage
from recloop.cascade.structural import StructuralStage
from recloop.cascade.submission import Submission
from recloop.cascade.verdict import (
    CascadeResult,
    Cost,
    Evidence,
    Location,
    MetricRow,
    Outcome,
    Rejection,
    Verdict,
)

__all__ = [
    "CascadeContext",
    "CascadeResult",
    "CascadeSettings",
    "ChampionFailedError",
    "Cost",
    "Evidence",
    "LocalStage",
    "Location",
    "MetricRow",
    "OfflineStage",
    "OnlineSlot",
    "Outcome",
    "Rejection",
    "SemanticStage",
    "Stage",
    "StructuralStage",
    "Submission",
    "Verdict",
    "causes",
    "default_stages",
    "run_cascade",
    "run_stage",
]
