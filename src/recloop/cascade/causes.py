"""Every cause code a cascade verdict can carry, in one place (stable, machine-readable).

A verdict's `cause` says why a stage passed, rejected a candidate, or could not judge it. Codes
are kebab-case strings; the ledger, failure records and forbidden directions key on them, so a
code is never renamed, only added. The hierarchy, by stage and outcome:

    structural (reject)                      the change itself, read without running it
    ├── patch refused                        `recloop.workspace.errors` codes, kept verbatim:
    │     absolute-path, path-traversal, invalid-path, git-internal, outside-editable,
    │     protected-path, protected-delete, protected-rename, symlink, unsupported-mode,
    │     binary, file-too-large, empty-patch, malformed-patch, does-not-apply
    ├── diff-too-large                       more changed lines or files than allowed
    ├── syntax-error                         a changed Python file does not parse (file:line)
    ├── imports
    │   ├── harness-import                   imports recloop itself (the harness that judges it)
    │   ├── denied-import                    a standard-library module on the denylist
    │   └── undeclared-import                a package outside recommender.dependencies
    ├── reaching out
    │   ├── path-outside-worktree            an absolute or `..` path, `__file__` climbed too far
    │   ├── environment-read                 os.environ / os.getenv
    │   ├── dynamic-code                     eval / exec / compile / __import__
    │   ├── process-control                  os.system / os.popen / exec / spawn / fork / kill
    │   ├── frame-access                     sys._getframe, frame attributes, gc referrers
    │   ├── monkeypatch                      assigns into an imported module (or sys.modules)
    │   └── file-write                       writes, creates or deletes files
    └── lint
        ├── undefined-name                   ruff F821/F822/F823
        └── lint-error                       any other new ruff F or E9 finding
    semantic (reject)                        the code run on a small sample, in the sandbox
    ├── interface-changed                    the entry point no longer builds fit / recommend
    ├── contract
    │   ├── contract-crash                   raised while importing, building, fitting, ranking
    │   ├── cold-start-crash                 raised for users without interactions
    │   ├── bad-shape                        not a users x k integer array
    │   ├── invalid-ids                      an item id outside the catalogue
    │   ├── duplicate-items                  the same item twice in one list
    │   ├── seen-items                       an item from the user's training history
    │   ├── nan-scores                       a numpy operation produced NaN (invalid value)
    │   ├── non-deterministic                two fits on the same data gave different lists
    │   ├── contract-timeout                 the sample run exceeded the stage's budget
    │   └── contract-memory                  the sample run exceeded the memory limit
    └── tests
        ├── tests-failed                     the workspace's own test suite has failures
        ├── tests-error                      it could not run (collection error, crash)
        └── tests-timeout                    it exceeded the stage's budget
    local (reject)                           fit and recommend at scale, measured
    ├── local-timeout, local-memory, local-crash, local-bad-output
    ├── cost-guardrail                       a contract guardrail on latency / fit / memory
    └── slowdown                             slower than the champion by the configured factor
    offline (reject)                         the trusted evaluator on the held-out split
    ├── offline-timeout, offline-memory, offline-crash, offline-bad-output
    ├── primary-worse                        the primary metric is significantly worse
    └── guardrail-violated                   a ranking guardrail is past its bound
    passes
    ├── passed                               a stage found nothing wrong
    ├── promising                            offline: the interval allows the minimum effect
    ├── not-promising                        offline: it rules the minimum effect out; stop
    └── pending-online                       online slot: waiting for the online evaluation
    errors (recloop could not judge; never held against the candidate)
    ├── harness-error                        recloop's own code or git failed
    ├── champion-failed                      the champion itself could not be measured
    └── not-materialized                     a later stage found no worktree for the candidate
"""

from __future__ import annotations

from typing import Final

from recloop.workspace.errors import CAUSES as PATCH_CAUSES

# structural
DIFF_TOO_LARGE: Final = "diff-too-large"
SYNTAX_ERROR: Final = "syntax-error"
HARNESS_IMPORT: Final = "harness-import"
DENIED_IMPORT: Final = "denied-import"
UNDECLARED_IMPORT: Final = "undeclared-import"
PATH_OUTSIDE_WORKTREE: Final = "path-outside-worktree"
ENVIRONMENT_READ: Final = "environment-read"
DYNAMIC_CODE: Final = "dynamic-code"
PROCESS_CONTROL: Final = "process-control"
FRAME_ACCESS: Final = "frame-access"
MONKEYPATCH: Final = "monkeypatch"
FILE_WRITE: Final = "file-write"
UNDEFINED_NAME: Final = "undefined-name"
LINT_ERROR: Final = "lint-error"

