"""Risk levels by rule, from the change's scope."""

import pytest

from recloop.agents.risk import ChangeScope, risk_level

MODULE = '"""Doc."""\n\nLIMIT = 3  # why\nSIGN = -1.0\n\n\ndef f(x):\n    return x * LIMIT\n'
CONFIG = "[a]\nx = 1  # c\ny = 'text'\n"


def _level(before: dict[str, str | None], after: dict[str, str | None]) -> str:
    return risk_level(ChangeScope.between(before, after))


def test_a_config_value_is_a_parameter_tweak() -> None:
    assert _level({"c.toml": CONFIG}, {"c.toml": CONFIG.replace("x = 1", "x = 2.5")}) == "L1"


def test_a_module_constant_is_a_parameter_tweak() -> None:
    tweak = MODULE.replace("LIMIT = 3", "LIMIT = 9").replace("-1.0", "-2.0")
    assert _level({"m.py": MODULE}, {"m.py": tweak}) == "L1"


def test_values_in_two_files_are_a_config_change() -> None:
    before = {"c.toml": CONFIG, "m.py": MODULE}
    after = {"c.toml": CONFIG.replace("x = 1", "x = 2"), "m.py": MODULE.replace("= 3", "= 4")}
    assert _level(before, after) == "L2"


@pytest.mark.parametrize(
    "after",
    [CONFIG + "z = 3\n", CONFIG.replace("x = 1", "x = 'one'"), "[a]\ny = 'text'\n"],
)
def test_keys_or_types_changing_in_a_config_file_is_a_config_change(after: str) -> None:
    assert _level({"c.toml": CONFIG}, {"c.toml": after}) == "L2"


@pytest.mark.parametrize(
    "after",
    [
        MODULE.replace("x * LIMIT", "x + LIMIT"),
        MODULE.replace('"""Doc."""', '"""Other doc."""'),
        MODULE + "NEW = 1\n",
        "def broken(:\n",
    ],
)
def test_any_other_change_to_one_module_is_a_code_change(after: str) -> None:
    assert _level({"m.py": MODULE}, {"m.py": after}) == "L3"


def test_code_in_two_modules_is_cross_module_and_a_created_module_is_code() -> None:
    assert _level({"a.py": MODULE, "b.py": MODULE}, {"a.py": "x = 1\n", "b.py": "y = 2\n"}) == "L4"
    assert _level({"c.toml": CONFIG}, {"c.toml": CONFIG, "new.py": "x = 1\n"}) == "L3"
    created = ChangeScope.between({"new.py": None}, {"new.py": "X = 1\n"})
    assert not created.values_only and created.code_modules == ("new.py",)


def test_a_planned_scope_counts_modules_and_config_files() -> None:
    values = ChangeScope.planned(["config/p.toml"], values_only=True)
    assert risk_level(values) == "L1" and values.config_files == ("config/p.toml",)
    code = ChangeScope.planned(["pkg/a.py", "pkg/b.py", "config/p.toml"], values_only=False)
    assert risk_level(code) == "L4" and code.files == ("config/p.toml", "pkg/a.py", "pkg/b.py")
    assert risk_level(ChangeScope.planned(["config/p.toml"], values_only=False)) == "L2"
