"""Workspaces: a team's recommender repository that recloop improves.

- `manifest`: `recloop.toml`, what to build, evaluate, change and protect, and how to judge;
  `contract`: its metrics contract; `search`: its config search spaces; `globs`: its path
  patterns; `problems`: errors located by key and line.
- `repomap`: modules, classes, functions and imports from the AST, for agents and `recloop map`.
- `example`: the example workspaces `recloop init` creates (templates under `templates/`).
- `check`: `recloop check`, whether a folder is a usable workspace and what is wrong if not.
- `git`, `patch`, `sandbox`: candidates as worktrees, applying changes, running untrusted code.
"""

from recloop.workspace.check import CheckReport, check_workspace
from recloop.workspace.contract import Guardrail, MetricsContract, PrimaryMetric
from recloop.workspace.example import CreatedWorkspace, InitError, create_example
from recloop.workspace.manifest import Manifest, load_manifest, parse_manifest
from recloop.workspace.problems import ManifestError, Problem
from recloop.workspace.repomap import RepoMap, SymbolRef, build_repo_map

__all__ = [
    "CheckReport",
    "CreatedWorkspace",
    "Guardrail",
    "InitError",
    "Manifest",
    "ManifestError",
    "MetricsContract",
    "PrimaryMetric",
    "Problem",
    "RepoMap",
    "SymbolRef",
    "build_repo_map",
    "check_workspace",
    "create_example",
    "load_manifest",
    "parse_manifest",
]
