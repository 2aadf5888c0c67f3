"""The workspace manifest, `recloop.toml` at the root of a team's recommender repository.

It tells recloop how to build the team's recommender (an entry point `package.module:factory`),
what to evaluate it on (dataset, implicit threshold, split), what agents may change (editable
globs) and what they may never touch (protected globs; the manifest, `.recloop/` and `.git/`
always), how to judge it (the metrics contract, see `contract`), the budget of each cascade stage,
the third-party packages its code may import, optional config-level search spaces, and typed
settings for the online stage, the autonomy policy and the LLM, which later parts of recloop read.

Every table rejects unknown keys. `load_manifest` reports every problem at once with its dotted
key, a sentence and the line in the file (see `problems`).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Annotated, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from recloop.recsys.data import DEFAULT_IMPLICIT_THRESHOLD, Interactions
from recloop.recsys.datasets import DATASET_NAMES, load_dataset
from recloop.recsys.logsource import LogSource, read_log
from recloop.recsys.splits import (
    Split,
    SplitKind,
    global_temporal,
    make_split,
    random_holdout,
    temporal_leave_last_n,
)
from recloop.workspace.contract import Inconsistent, MetricsContract
from recloop.workspace.globs import check_glob, matches
from recloop.workspace.problems import ManifestError, Problem, parse_or_raise
from recloop.workspace.search import ChoiceParam, FloatParam, IntParam, SearchSpace

MANIFEST_FILE = "recloop.toml"
RECLOOP_DIR = ".recloop"
ALWAYS_PROTECTED = (MANIFEST_FILE, RECLOOP_DIR, ".git")

Stage = Literal["structural", "semantic", "local", "offline", "online"]
STAGES: tuple[str, ...] = get_args(Stage)
Level = Literal["L1", "L2", "L3", "L4"]

_ENTRY_POINT = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$")
_IDENTIFIER = re.compile(r"^[A-Za-z_]\w*$")
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
# the parameters each split kind takes besides the data and the seed (see recsys.splits)
_SPLIT_FUNCTIONS: dict[str, Callable[..., Split]] = {
    "temporal-loo": temporal_leave_last_n,
    "global-temporal": global_temporal,
    "random": random_holdout,
}


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _relative_path(value: str) -> str:
    """A POSIX path inside the workspace (no absolute path, no `..`)."""
    path = PurePosixPath(value)
    if not value or path.is_absolute() or ".." in path.parts or "\\" in value:
        raise ValueError(f"{value!r} must be a relative path inside the workspace, with '/'")
    return path.as_posix()


class RecommenderSection(_Section):
    """How to build the team's recommender and what its code may import."""

    entry_point: str  # "package.module:factory", factory() -> object with fit / recommend
    source_dir: str = "."  # the folder put on sys.path, relative to the workspace root
    dependencies: list[str] = Field(default_factory=list)  # top-level import names

    @field_validator("entry_point")
    @classmethod
    def _entry_point_form(cls, value: str) -> str:
        if not _ENTRY_POINT.match(value):
            raise ValueError(
                f"entry point {value!r} must read 'package.module:factory' "
                "(a dotted module path, a colon, a callable's name)"
            )
        return value

    _source_dir = field_validator("source_dir")(_relative_path)

    @field_validator("dependencies")
    @classmethod
    def _import_names(cls, names: list[str]) -> list[str]:
        for name in names:
            if not _IDENTIFIER.match(name):
                raise ValueError(
                    f"dependency {name!r} is not a top-level import name (e.g. 'numpy', "
                    "'sklearn'); name the package its code imports, not a submodule or version"
                )
        if len(set(names)) != len(names):
            raise ValueError("a dependency is listed twice")
        return names

    @property
    def module(self) -> str:
        return self.entry_point.split(":")[0]

    @property
    def factory(self) -> str:
        return self.entry_point.split(":")[1]

    def module_files(self) -> tuple[str, str]:
        """The two files the entry point module may live in: `a/b.py` or `a/b/__init__.py`."""
        base = PurePosixPath(self.source_dir, *self.module.split("."))
        return base.with_suffix(".py").as_posix(), (base / "__init__.py").as_posix()


