"""The public surface of recloop.stats: everything in __all__ exists, nothing private leaks."""

from __future__ import annotations

import recloop.stats as stats


def test_exported_members() -> None:
    assert sorted(stats.__all__) == sorted(set(stats.__all__))
    for name in stats.__all__:
        assert not name.startswith("_")
        assert getattr(stats, name) is not None
    public = {n for n in vars(stats) if not n.startswith("_")}
    modules = {"cuped", "decision", "effect", "guardrails", "multiple", "novelty", "power"}
    modules |= {"segments", "sequential", "group_sequential", "srm", "summary"}
    modules |= {"analysis", "attribution", "diagnostics", "explain", "metrics", "seasonality"}
    modules |= {"commands", "estimated_design", "futility", "tables"}
    assert public - set(stats.__all__) <= modules
