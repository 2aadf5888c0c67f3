"""Shared edits of the example pipeline (`movierec`): where its stages meet, and how to change them.

The example's `Recommender.fit` builds the candidate index in one statement
(`self._index = candidates.CooccurrenceIndex.build(...)`) and `Recommender._recommend_batch`
ends with `return rerank.apply_rules(...)`. Transformations that swap the index or add a step
before the business rules find those statements in the syntax tree and splice there.
"""

from __future__ import annotations

import ast

from recloop.agents.source import PythonSource, assigns_to, bound_names, calls
from recloop.agents.transform import CodeView, TransformError, module_alias

INDEX_CLASS = "CooccurrenceIndex"
FIT = "Recommender.fit"
BATCH = "Recommender._recommend_batch"
INDEX_TARGET = "self._index"
RULES_CALL = "apply_rules"


def index_statement(source: PythonSource) -> ast.stmt:
    """The statement of `Recommender.fit` that builds the candidate index."""
    return source.find_statement(
        FIT, lambda s: assigns_to(s, INDEX_TARGET), f"assignment of {INDEX_TARGET}"
    )


def index_builder(source: PythonSource) -> str | None:
    """The dotted callee that builds the index now (`candidates.EaseIndex.build`), if a call."""
    node = index_statement(source)
    value = getattr(node, "value", None)
    if isinstance(value, ast.Call):
        return source.expression_text(value.func)
    return None


def index_swapped(view: CodeView, class_name: str, build: str) -> bool:
    """Whether the candidates module defines `class_name` and `Recommender.fit` builds the
    index with `<...>.<build>` (`build` as `EaseIndex.build`)."""
    module = view.python(view.locate(INDEX_CLASS))
    builder = index_builder(view.python(view.locate(FIT))) or ""
    return module.has(class_name) and builder.endswith(build)


def index_swap_files(view: CodeView, applied: bool) -> tuple[str, ...]:
    """The files an index swap edits: the candidates module, and the pipeline until applied."""
    candidates = view.locate(INDEX_CLASS)
    if applied:
        return (candidates,)
    return tuple(sorted({candidates, view.locate(FIT)}))


def swap_index(view: CodeView, build: str, args: str) -> dict[str, str]:
    """The pipeline file with the index built by `<candidates alias>.<build>(<args>)`.

    `args` may name `{interactions}` (the first argument of the current call, the training
    matrix) and `{module}` (how the pipeline names the candidates module).
    """
    pipeline_path = view.locate(FIT)
    source = view.python(pipeline_path)
    module = view.module_name(view.locate(INDEX_CLASS))
    alias = module_alias(source, module)
    if alias is None:
        raise TransformError(f"{pipeline_path} does not import {module} as a module")
    node = index_statement(source)
    value = getattr(node, "value", None)
    if not isinstance(value, ast.Call) or not value.args:
        raise TransformError(f"{pipeline_path}: the index is not built by a call with arguments")
    interactions = source.expression_text(value.args[0])
    call = f"{alias}.{build}({args.format(interactions=interactions, module=alias)})"
    statement = f"{INDEX_TARGET} = {call}"
    if node.col_offset + len(statement) > 100:
        inner = args.format(interactions=interactions, module=alias).replace(", ", ",\n    ")
        statement = f"{INDEX_TARGET} = {alias}.{build}(\n    {inner},\n)"
    source.replace_statement(node, statement)
    return {pipeline_path: source.text}


def rules_statement(source: PythonSource) -> ast.stmt:
    """The `return ...apply_rules(...)` statement that ends `Recommender._recommend_batch`."""
    return source.find_statement(
        BATCH,
        lambda s: isinstance(s, ast.Return) and bool(calls(s, RULES_CALL)),
        f"return of {RULES_CALL}(...)",
    )


def batch_names(source: PythonSource) -> set[str]:
    node = source.node(BATCH)
    assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    return bound_names(node)


def require_names(source: PythonSource, names: tuple[str, ...]) -> None:
    missing = sorted(set(names) - batch_names(source))
    if missing:
        raise TransformError(f"{source.path}: {BATCH} has no {', '.join(missing)}")


def calls_in_batch(source: PythonSource, name: str) -> bool:
    """Whether `Recommender._recommend_batch` calls `name` (bare or through a module)."""
    return bool(calls(source.node(BATCH), name))
