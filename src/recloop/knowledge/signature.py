"""The normalised signature of a change: what makes two attempts "the same idea".

A signature has four parts, and two changes collide exactly when all four are equal:

- **family** — the proposal's family (`time-decay`, `blend-weights`, …; `unknown` without one).
  Two families are different ideas even when they edit the same lines.
- **files** — the set of changed files (workspace-relative POSIX paths).
- **symbols** — the set of `path::symbol` touched, from `symbols` (AST of before/after, or the
  diff's hunks): which functions, methods, classes, top-level code (`<module>`) or config keys
  changed. Formatting, comments and the order of definitions do not count, so a rewrite of the
  same function collides with the first attempt while an edit of another function does not.
- **params** — the proposal's parameters, names normalised (`proposal.normalise_name`) and values
  bucketed (`bucket_label`): numbers on a log scale of ratio √2 (half an octave, bucket k holds
  [√2^(k-½), √2^(k+½)) ≈ ±19% around √2^k), so `neighbours=200` and `210` share the bucket
  `~181` while `20` is `~22.6`; zero, the sign, booleans, strings (case-folded) and lists
  (element-wise) are kept distinct. Any fixed grid splits some close pairs at its edges
  (189 and 191 fall either side of 190.3); forbidden directions therefore match new proposals by
  value *ranges* (`pattern.NumericRange`), not by bucket labels.

The signature's `key` (`sg-` and 12 hex digits of a SHA-256 of the canonical JSON) is what the
promotion rule groups early failures by. The diff text itself is deliberately not part of it:
two attempts at one idea never produce the same diff.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping

from pydantic import BaseModel, ConfigDict

from recloop.knowledge.proposal import ParamValue, normalise_name, relative_posix
from recloop.knowledge.symbols import WHOLE_FILE, changed_symbols, symbols_from_diff

LOG_RATIO = math.sqrt(2.0)
UNKNOWN_FAMILY = "unknown"
Sources = Mapping[str, tuple[str | None, str | None]]  # path -> (before, after); None: absent


def log_bucket(value: float, ratio: float = LOG_RATIO) -> int:
    """The index k of the log bucket [ratio^(k-½), ratio^(k+½)) holding |value| (value != 0)."""
    return round(math.log(abs(value)) / math.log(ratio))


def bucket_bounds(value: float, ratio: float = LOG_RATIO) -> tuple[float, float]:
    """The interval of the log bucket holding `value` (negative values: the mirrored one)."""
    if value == 0 or not math.isfinite(value):
        return value, value
    k = log_bucket(value, ratio)
    low, high = ratio ** (k - 0.5), ratio ** (k + 0.5)
    return (low, high) if value > 0 else (-high, -low)


def bucket_label(value: ParamValue, ratio: float = LOG_RATIO) -> str:
    """A parameter value's bucket as a short, readable label (`~181`, `true`, `"cosine"`)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        if value == 0 or not math.isfinite(value):
            return str(float(value)).replace(".0", "")
        centre = ratio ** log_bucket(value, ratio)
        return f"~{'-' if value < 0 else ''}{centre:.3g}"
    if isinstance(value, str):
        return json.dumps(value.strip().casefold())
    return "[" + ",".join(bucket_label(item, ratio) for item in value) + "]"


def is_number(value: ParamValue) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class Signature(BaseModel):
    """See the module docstring."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    family: str
    files: tuple[str, ...]
    symbols: tuple[str, ...]  # "path::qualname", "path::table.key", "path::*"
    params: tuple[tuple[str, str], ...]  # (normalised name, bucket label), sorted

    @property
    def key(self) -> str:
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return "sg-" + hashlib.sha256(canonical.encode()).hexdigest()[:12]

    def describe(self) -> str:
        params = ", ".join(f"{n}={b}" for n, b in self.params) or "no parameters"
        return f"{self.family} ({params}) touching {', '.join(self.symbols) or 'nothing'}"


def bucketed_params(parameters: Mapping[str, ParamValue]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((normalise_name(n), bucket_label(v)) for n, v in parameters.items()))


def change_signature(
    *,
    family: str | None,
    parameters: Mapping[str, ParamValue],
    changed_files: Iterable[str] = (),
    diff: str = "",
    sources: Sources | None = None,
) -> Signature:
    """The signature of a change, from the file contents when given, else from the diff.

    `changed_files` are added even if neither the sources nor the diff show what changed in
    them (they then count as `path::*`).
    """
    if sources is not None:
        per_file = {relative_posix(p): changed_symbols(p, b, a) for p, (b, a) in sources.items()}
    else:
        per_file = {relative_posix(p): s for p, s in symbols_from_diff(diff).items()}
    files = {relative_posix(f) for f in changed_files}
    files.update(p for p, symbols in per_file.items() if symbols)
    symbols = {
        f"{path}::{symbol}"
        for path in files
        for symbol in (per_file.get(path) or frozenset({WHOLE_FILE}))
    }
    return Signature(
        family=family or UNKNOWN_FAMILY,
        files=tuple(sorted(files)),
        symbols=tuple(sorted(symbols)),
        params=bucketed_params(parameters),
    )
