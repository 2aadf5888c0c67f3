"""The repository map: a workspace's modules, classes, functions and imports, from the AST only.

No workspace code is imported or run. Agents use the map to choose which files a proposal
touches and to put only the relevant code into a prompt (`find_symbol` gives a symbol's file and
line span, `related_modules` its neighbours in the import graph); `recloop map` prints it.

Modules are named by their path (`movierec/data.py` -> `movierec.data`, a package's
`__init__.py` by the package), relative to the manifest's source folder when one is given.
Folders that are not the team's code are skipped: hidden ones (`.git`, `.recloop`, `.venv`...),
virtual environments (any folder with a `pyvenv.cfg`), `__pycache__`, `node_modules`, build
output and `*.egg-info`. A file that does not parse is listed with its syntax error.
"""

from __future__ import annotations

import ast
import os
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import Literal

from pydantic import BaseModel, ConfigDict

SKIPPED_DIRS = frozenset({"__pycache__", "node_modules", "build", "dist", "site-packages"})
SymbolKind = Literal["class", "function", "method"]


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True)


class FunctionInfo(_Data):
    """A module-level function or a method."""

    name: str
    qualname: str  # "Recommender.fit" for a method
    signature: str  # "(self, train: Any) -> Recommender"
    doc: str | None  # the docstring's first line
    line: int
    end_line: int
    is_async: bool = False
    decorators: list[str] = []


class ClassInfo(_Data):
    name: str
    bases: list[str]
    doc: str | None
    line: int
    end_line: int
    methods: list[FunctionInfo]


class ImportInfo(_Data):
    """One imported module (relative imports resolved) and the workspace module it is, if any."""

    module: str
    names: list[str]  # the names of `from module import a, b`; [] for `import module`
    line: int
    internal: str | None  # the workspace module this import reaches, None for outside code


class ModuleInfo(_Data):
    name: str
    path: str  # POSIX, relative to the workspace root
    doc: str | None
    lines: int
    classes: list[ClassInfo]
    functions: list[FunctionInfo]
    imports: list[ImportInfo]

    @property
    def internal_imports(self) -> list[str]:
        """The workspace modules this module imports, sorted."""
        return sorted({i.internal for i in self.imports if i.internal and i.internal != self.name})

    @property
    def external_packages(self) -> list[str]:
        """Top-level names of the outside packages it imports (stdlib included), sorted."""
        tops = {i.module.split(".")[0] for i in self.imports if i.internal is None}
        return sorted(tops - {"__future__", ""})


class ParseFailure(_Data):
    path: str
    line: int | None
    message: str


class SymbolRef(_Data):
    """Where a class, function or method lives, to read or quote just that code."""

    module: str
    path: str
    qualname: str
    kind: SymbolKind
    signature: str
    doc: str | None
    line: int
    end_line: int


