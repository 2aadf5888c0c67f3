"""The workspace commands of the `recloop` CLI: `init`, `check` and `map`.

`register(app)` adds them to the root Typer app. Output is plain text on stdout (`typer.echo`, so
brackets in module maps are never taken for markup); errors go to stderr with exit code 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from recloop.workspace.check import check_workspace
from recloop.workspace.example import EXAMPLES, InitError, create_example
from recloop.workspace.manifest import load_manifest
from recloop.workspace.problems import ManifestError
from recloop.workspace.repomap import build_repo_map

WorkspaceDir = Annotated[
    Path,
    typer.Argument(
        exists=True, file_okay=False, help="The workspace folder (default: the current one)."
    ),
]


def register(app: typer.Typer) -> None:
    """Add `init`, `check` and `map` to the root app."""
    app.command("init")(init_command)
    app.command("check")(check_command)
    app.command("map")(map_command)


def init_command(
    directory: Annotated[Path, typer.Argument(help="A new or empty folder to create.")],
    example: Annotated[
        str, typer.Option(help=f"The example to start from: {', '.join(EXAMPLES)}.")
    ] = "movielens",
) -> None:
    """Create an example workspace: a git repository holding a team's recommender codebase."""
    try:
        created = create_example(directory, example)
    except InitError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(
        f"created {created.path}: the {example} example, {len(created.files)} files, "
        f"first commit {created.commit[:10]} on main\n"
        f"next: recloop check {directory}   recloop map {directory}   "
        f"(cd {directory} && python -m pytest)"
    )


def check_command(directory: WorkspaceDir = Path(".")) -> None:
    """Validate a workspace: manifest, entry point, globs, search spaces, imports, git state."""
    report = check_workspace(directory)
    typer.echo(report.render(), err=not report.ok)
    if not report.ok:
        raise typer.Exit(1)


def map_command(
    directory: WorkspaceDir = Path("."),
    module: Annotated[
        list[str] | None, typer.Option("--module", "-m", help="Only these modules (repeatable).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the map as JSON.")] = False,
) -> None:
    """Print the workspace's modules, classes, functions and import graph (from the AST)."""
    try:
        source_dir = load_manifest(directory).recommender.source_dir
    except ManifestError:
        source_dir = "."  # a map is useful before the manifest is right
    repo = build_repo_map(directory, source_dir)
    unknown = sorted(set(module or ()) - {m.name for m in repo.modules})
    if unknown:
        typer.echo(f"error: no module {', '.join(unknown)} in {directory}", err=True)
        raise typer.Exit(1)
    if as_json:
        typer.echo(repo.model_dump_json(indent=2))
    else:
        typer.echo(repo.render(module))