class DataSection(_Section):
    """What the recommender is evaluated on: a recloop dataset, or the team's own log.

    `source` takes the same settings as `recloop eval --data PATH` (path relative to the
    workspace root, columns, items, duplicates).
    """

    dataset: str | None = None
    source: LogSource | None = None
    implicit_threshold: float = DEFAULT_IMPLICIT_THRESHOLD
    seed: int = 0  # seed of the synthetic worlds; real datasets ignore it

    @field_validator("dataset")
    @classmethod
    def _known_dataset(cls, name: str | None) -> str | None:
        if name is not None and name not in DATASET_NAMES:
            raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASET_NAMES)}")
        return name

    @model_validator(mode="after")
    def _one_source(self) -> DataSection:
        if (self.dataset is None) == (self.source is None):
            raise ValueError("give exactly one of data.dataset (a recloop dataset) or data.source")
        return self

    def load(self, workspace: Path, root: Path | None = None) -> Interactions:
        """The raw data: a named dataset from the data directory, or the log under `workspace`."""
        if self.source is not None:
            source = self.source
            items = None if source.items is None else workspace / source.items
            located = source.model_copy(update={"path": workspace / source.path, "items": items})
            return read_log(located).interactions
        assert self.dataset is not None
        return load_dataset(self.dataset, root, seed=self.seed)