class RepoMap(_Data):
    """The map of one workspace; see the module docstring."""

    modules: list[ModuleInfo]
    failures: list[ParseFailure]

    def module(self, name: str) -> ModuleInfo:
        for module in self.modules:
            if module.name == name:
                return module
        raise KeyError(f"no module {name!r} in the repository map")

    @property
    def import_graph(self) -> dict[str, list[str]]:
        """Each workspace module -> the workspace modules it imports."""
        return {m.name: m.internal_imports for m in self.modules}

    def imported_by(self, name: str) -> list[str]:
        """The workspace modules that import `name`, sorted."""
        return sorted(m.name for m in self.modules if name in m.internal_imports)

    def related_modules(self, name: str, depth: int = 1) -> list[str]:
        """Modules within `depth` import edges of `name` (either direction), nearest first."""
        self.module(name)  # KeyError for an unknown module
        graph = self.import_graph
        neighbours = {m: set(graph[m]) for m in graph}
        for source, targets in graph.items():
            for target in targets:
                neighbours.setdefault(target, set()).add(source)
        distance = {name: 0}
        queue = deque([name])
        while queue:
            current = queue.popleft()
            if distance[current] == depth:
                continue
            for nxt in sorted(neighbours.get(current, ())):
                if nxt not in distance:
                    distance[nxt] = distance[current] + 1
                    queue.append(nxt)
        return sorted((m for m in distance if m != name), key=lambda m: (distance[m], m))

    def symbols(self) -> Iterator[SymbolRef]:
        for module in self.modules:
            for cls in module.classes:
                yield _ref(module, cls.name, "class", f"({', '.join(cls.bases)})", cls)
                for method in cls.methods:
                    yield _ref(module, method.qualname, "method", method.signature, method)
            for fn in module.functions:
                yield _ref(module, fn.qualname, "function", fn.signature, fn)

    def find_symbol(self, name: str) -> list[SymbolRef]:
        """Symbols called `name`: a bare name, a qualname (`Cls.meth`) or `module.qualname`."""
        return [
            s
            for s in self.symbols()
            if name in (s.qualname, s.qualname.split(".")[-1], f"{s.module}.{s.qualname}")
        ]

    def render(self, modules: Iterable[str] | None = None) -> str:
        """The map as text (optionally only some modules), as `recloop map` prints it."""
        wanted = None if modules is None else set(modules)
        out: list[str] = []
        for module in self.modules:
            if wanted is None or module.name in wanted:
                out.extend(_module_lines(module))
        if wanted is None:
            out.append("import graph (workspace modules):")
            edges = [(m, targets) for m, targets in self.import_graph.items() if targets]
            out.extend(f"  {m} -> {', '.join(t)}" for m, t in edges)
            if not edges:
                out.append("  (no imports between workspace modules)")
            if self.failures:
                out.append("not parsed:")
                out.extend(
                    f"  {f.path}{'' if f.line is None else f':{f.line}'}: {f.message}"
                    for f in self.failures
                )
        return "\n".join(out)


def _module_lines(module: ModuleInfo) -> list[str]:
    out = [f"{module.path}  [{module.name}, {module.lines} lines]{_doc(module.doc)}"]
    if module.internal_imports or module.external_packages:
        out.append(f"  imports: {', '.join(module.internal_imports + module.external_packages)}")
    for cls in module.classes:
        bases = f"({', '.join(cls.bases)})" if cls.bases else ""
        out.append(f"  class {cls.name}{bases}{_doc(cls.doc)}")
        out.extend(f"    {_function_line(m)}" for m in cls.methods)
    out.extend(f"  {_function_line(f)}" for f in module.functions)
    out.append("")
    return out


def _function_line(fn: FunctionInfo) -> str:
    decorators = "".join(f"@{d.split('(')[0]} " for d in fn.decorators)
    prefix = "async def" if fn.is_async else "def"
    return f"{decorators}{prefix} {fn.name}{fn.signature}{_doc(fn.doc)}"


def _doc(doc: str | None) -> str:
    return f"  # {doc}" if doc else ""


def _ref(
    module: ModuleInfo,
    qualname: str,
    kind: SymbolKind,
    signature: str,
    node: ClassInfo | FunctionInfo,
) -> SymbolRef:
    return SymbolRef(
        module=module.name,
        path=module.path,
        qualname=qualname,
        kind=kind,
        signature=signature,
        doc=node.doc,
        line=node.line,
        end_line=node.end_line,
    )


def build_repo_map(root: str | Path, source_dir: str = ".") -> RepoMap:
    """Map every Python file under `root` (see the module docstring for what is skipped)."""
    root = Path(root)
    parsed: list[tuple[str, str, ast.Module, int]] = []
    failures: list[ParseFailure] = []
    for path in python_files(root):
        rel = path.relative_to(root).as_posix()
        try:
            text = path.read_text(encoding="utf-8")
            tree = ast.parse(text, filename=rel)
        except SyntaxError as exc:
            failures.append(ParseFailure(path=rel, line=exc.lineno, message=exc.msg))
            continue
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            failures.append(ParseFailure(path=rel, line=None, message=str(exc)))
            continue
        parsed.append((module_name(rel, source_dir), rel, tree, len(text.splitlines())))
    known = {name for name, *_ in parsed}
    modules = [_module_info(name, rel, tree, lines, known) for name, rel, tree, lines in parsed]
    return RepoMap(modules=sorted(modules, key=lambda m: m.name), failures=failures)


