"""Is the recommender's interface unchanged? Read from the AST of the candidate's entry point.

recloop calls `factory()` with no argument, then `fit(train)` and
`recommend(user_ids, k, exclude_seen=True)` on what it returns. This module checks, without
running anything, that the manifest's entry point module still exists and defines the factory
at module level, that the factory needs no argument, and — when the factory's class can be
resolved statically (a class itself, or a function annotated or returning `SomeClass(...)`, the
class defined in that module or imported from a workspace module) — that the class still defines
`fit` and `recommend` with those parameters. What cannot be resolved statically is left to the
contract probe, which calls the interface for real.
"""

from __future__ import annotations

import ast
from pathlib import Path

from recloop.cascade.verdict import Location
from recloop.workspace.manifest import Manifest

_FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


def check_interface(worktree: Path, manifest: Manifest) -> list[Location]:
    """Every way the entry point breaks the interface recloop calls (empty when it holds)."""
    rec = manifest.recommender
    found = module_file(worktree, rec.source_dir, rec.module)
    if found is None:
        first, _ = rec.module_files()
        return [Location(path=first, message=f"the entry point module {rec.module} is gone")]
    tree = _parse(worktree / found)
    if tree is None:
        return [Location(path=found, message="the entry point module does not parse")]
    node = _top_level(tree, rec.factory)
    if node is None:
        return [Location(path=found, message=f"defines no {rec.factory!r} at module level")]
    if isinstance(node, ast.ClassDef):
        init = _method(node, "__init__")
        problems = _needs_arguments(found, init, 1, f"{rec.factory}()") if init else []
        return problems + _methods(found, node)
    if not isinstance(node, _FunctionNode):
        return []  # an alias or an import: the probe finds out
    problems = _needs_arguments(found, node, 0, f"{rec.factory}()")
    resolved = _returned_class(worktree, rec.source_dir, found, tree, node)
    if resolved is not None:
        problems += _methods(*resolved)
    return problems


def module_file(worktree: Path, source_dir: str, module: str) -> str | None:
    base = Path(source_dir, *module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if (worktree / candidate).is_file():
            return candidate.as_posix()
    return None


def _parse(path: Path) -> ast.Module | None:
    try:
        return ast.parse(path.read_bytes(), filename=str(path))
    except (SyntaxError, ValueError, OSError):
        return None


def _top_level(tree: ast.Module, name: str) -> ast.stmt | None:
    for node in tree.body:
        if isinstance(node, _FunctionNode | ast.ClassDef) and node.name == name:
            return node
        if isinstance(node, ast.Assign | ast.AnnAssign | ast.Import | ast.ImportFrom):
            bound = _bound_names(node)
            if name in bound:
                return node
    return None


def _bound_names(node: ast.stmt) -> set[str]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
    return {n.id for t in targets if t is not None for n in ast.walk(t) if isinstance(n, ast.Name)}


def _method(cls: ast.ClassDef, name: str) -> _FunctionNode | None:
    for node in cls.body:
        if isinstance(node, _FunctionNode) and node.name == name:
            return node
    return None


def _needs_arguments(path: str, fn: _FunctionNode, skip: int, what: str) -> list[Location]:
    """A problem when `fn` has parameters without defaults beyond the first `skip` (self)."""
    args = fn.args
    positional = [*args.posonlyargs, *args.args][skip:]
    required = positional[: len(positional) - len(args.defaults)] if positional else []
    required += [a for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is None]
    if not required:
        return []
    names = ", ".join(a.arg for a in required)
    return [
        Location(
            path=path,
            line=fn.lineno,
            message=f"{what} must be callable without arguments; {names} has no default",
        )
    ]


def _methods(path: str, cls: ast.ClassDef) -> list[Location]:
    """fit(train) and recommend(user_ids, k, exclude_seen=...) on the class, when decidable."""
    problems: list[Location] = []
    inherits = any(not (isinstance(b, ast.Name) and b.id == "object") for b in cls.bases)
    for name, positional in (("fit", ("train",)), ("recommend", ("user_ids", "k"))):
        method = _method(cls, name)
        if method is None:
            if not inherits:
                problems.append(
                    Location(path=path, line=cls.lineno, message=f"{cls.name} has no {name}()")
                )
            continue
        problem = _signature_problem(method, positional, name == "recommend")
        if problem:
            problems.append(Location(path=path, line=method.lineno, message=problem))
    return problems


def _signature_problem(fn: _FunctionNode, positional: tuple[str, ...], seen_flag: bool) -> str:
    args = fn.args
    params = [*args.posonlyargs, *args.args][1:]  # after self
    call = f"{fn.name}({', '.join(positional)}{', exclude_seen=True' if seen_flag else ''})"
    if len(params) < len(positional) and args.vararg is None:
        return f"{call} no longer fits: it takes {len(params)} positional parameter(s)"
    extra = params[len(positional) :]
    defaults_from = len(params) - len(args.defaults)
    required = [p.arg for i, p in enumerate(params) if i >= len(positional) and i < defaults_from]
    required = [r for r in required if not (seen_flag and r == "exclude_seen")]
    if required:
        return f"{call} no longer fits: {', '.join(required)} has no default"
    names = {p.arg for p in extra} | {a.arg for a in args.kwonlyargs}
    if seen_flag and "exclude_seen" not in names and args.kwarg is None:
        return f"{call} no longer fits: it has no exclude_seen parameter"
    return ""


def _returned_class(
    worktree: Path, source_dir: str, path: str, tree: ast.Module, fn: _FunctionNode
) -> tuple[str, ast.ClassDef] | None:
    """The class a factory function builds (annotation or `return Cls(...)`), if resolvable."""
    name = None
    if isinstance(fn.returns, ast.Name):
        name = fn.returns.id
    elif isinstance(fn.returns, ast.Constant) and isinstance(fn.returns.value, str):
        name = fn.returns.value
    else:
        for node in ast.walk(fn):
            if (
                isinstance(node, ast.Return)
                and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Name)
            ):
                name = node.value.func.id
                break
    if name is None:
        return None
    local = _top_level(tree, name)
    if isinstance(local, ast.ClassDef):
        return path, local
    if isinstance(local, ast.ImportFrom) and local.level == 0 and local.module:
        original = next(a.name for a in local.names if (a.asname or a.name) == name)
        other = module_file(worktree, source_dir, local.module)
        other_tree = _parse(worktree / other) if other else None
        if other is not None and other_tree is not None:
            found = _top_level(other_tree, original)
            if isinstance(found, ast.ClassDef):
                return other, found
    return None
