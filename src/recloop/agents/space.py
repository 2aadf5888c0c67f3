"""Typed parameter spaces: the values a transformation (or a manifest's `[search]`) may take.

One parameter type serves both: `recloop.workspace.search`'s `FloatParam`, `IntParam` and
`ChoiceParam`, whose `path` is a config file's dotted key for a config-level search and a plain
name (`l2`, `half_life`) for a code transformation. `check_values` says why a set of values does
not fit a space; `clip` brings a number back inside its range (optimisers may overshoot by a
rounding step).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from recloop.workspace.search import ChoiceParam, FloatParam, IntParam

Scalar = bool | int | float | str
SearchParam = FloatParam | IntParam | ChoiceParam
Space = tuple[SearchParam, ...]


def float_param(name: str, low: float, high: float, *, log: bool = False) -> FloatParam:
    return FloatParam(type="float", path=name, low=low, high=high, log=log)


def int_param(name: str, low: int, high: int, *, step: int = 1, log: bool = False) -> IntParam:
    return IntParam(type="int", path=name, low=low, high=high, step=step, log=log)


def choice_param(name: str, choices: Sequence[Scalar]) -> ChoiceParam:
    return ChoiceParam(type="categorical", path=name, choices=list(choices))


def contains(param: SearchParam, value: object) -> bool:
    """Whether `value` is one the parameter may take (type, range, step or choices)."""
    if isinstance(param, ChoiceParam):
        return any(value == c and type(value) is type(c) for c in param.choices)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if isinstance(param, IntParam):
        if not isinstance(value, int):
            return False
        return param.low <= value <= param.high and (value - param.low) % param.step == 0
    return math.isfinite(value) and param.low <= value <= param.high


def check_values(space: Space, values: Mapping[str, object]) -> list[str]:
    """Why `values` does not fit `space` (one sentence per problem; [] when it fits)."""
    problems = []
    names = {p.path for p in space}
    for param in space:
        if param.path not in values:
            problems.append(f"{param.path}: missing")
        elif not contains(param, values[param.path]):
            problems.append(f"{param.path}: {values[param.path]!r} is not {describe(param)}")
    problems += [f"{name}: not a parameter of this space" for name in values if name not in names]
    return problems


def describe(param: SearchParam) -> str:
    """`a float in [0, 2]`, `an int in [10, 400] (log)`, `one of 2, 3, 5`."""
    if isinstance(param, ChoiceParam):
        return "one of " + ", ".join(repr(c) for c in param.choices)
    kind = "an int" if isinstance(param, IntParam) else "a float"
    step = f" step {param.step}" if isinstance(param, IntParam) and param.step > 1 else ""
    return f"{kind} in [{param.low:g}, {param.high:g}]{step}" + (" (log)" if param.log else "")


def snap(param: IntParam, value: int) -> int:
    """The value on the parameter's step grid nearest to `value`, inside [low, high]."""
    steps = round((value - param.low) / param.step)
    highest = (param.high - param.low) // param.step
    return int(param.low + min(max(steps, 0), highest) * param.step)