def python_files(root: Path) -> list[Path]:
    """The workspace's `.py` files, sorted, skipping hidden, virtualenv and build folders."""
    found: list[Path] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not _skipped(Path(folder) / d))
        found.extend(
            Path(folder) / f
            for f in files
            if f.endswith(".py") and not (Path(folder) / f).is_symlink()
        )
    return sorted(found)


def _skipped(folder: Path) -> bool:
    name = folder.name
    return (
        name.startswith(".")
        or name in SKIPPED_DIRS
        or name.endswith(".egg-info")
        or folder.is_symlink()
        or (folder / "pyvenv.cfg").exists()
    )


def module_name(rel_path: str, source_dir: str = ".") -> str:
    """`movierec/data.py` -> `movierec.data`; `pkg/__init__.py` -> `pkg` (under source_dir)."""
    path = PurePosixPath(rel_path)
    source = PurePosixPath(source_dir)
    if source != PurePosixPath(".") and path.is_relative_to(source):
        path = path.relative_to(source)
    parts = list(path.with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


def _module_info(name: str, rel: str, tree: ast.Module, lines: int, known: set[str]) -> ModuleInfo:
    package = name if rel.endswith("__init__.py") else name.rpartition(".")[0]
    classes, functions = [], []
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            classes.append(_class_info(node))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            functions.append(_function_info(node, ""))
    imports = [imp for node in ast.walk(tree) for imp in _imports(node, package, known)]
    return ModuleInfo(
        name=name,
        path=rel,
        doc=_first_line(ast.get_docstring(tree)),
        lines=lines,
        classes=classes,
        functions=functions,
        imports=sorted(imports, key=lambda i: (i.line, i.module)),
    )


def _class_info(node: ast.ClassDef) -> ClassInfo:
    methods = [
        _function_info(child, node.name)
        for child in node.body
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    return ClassInfo(
        name=node.name,
        bases=[ast.unparse(b) for b in node.bases],
        doc=_first_line(ast.get_docstring(node)),
        line=node.lineno,
        end_line=node.end_lineno or node.lineno,
        methods=methods,
    )


def _function_info(node: ast.FunctionDef | ast.AsyncFunctionDef, owner: str) -> FunctionInfo:
    returns = f" -> {ast.unparse(node.returns)}" if node.returns is not None else ""
    return FunctionInfo(
        name=node.name,
        qualname=f"{owner}.{node.name}" if owner else node.name,
        signature=f"({ast.unparse(node.args)}){returns}",
        doc=_first_line(ast.get_docstring(node)),
        line=node.lineno,
        end_line=node.end_lineno or node.lineno,
        is_async=isinstance(node, ast.AsyncFunctionDef),
        decorators=[ast.unparse(d) for d in node.decorator_list],
    )


def _imports(node: ast.AST, package: str, known: set[str]) -> list[ImportInfo]:
    if isinstance(node, ast.Import):
        return [
            ImportInfo(module=a.name, names=[], line=node.lineno, internal=_deepest(a.name, known))
            for a in node.names
        ]
    if not isinstance(node, ast.ImportFrom):
        return []
    module = node.module or ""
    if node.level:
        base = package.split(".") if package else []
        base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
        module = ".".join([*base, module] if module else base)
    names = [a.name for a in node.names]
    # `from pkg import submodule` reaches the submodule; other names come from `module` itself
    subs = [n for n in names if f"{module}.{n}" in known]
    rest = [n for n in names if n not in subs]
    found = [
        ImportInfo(module=f"{module}.{n}", names=[], line=node.lineno, internal=f"{module}.{n}")
        for n in subs
    ]
    if rest or not subs:
        found.append(
            ImportInfo(
                module=module, names=rest, line=node.lineno, internal=_deepest(module, known)
            )
        )
    return found


def _deepest(module: str, known: set[str]) -> str | None:
    """The longest prefix of a dotted module name that is a workspace module."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in known:
            return candidate
    return None


def _first_line(doc: str | None) -> str | None:
    if not doc:
        return None
    return doc.strip().splitlines()[0].strip() or None


def is_stdlib(top_level: str) -> bool:
    """Whether a top-level import name belongs to Python's standard library."""
    return top_level in sys.stdlib_module_names
