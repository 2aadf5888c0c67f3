"""recloop's own settings of the cascade: sample sizes, limits on a change, the slowdown factor.

Everything that decides whether a candidate is *good* comes from the workspace's manifest (the
metrics contract, its guardrails and minimum effect, the stage budgets, the declared
dependencies, the editable and protected paths). These settings only size the checks recloop
runs and set the few limits the manifest has no key for; they are saved with every bench run.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class CascadeSettings(BaseModel):
    """How big the cascade's samples are and the limits the manifest does not set."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # structural: the size of a change a reviewer can still read
    max_changed_lines: int = Field(default=800, ge=1)  # added + removed
    max_changed_files: int = Field(default=20, ge=1)
    lint: bool = True  # run ruff (F, E9) on changed Python files
    # semantic: the contract probe's sample
    contract_users: int = Field(default=64, ge=2)  # users with history, sampled
    cold_start_users: int = Field(default=4, ge=1)  # users without any interaction, added
    # local: the measured run, and how slow a candidate may be
    local_users: int = Field(default=500, ge=2)
    max_slowdown: float = Field(default=5.0, gt=1.0)  # fit + recommend CPU vs the champion's
    latency_repeats: int = Field(default=3, ge=1)  # recommend passes per run; the fastest counts
    confirm_runs: int = Field(default=3, ge=1)  # candidate runs before a cost rejection
    confirm_margin: float = Field(default=2.0, gt=1.0)  # past margin x the bound: no rerun
    champion_runs: int = Field(default=3, ge=1)  # the champion's cost is the best of N runs
    # offline: the paired bootstrap
    n_resamples: int = Field(default=2000, ge=100)
    bootstrap_seed: int = 0
    # all sandboxed runs
    sample_seed: int = 0
    isolate: bool = True
    threads: int = Field(default=1, ge=1)