class SplitSection(_Section):
    """How the data is split into train and held-out test (see `recloop.recsys.splits`)."""

    kind: SplitKind
    seed: int = 0
    params: dict[str, int | float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _params_of_kind(self) -> SplitSection:
        accepted = set(inspect.signature(_SPLIT_FUNCTIONS[self.kind]).parameters) - {
            "data",
            "seed",
        }
        unknown = sorted(set(self.params) - accepted)
        if unknown:
            raise Inconsistent(
                [
                    (
                        ("params", name),
                        f"split {self.kind!r} takes no parameter {name!r}"
                        + (" (set split.seed instead)" if name == "seed" else "")
                        + f"; it takes {', '.join(sorted(accepted))}",
                    )
                    for name in unknown
                ]
            )
        return self


Glob = Annotated[str, AfterValidator(check_glob)]


class PathsSection(_Section):
    """Globs (see `globs`) of the files agents may change and of those they may never touch."""

    editable: list[Glob] = Field(min_length=1)
    protected: list[Glob] = Field(default_factory=list)

    @property
    def all_protected(self) -> tuple[str, ...]:
        """The protected globs plus those always protected (manifest, `.recloop/`, `.git/`)."""
        return (*self.protected, *ALWAYS_PROTECTED)

    def is_protected(self, path: str) -> bool:
        """Whether a workspace-relative POSIX path may never be changed."""
        return matches(path, self.all_protected)

    def is_editable(self, path: str) -> bool:
        """Whether agents may change a workspace-relative POSIX path (editable, not protected)."""
        return matches(path, self.editable) and not self.is_protected(path)


class StageBudget(_Section):
    """Resources one cascade stage may spend on a candidate."""

    wall_seconds: float = Field(gt=0)
    memory_mb: int = Field(gt=0)
    cpu_seconds: float | None = Field(default=None, gt=0)  # defaults to the wall time


class Budgets(_Section):
    """A budget per cascade stage; a stage not listed keeps its default."""

    structural: StageBudget = StageBudget(wall_seconds=60, memory_mb=1024)
    semantic: StageBudget = StageBudget(wall_seconds=300, memory_mb=2048)
    local: StageBudget = StageBudget(wall_seconds=300, memory_mb=4096)
    offline: StageBudget = StageBudget(wall_seconds=1800, memory_mb=8192)
    online: StageBudget = StageBudget(wall_seconds=3600, memory_mb=8192)

    def for_stage(self, stage: Stage) -> StageBudget:
        budget: StageBudget = getattr(self, stage)
        return budget


class OnlineSettings(_Section):
    """The online stage (filled in by the simulator and A/B issues)."""

    mode: Literal["simulator", "tables"] = "simulator"
    traffic_fraction: float = Field(
        default=0.1, gt=0.0, le=0.5
    )  # share of users in the treatment arm
    duration_days: int = Field(default=14, ge=1)
    alpha: float = Field(default=0.05, gt=0.0, lt=1.0)
    seed: int = 0
    # the smallest relative lasting lift of the online primary worth shipping: a test whose
    # lift can no longer reach it stops as futile (`recloop.stats.futility`); 0 turns that off
    min_effect: float = Field(default=0.05, ge=0.0)


class AutonomyPolicy(_Section):
    """Which transitions need a person: going online from a proposal level up, and launches."""

    approve_online_from: Level | Literal["never"] = "L3"
    approve_launch: bool = True


class LLMSettings(_Section):
    """The language model agents use; `provider = "none"` runs the non-LLM agents only.

    `openai` is any OpenAI-compatible endpoint (vLLM, Ollama, llama.cpp's server, hosted APIs)
    at `base_url`. Prices are USD per million tokens, for the ledger's cost accounting.
    `recloop.agents.llm` resolves these settings (environment overrides) and uses them.
    """

    provider: Literal["none", "openai", "anthropic"] = "none"
    model: str | None = None
    base_url: str | None = None
    api_key_env: str | None = None  # the NAME of the variable holding the key, never the key
    timeout_seconds: float = Field(default=60.0, gt=0.0)
    max_retries: int = Field(default=2, ge=0)  # transport retries, with backoff
    max_output_attempts: int = Field(default=3, ge=1)  # re-asks when output does not validate
    max_output_tokens: int | None = Field(default=None, ge=1)  # per reply
    price_in_per_mtok: float = Field(default=0.0, ge=0.0)
    price_out_per_mtok: float = Field(default=0.0, ge=0.0)
    max_tokens_per_experiment: int = Field(default=50_000, ge=1)
    max_tokens_per_run: int | None = Field(default=None, ge=1)
    max_cost_usd: float | None = Field(default=None, gt=0.0)  # per run
    temperature: float = Field(default=0.2, ge=0.0, le=2.0)

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_NAME.match(value):
            raise ValueError(
                "api_key_env names an environment variable (like 'ANTHROPIC_API_KEY'); "
                "never put a key itself in the manifest"
            )
        return value


class Manifest(_Section):
    """A workspace's `recloop.toml`, validated."""

    version: Literal[1] = 1
    main_branch: str = "main"
    recommender: RecommenderSection
    data: DataSection
    split: SplitSection
    paths: PathsSection
    metrics: MetricsContract
    budgets: Budgets = Field(default_factory=Budgets)
    search: SearchSpace | None = None
    online: OnlineSettings = Field(default_factory=OnlineSettings)
    autonomy: AutonomyPolicy = Field(default_factory=AutonomyPolicy)
    llm: LLMSettings = Field(default_factory=LLMSettings)

    @property
    def k(self) -> int:
        """The list length recloop evaluates at (from the metrics contract)."""
        return self.metrics.k

    def load_data(self, workspace: Path = Path("."), root: Path | None = None) -> Interactions:
        """The manifest's data, raw; a file source is resolved against the workspace root."""
        return self.data.load(workspace, root)

    def build_split(self, data: Interactions) -> Split:
        """Binarise at the implicit threshold and split as the manifest says."""
        positives = data.implicit(self.data.implicit_threshold)
        return make_split(positives, self.split.kind, seed=self.split.seed, **self.split.params)

    @model_validator(mode="after")
    def _search_config_editable(self) -> Manifest:
        if self.search is not None and not self.paths.is_editable(self.search.config):
            raise Inconsistent(
                [
                    (
                        ("search", "config"),
                        f"{self.search.config!r} is not editable (paths.editable does not match "
                        "it, or it is protected), so no search could change it",
                    )
                ]
            )
        return self


def parse_manifest(text: str, source: str | Path = MANIFEST_FILE) -> Manifest:
    """Validate manifest text (e.g. read from a commit); `ManifestError` lists every problem."""
    return parse_or_raise(Manifest, text, source)


def load_manifest(workspace_dir: str | Path) -> Manifest:
    """Read and validate `recloop.toml` at the root of a workspace."""
    path = Path(workspace_dir) / MANIFEST_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ManifestError(
            path, [Problem("", f"no {MANIFEST_FILE} in {workspace_dir} (see `recloop init`)")]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(path, [Problem("", f"cannot read the manifest: {exc}")]) from exc
    return parse_manifest(text, path)


__all__ = [
    "ALWAYS_PROTECTED",
    "MANIFEST_FILE",
    "RECLOOP_DIR",
    "STAGES",
    "AutonomyPolicy",
    "Budgets",
    "ChoiceParam",
    "DataSection",
    "FloatParam",
    "IntParam",
    "LLMSettings",
    "Manifest",
    "ManifestError",
    "OnlineSettings",
    "PathsSection",
    "Problem",
    "RecommenderSection",
    "SearchSpace",
    "SplitSection",
    "StageBudget",
    "load_manifest",
    "parse_manifest",
]
