"""Shared fixtures for the statistics tests: GrowthBook gbstats golden numbers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

GOLDEN = Path(__file__).with_name("gbstats_golden.json")


@pytest.fixture(scope="session")
def gbstats() -> dict[str, Any]:
    """Outputs of gbstats 0.8.0 on stored data (written by make_gbstats_golden.py)."""
    golden = json.loads(GOLDEN.read_text())
    golden["arrays"] = {
        arm: {k: np.asarray(v, dtype=np.float64) for k, v in cols.items()}
        for arm, cols in golden["data"].items()
    }
    return golden
