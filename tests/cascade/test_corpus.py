"""The planted-fault corpus: every case stopped at the exact stage and cause, good ones online.

The cases share one corpus workspace and one champion measurement (`corpus_context`). The drift
tests fail when the example template changes under the diffs: regenerate them with
`tests/cascade/make_corpus.py` and look at what changed.
"""

from __future__ import annotations

import contextlib
import tomllib
from pathlib import Path

import pytest

from recloop.cascade import causes
from recloop.cascade.context import CascadeContext
from recloop.cascade.corpus import Corpus, CorpusCase, load_corpus, read_corpus_file
from recloop.cascade.runner import run_cascade
from recloop.workspace.errors import GitError
from recloop.workspace.example import create_example
from recloop.workspace.git import run_git
from recloop.workspace.isolation import namespace_prefix

ISOLATED = namespace_prefix()[0] is not None

CASES = load_corpus().cases
RECIPES = Path(__file__).with_name("corpus_recipes.toml")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_case_ends_at_its_stage_and_cause(
    case: CorpusCase, corpus_context: CascadeContext
) -> None:
    if case.needs_isolation and not ISOLATED:
        pytest.skip("this case is stopped by the sandbox's namespaces, unavailable here")
    try:
        result = run_cascade(case.submission(), corpus_context)
    finally:
        with contextlib.suppress(GitError):
            corpus_context.candidates.remove(case.name)
    last = result.last
    assert (last.stage, last.cause) == (case.stage, case.cause), last.sentence
    if case.kind == "good":
        assert result.outcome == "pending-online"
        assert [v.stage for v in result.verdicts] == list(causes.REJECT_CAUSES)
    else:
        assert result.outcome == "rejected"
        rejection = result.rejection
        assert rejection is not None and rejection.cause == case.cause
        assert rejection.changed_files == case.submission().changed_files
        assert last.sentence and last.cost.wall_seconds > 0


def test_the_corpus_is_big_enough_and_labelled_with_known_causes(corpus: Corpus) -> None:
    bad = [c for c in corpus.cases if c.kind == "bad"]
    good = [c for c in corpus.cases if c.kind == "good"]
    assert len(bad) >= 20 and len(good) >= 5
    assert len({c.name for c in corpus.cases}) == len(corpus.cases)
    for case in bad:
        assert causes.stage_of(case.cause) == case.stage, case.name
    assert all((c.stage, c.cause) == ("online", causes.PENDING_ONLINE) for c in good)
    assert {c.stage for c in bad} == {"structural", "semantic", "local", "offline"}


def test_the_index_matches_the_recipes(corpus: Corpus) -> None:
    recipes = tomllib.loads(RECIPES.read_text(encoding="utf-8"))
    expected = [(r["name"], r["kind"], r["stage"], r["cause"]) for r in recipes["case"]]
    assert [(c.name, c.kind, c.stage, c.cause) for c in corpus.cases] == expected


def test_every_patch_still_applies_to_the_template(corpus: Corpus, tmp_path: Path) -> None:
    """Template drift: each diff must apply with git (the stale-patch case must not)."""
    root = create_example(tmp_path / "template").path
    setup = read_corpus_file(corpus.setup.patch).encode()
    run_git(["apply", "--check", "-"], root, input=setup)
    for case in corpus.cases:
        patch = case.read_patch().encode()
        if case.cause == "does-not-apply":
            with pytest.raises(GitError):
                run_git(["apply", "--check", "-"], root, input=patch)
        elif case.cause != "path-traversal":  # git refuses '..' itself
            run_git(["apply", "--check", "-"], root, input=patch)
