"""Editing Python through its syntax tree: exact lines, indentation kept, invalid edits refused."""

import ast

import pytest

from recloop.agents.source import (
    PythonSource,
    SourceEditError,
    assigns_to,
    bound_names,
    calls,
    python_literal,
)

MODULE = '''\
"""A module."""

import numpy as np

LIMIT = 3  # the limit


class Model:
    """A model."""

    @staticmethod
    def fit(x: int) -> int:
        y = np.sum(x)  # keep me
        self_index = helper.build(x, LIMIT)
        return y + self_index


def helper(a):
    return a
'''


def test_a_symbol_is_found_by_qualified_name_with_its_decorators() -> None:
    source = PythonSource(MODULE)
    assert source.has("Model.fit") and source.has("helper") and not source.has("fit")
    span = source.span("Model.fit")
    assert (span.first, span.last, span.indent) == (11, 15, 4)
    assert source.segment("Model.fit").startswith("@staticmethod\ndef fit")


def test_replacing_a_method_keeps_everything_else_byte_for_byte() -> None:
    source = PythonSource(MODULE)
    source.replace("Model.fit", "def fit(x):\n    return x\n")
    lines = source.text.splitlines()
    assert lines[10:12] == ["    def fit(x):", "        return x"]
    assert source.text.startswith(MODULE.split("    @staticmethod")[0])
    assert source.text.endswith("def helper(a):\n    return a\n")


def test_insertions_after_and_before_use_the_symbols_spacing() -> None:
    source = PythonSource(MODULE)
    source.insert_after("Model", "def extra():\n    return 1\n")
    source.insert_before("helper", "CONST = 2")
    text = source.text
    assert "        return y + self_index\n\n\ndef extra():\n    return 1\n" in text
    assert "CONST = 2\n\n\ndef helper(a):" in text


def test_set_constant_changes_only_the_value_and_keeps_the_comment() -> None:
    source = PythonSource(MODULE)
    source.set_constant("LIMIT", 7.5)
    assert "LIMIT = 7.5  # the limit\n" in source.text
    assert source.constant("LIMIT") == 7.5


def test_a_new_constant_goes_after_the_last_constant_or_after_the_imports() -> None:
    source = PythonSource(MODULE)
    source.set_constant("OTHER", "text", "why")
    assert 'LIMIT = 3  # the limit\nOTHER = "text"  # why\n' in source.text
    bare = PythonSource("import os\n\n\ndef f():\n    return os\n")
    bare.set_constant("N", 2)
    assert bare.text == "import os\n\nN = 2\n\n\ndef f():\n    return os\n"


def test_statements_are_found_and_replaced_at_their_indentation() -> None:
    source = PythonSource(MODULE)
    node = source.find_statement("Model.fit", lambda s: assigns_to(s, "self_index"), "index")
    assert calls(node, "build") and not calls(node, "np.sum")
    source.replace_statement(node, "self_index = 0")
    source.insert_after_statement(source.node("Model.fit").body[0], "z = 1")
    assert (
        "        y = np.sum(x)  # keep me\n        z = 1\n        self_index = 0\n" in source.text
    )


def test_an_expression_is_replaced_by_its_columns() -> None:
    source = PythonSource(MODULE)
    call = calls(source.node("Model.fit"), "np.sum")[0]
    source.replace_expression(call, f"np.max({source.expression_text(call.args[0])})")
    assert "        y = np.max(x)  # keep me\n" in source.text


def test_missing_ambiguous_and_unparseable_are_refused() -> None:
    source = PythonSource(MODULE)
    with pytest.raises(SourceEditError, match="no class or function 'nothing'"):
        source.replace("nothing", "x = 1")
    with pytest.raises(SourceEditError, match="more than once"):
        PythonSource("def f():\n    pass\n\n\ndef f():\n    pass\n").span("f")
    with pytest.raises(SourceEditError, match="has no index"):
        source.find_statement("Model.fit", lambda s: False, "index")
    before = source.text
    with pytest.raises(SourceEditError):
        source.replace("helper", "def helper(:\n")
    assert source.text == before  # a failed edit changes nothing


def test_literals_and_bound_names() -> None:
    assert [python_literal(v) for v in (True, 3, 2.0, 1e-07, 'a"b')] == [
        "True",
        "3",
        "2.0",
        "1e-07",
        '"a\\"b"',
    ]
    function = ast.parse("def f(a, *b, c=1, **d):\n    e = a\n    for g in b:\n        pass\n")
    node = function.body[0]
    assert isinstance(node, ast.FunctionDef)
    assert bound_names(node) == {"a", "b", "c", "d", "e", "g"}
