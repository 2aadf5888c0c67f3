"""Knowledge: what recloop remembers between experiments, failures included.

- `proposal`: `Proposal`, the idea a brainstorm agent emits (family, parameters, hypothesis,
  files, risk level).
- `failures`: `FailureRecord`, one cascade rejection kept as memory; `signature` and `symbols`:
  the normalised signature of a change (family, files, touched symbols, bucketed parameters).
- `pattern`, `forbidden`: forbidden directions (pattern, scope, expiry, evidence, origin, audit
  history) and `check_proposal`, the cheapest rejection, before any code is written.
- `promotion`: the rule that turns repeated failures into forbidden directions.
- `store`: the persistence port (`KnowledgeStore`) with in-memory and JSON-file stores;
  `ledger_store`: the ledger-backed store every workspace uses (`workspace_store`).
- `champion`: the champion commit and generation that scopes and expiries are read against.
- `commands`: `recloop forbidden list|show|add|remove`.
"""

from recloop.knowledge.champion import Champion, workspace_champion
from recloop.knowledge.failures import FailureRecord, Verdict
from recloop.knowledge.forbidden import (
    AuditEntry,
    Expiry,
    ForbiddenDirection,
    ForbiddenMatch,
    Scope,
    check_change,
    check_proposal,
    forbid,
    proposal_matches,
)
from recloop.knowledge.ledger_store import LedgerStore, workspace_store
from recloop.knowledge.pattern import NumericRange, Pattern, ValueSet, condition_for
from recloop.knowledge.promotion import PromotionConfig, promote, record_failure
from recloop.knowledge.proposal import FAMILIES, Family, Proposal
from recloop.knowledge.signature import Signature, bucket_label, change_signature
from recloop.knowledge.store import (
    CorruptStoreError,
    JsonFileStore,
    KnowledgeStore,
    MemoryStore,
    StoreError,
    UnknownIdError,
)

__all__ = [
    "FAMILIES",
    "AuditEntry",
    "Champion",
    "CorruptStoreError",
    "Expiry",
    "FailureRecord",
    "Family",
    "ForbiddenDirection",
    "ForbiddenMatch",
    "JsonFileStore",
    "KnowledgeStore",
    "LedgerStore",
    "MemoryStore",
    "NumericRange",
    "Pattern",
    "PromotionConfig",
    "Proposal",
    "Scope",
    "Signature",
    "StoreError",
    "UnknownIdError",
    "ValueSet",
    "Verdict",
    "bucket_label",
    "change_signature",
    "check_change",
    "check_proposal",
    "condition_for",
    "forbid",
    "promote",
    "proposal_matches",
    "record_failure",
    "workspace_champion",
    "workspace_store",
]
