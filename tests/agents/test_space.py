"""Parameter spaces: what fits, why not, and the step grid."""

import pytest

from recloop.agents.space import (
    check_values,
    choice_param,
    contains,
    describe,
    float_param,
    int_param,
    snap,
)

SPACE = (
    float_param("x", 0.0, 2.0),
    int_param("n", 0, 300, step=25),
    choice_param("c", [2, 3, "a", True]),
)


@pytest.mark.parametrize(
    ("index", "value", "fits"),
    [
        (0, 0.0, True),
        (0, 2, True),
        (0, 2.01, False),
        (0, float("nan"), False),
        (0, True, False),
        (1, 75, True),
        (1, 80, False),
        (1, 75.0, False),
        (2, 3, True),
        (2, True, True),
        (2, 1, False),
        (2, "b", False),
    ],
)
def test_contains(index: int, value: object, fits: bool) -> None:
    assert contains(SPACE[index], value) is fits


def test_check_values_names_every_problem() -> None:
    assert check_values(SPACE, {"x": 1.0, "n": 25, "c": "a"}) == []
    problems = check_values(SPACE, {"x": 5.0, "c": 2, "z": 1})
    assert problems == [
        "x: 5.0 is not a float in [0, 2]",
        "n: missing",
        "z: not a parameter of this space",
    ]


def test_snap_and_describe() -> None:
    n = int_param("n", 10, 100, step=25)
    assert [snap(n, v) for v in (0, 22, 23, 60, 99, 500)] == [10, 10, 35, 60, 85, 85]
    assert describe(n) == "an int in [10, 100] step 25"
    assert describe(float_param("l", 1.0, 10.0, log=True)) == "a float in [1, 10] (log)"
    assert describe(SPACE[2]) == "one of 2, 3, 'a', True"
