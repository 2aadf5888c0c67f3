"""Secrets out of text before an LLM prompt or response is kept.

The ledger keeps every prompt and response so a run can be audited and replayed; it must never
keep a key. `redact` replaces the exact secret strings it is given (the caller knows its API
key) and anything shaped like a common credential: `Bearer` tokens, `sk-…`/`sk-ant-…` keys,
GitHub and Slack tokens, AWS access key ids, and `NAME_KEY=value`-style assignments whose name
says key, token, secret or password.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "[REDACTED]"
_MIN_SECRET = 6  # shorter "secrets" would mask ordinary words

_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}"),
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"),
    re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    re.compile(
        r"(?i)\b([A-Z0-9_]*(?:API_?KEY|TOKEN|SECRET|PASSWORD|PASSWD)[A-Z0-9_]*)"
        r"(\s*[=:]\s*)(['\"]?)[^\s'\"]{4,}\3"
    ),
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every given secret and every credential-shaped string replaced by `MASK`."""
    for secret in sorted({s for s in secrets if len(s) >= _MIN_SECRET}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(_mask, text)
    return text


def _mask(match: re.Match[str]) -> str:
    if match.re.groups == 3:  # NAME = value: keep the name, hide the value
        return f"{match.group(1)}{match.group(2)}{MASK}"
    return MASK
