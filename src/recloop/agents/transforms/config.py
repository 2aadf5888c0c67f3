"""Config-level changes for any workspace: the search spaces its manifest declares.

A manifest's `[search]` names one config file and the dotted keys worth tuning, each with a
range or a list of choices. This transformation sets those keys in that file (TOML, comments and
layout kept, see `tomledit`) and nothing else, so it applies to any workspace that declares
spaces and is always a parameter tweak. Its parameter names are the dotted keys themselves.

The knowledge package's closed family list has no entry for "the manifest's own search spaces"
yet; `CONFIG_FAMILY` maps it onto `blend-weights` (tuning the config's numbers) until it does.
"""

from __future__ import annotations

from typing import ClassVar

from recloop.agents.space import Scalar, Space, contains
from recloop.agents.tomledit import ConfigEditError, get_value, set_values
from recloop.agents.transform import CodeView, Params, Transformation, TransformError
from recloop.knowledge.proposal import Family

CONFIG_FAMILY: Family = "blend-weights"
MAX_LISTED = 4


class ConfigSearch(Transformation):
    """See the module docstring. Parameters: the manifest's `[[search.params]]`, by dotted key."""

    family: ClassVar[Family] = CONFIG_FAMILY
    title: ClassVar[str] = "config values from the manifest's search spaces"

    def space(self, view: CodeView) -> Space:
        search = view.manifest.search
        return () if search is None else tuple(search.params)

    def not_applicable(self, view: CodeView) -> str | None:
        search = view.manifest.search
        if search is None:
            return "the manifest declares no [search] spaces"
        if view.read(search.config) is None:
            return f"the config file {search.config} does not exist"
        return None

    def applied(self, view: CodeView) -> bool:
        return True  # only values change, whatever the file holds

    def current(self, view: CodeView) -> dict[str, Scalar] | None:
        """The config file's values of every searched key, if all are set and inside the space."""
        search = view.manifest.search
        text = view.read(search.config) if search is not None else None
        if search is None or text is None:
            return None
        try:
            values = {p.path: get_value(text, p.path) for p in search.params}
        except ConfigEditError:
            return None
        if not all(contains(p, values[p.path]) for p in search.params):
            return None
        return values

    def files(self, view: CodeView) -> tuple[str, ...]:
        search = view.manifest.search
        if search is None:
            raise TransformError("the manifest declares no [search] spaces")
        return (search.config,)

    def edit(self, view: CodeView, params: Params) -> dict[str, str]:
        path = self.files(view)[0]
        text = view.read(path)
        if text is None:
            raise TransformError(f"the config file {path} does not exist")
        try:
            return {path: set_values(text, dict(params))}
        except ConfigEditError as exc:
            raise TransformError(f"{path}: {exc}") from exc

    def hypothesis(self, params: Params) -> str:
        shown = [f"{key} = {_short(value)}" for key, value in list(params.items())[:MAX_LISTED]]
        more = len(params) - len(shown)
        listed = ", ".join(shown) + (f" and {more} more" if more > 0 else "")
        return f"The next point of the declared config spaces ({listed}) may beat the champion."


def _short(value: Scalar) -> str:
    return f"{value:.4g}" if isinstance(value, float) else repr(value)
