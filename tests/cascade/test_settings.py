"""Cascade settings: typed, validated, unknown keys refused."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from recloop.cascade.settings import CascadeSettings


def test_defaults_reject_a_twenty_times_slower_candidate() -> None:
    settings = CascadeSettings()
    assert settings.max_slowdown < 20
    assert settings.contract_users >= 2 and settings.cold_start_users >= 1


def test_unknown_keys_and_bad_values_are_refused() -> None:
    with pytest.raises(ValidationError):
        CascadeSettings.model_validate({"max_slowdwn": 3})
    with pytest.raises(ValidationError):
        CascadeSettings(max_slowdown=1.0)