# semantic
INTERFACE_CHANGED: Final = "interface-changed"
CONTRACT_CRASH: Final = "contract-crash"
COLD_START_CRASH: Final = "cold-start-crash"
BAD_SHAPE: Final = "bad-shape"
INVALID_IDS: Final = "invalid-ids"
DUPLICATE_ITEMS: Final = "duplicate-items"
SEEN_ITEMS: Final = "seen-items"
NAN_SCORES: Final = "nan-scores"
NON_DETERMINISTIC: Final = "non-deterministic"
CONTRACT_TIMEOUT: Final = "contract-timeout"
CONTRACT_MEMORY: Final = "contract-memory"
TESTS_FAILED: Final = "tests-failed"
TESTS_ERROR: Final = "tests-error"
TESTS_TIMEOUT: Final = "tests-timeout"

# local
LOCAL_TIMEOUT: Final = "local-timeout"
LOCAL_MEMORY: Final = "local-memory"
LOCAL_CRASH: Final = "local-crash"
LOCAL_BAD_OUTPUT: Final = "local-bad-output"
COST_GUARDRAIL: Final = "cost-guardrail"
SLOWDOWN: Final = "slowdown"

# offline
OFFLINE_TIMEOUT: Final = "offline-timeout"
OFFLINE_MEMORY: Final = "offline-memory"
OFFLINE_CRASH: Final = "offline-crash"
OFFLINE_BAD_OUTPUT: Final = "offline-bad-output"
PRIMARY_WORSE: Final = "primary-worse"
GUARDRAIL_VIOLATED: Final = "guardrail-violated"

# passes
PASSED: Final = "passed"
PROMISING: Final = "promising"
NOT_PROMISING: Final = "not-promising"
PENDING_ONLINE: Final = "pending-online"

# errors
HARNESS_ERROR: Final = "harness-error"
CHAMPION_FAILED: Final = "champion-failed"
NOT_MATERIALIZED: Final = "not-materialized"

STRUCTURAL_CAUSES: Final[tuple[str, ...]] = (
    *PATCH_CAUSES,
    DIFF_TOO_LARGE,
    SYNTAX_ERROR,
    HARNESS_IMPORT,
    DENIED_IMPORT,
    UNDECLARED_IMPORT,
    PATH_OUTSIDE_WORKTREE,
    ENVIRONMENT_READ,
    DYNAMIC_CODE,
    PROCESS_CONTROL,
    FRAME_ACCESS,
    MONKEYPATCH,
    FILE_WRITE,
    UNDEFINED_NAME,
    LINT_ERROR,
)
SEMANTIC_CAUSES: Final[tuple[str, ...]] = (
    INTERFACE_CHANGED,
    CONTRACT_CRASH,
    COLD_START_CRASH,
    BAD_SHAPE,
    INVALID_IDS,
    DUPLICATE_ITEMS,
    SEEN_ITEMS,
    NAN_SCORES,
    NON_DETERMINISTIC,
    CONTRACT_TIMEOUT,
    CONTRACT_MEMORY,
    TESTS_FAILED,
    TESTS_ERROR,
    TESTS_TIMEOUT,
)
LOCAL_CAUSES: Final[tuple[str, ...]] = (
    LOCAL_TIMEOUT,
    LOCAL_MEMORY,
    LOCAL_CRASH,
    LOCAL_BAD_OUTPUT,
    COST_GUARDRAIL,
    SLOWDOWN,
)
OFFLINE_CAUSES: Final[tuple[str, ...]] = (
    OFFLINE_TIMEOUT,
    OFFLINE_MEMORY,
    OFFLINE_CRASH,
    OFFLINE_BAD_OUTPUT,
    PRIMARY_WORSE,
    GUARDRAIL_VIOLATED,
)
REJECT_CAUSES: Final[dict[str, tuple[str, ...]]] = {
    "structural": STRUCTURAL_CAUSES,
    "semantic": SEMANTIC_CAUSES,
    "local": LOCAL_CAUSES,
    "offline": OFFLINE_CAUSES,
    "online": (),
}
PASS_CAUSES: Final[tuple[str, ...]] = (PASSED, PROMISING, NOT_PROMISING, PENDING_ONLINE)
ERROR_CAUSES: Final[tuple[str, ...]] = (HARNESS_ERROR, CHAMPION_FAILED, NOT_MATERIALIZED)
ALL_CAUSES: Final[frozenset[str]] = frozenset(
    [*PASS_CAUSES, *ERROR_CAUSES, *(c for causes in REJECT_CAUSES.values() for c in causes)]
)


def stage_of(cause: str) -> str | None:
    """The stage that rejects with `cause` (None for pass and error codes)."""
    for stage, causes in REJECT_CAUSES.items():
        if cause in causes:
            return stage
    return None
