"""What the LLM layer raises, written out once.

LLMError                 anything below; an agent that catches it falls back to its non-LLM path
├── LLMConfigError       the settings cannot give a working client (no model, key variable unset,
│                        provider package missing); raised before any request
├── LLMUnavailable       transport or HTTP failure after the SDK's retries (`status` when HTTP)
│   └── LLMTimeout       no answer within `timeout_seconds`
├── LLMBadOutput         no reply validated against the schema in `max_output_attempts` tries
└── BudgetExhausted      a token or cost budget is spent; raised before the call is made
"""

from __future__ import annotations


class LLMError(Exception):
    """Base of the LLM layer's errors."""


class LLMConfigError(LLMError):
    """The LLM settings are incomplete or name something that is not there."""


class LLMUnavailable(LLMError):
    """The endpoint could not be reached or answered with an HTTP error, after retries."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class LLMTimeout(LLMUnavailable):
    """The endpoint did not answer in time."""


class LLMBadOutput(LLMError):
    """The model's replies never validated; `errors` are the last validation errors."""

    def __init__(self, message: str, *, errors: list[str], attempts: int) -> None:
        super().__init__(message)
        self.errors = errors
        self.attempts = attempts


class BudgetExhausted(LLMError):
    """A budget is spent: `budget` names it, `used` and `limit` are its figures."""

    def __init__(self, budget: str, *, used: float, limit: float) -> None:
        super().__init__(f"LLM budget '{budget}' exhausted: used {used:g} of {limit:g}")
        self.budget = budget
        self.used = used
        self.limit = limit
