"""The non-LLM developer: a real commit through the path policy, or a stated cause."""

from typing import ClassVar

import pytest

from recloop.agents.develop import DEVELOP_CAUSES, CatalogueDeveloper, Developer
from recloop.agents.space import Space, float_param
from recloop.agents.transform import CodeView, Params, Transformation, TransformError
from recloop.agents.transforms import Catalogue
from recloop.knowledge.proposal import Family, Proposal
from recloop.workspace.git import AUTHOR_NAME, run_git
from recloop.workspace.patch import PathPolicy, apply_patch


class _Rogue(Transformation):
    """Writes where it is told to: the policy must stop it, or it fails on purpose."""

    family: ClassVar[Family] = "free-form"
    title: ClassVar[str] = "rogue"

    def __init__(self, target: str, fail: bool = False) -> None:
        self.target, self.fail = target, fail

    def space(self, view: CodeView) -> Space:
        return (float_param("x", 0.0, 1.0),)

    def applied(self, view: CodeView) -> bool:
        return False

    def files(self, view: CodeView) -> tuple[str, ...]:
        return (self.target,)

    def edit(self, view: CodeView, params: Params) -> dict[str, str]:
        if self.fail:
            raise TransformError("cannot do it")
        return {self.target: "overwritten\n", "movierec/ok.py": "X = 1\n"}

    def hypothesis(self, params: Params) -> str:
        return "rogue"


def _proposal(family: Family, **params: object) -> Proposal:
    return Proposal(family=family, hypothesis="h", parameters=params)  # type: ignore[arg-type]


def test_a_developed_change_is_one_recloop_commit_with_its_scope_and_sources(example) -> None:
    developer = CatalogueDeveloper(example.root, example.manifest)
    assert isinstance(developer, Developer)
    candidate = example.candidates.create("decay")
    result = developer.develop(_proposal("time-decay", half_life=4.0), candidate)
    assert result.ok and result.agent == "catalogue"
    assert result.commit == example.candidates.get("decay").head
    assert result.diff == example.candidates.diff("decay")
    before, after = result.sources["movierec/data.py"]
    assert before == (example.root / "movierec/data.py").read_text()
    assert after == (candidate.path / "movierec/data.py").read_text()
    assert result.scope is not None and result.scope.code_modules == ("movierec/data.py",)
    log = run_git(["log", "-1", "--format=%an%n%B", "recloop/decay"], example.root).decode()
    assert log.startswith(f"{AUTHOR_NAME}\nposition-based history decay (half_life=4.0)")
    assert "family: time-decay" in log
    assert run_git(["status", "--porcelain"], candidate.path) == b""


def test_the_diff_replays_on_a_fresh_candidate_as_the_cascade_applies_it(example) -> None:
    _, result = example.develop("diversity-rerank", {"strength": 0.25}, "mmr")
    assert result.ok
    replay = example.candidates.create("replay")
    policy = PathPolicy(example.manifest.paths.editable, example.manifest.paths.all_protected)
    applied = apply_patch(replay.path, result.diff, policy)
    assert tuple(sorted(applied.paths)) == result.files
    for path in result.files:
        assert (replay.path / path).read_text() == result.sources[path][1]


@pytest.mark.parametrize(
    ("proposal", "cause", "words"),
    [
        (_proposal("free-form"), "unknown-family", "no transformation of family"),
        (_proposal("ease-ranking"), "bad-parameters", "l2: missing"),
        (_proposal("ease-ranking", l2=1.0), "bad-parameters", "is not a float in [5, 5000]"),
        (_proposal("ease-ranking", l2=50.0, k=3), "bad-parameters", "k: not a parameter"),
    ],
)
def test_proposals_it_cannot_serve_are_refused_with_a_cause(
    example, proposal: Proposal, cause: str, words: str
) -> None:
    candidate = example.candidates.create("c")
    result = CatalogueDeveloper(example.root, example.manifest).develop(proposal, candidate)
    assert not result.ok and result.failure is not None
    assert result.failure.cause == cause and words in result.failure.message
    assert not example.candidates.get("c").changed


def test_a_transformation_whose_symbols_are_gone_does_not_apply(example) -> None:
    path = example.root / "movierec/candidates.py"
    path.write_text(path.read_text().replace("CooccurrenceIndex", "PairIndex"))
    run_git(["commit", "-qam", "rename the index"], example.root)
    candidate = example.candidates.create("c")
    developer = CatalogueDeveloper(example.root, example.manifest)
    result = developer.develop(_proposal("ease-ranking", l2=50.0), candidate)
    assert result.failure is not None and result.failure.cause == "not-applicable"
    assert result.failure.message == "CooccurrenceIndex is defined nowhere"


def test_the_path_policy_refuses_a_protected_write_and_nothing_is_written(example) -> None:
    candidate = example.candidates.create("rogue")
    developer = CatalogueDeveloper(
        example.root, example.manifest, Catalogue([_Rogue("tests/test_data.py")])
    )
    result = developer.develop(_proposal("free-form", x=0.5), candidate)
    assert result.failure is not None and result.failure.cause == "patch-rejected"
    assert "[protected-path] tests/test_data.py" in result.failure.message
    assert not (candidate.path / "movierec/ok.py").exists()
    assert run_git(["status", "--porcelain"], candidate.path) == b""


def test_a_transformation_that_cannot_edit_fails_with_its_reason(example) -> None:
    candidate = example.candidates.create("rogue")
    catalogue = Catalogue([_Rogue("movierec/x.py", fail=True)])
    developer = CatalogueDeveloper(example.root, example.manifest, catalogue)
    result = developer.develop(_proposal("free-form", x=0.5), candidate)
    assert result.failure is not None
    assert (result.failure.cause, result.failure.message) == ("edit-failed", "cannot do it")


def test_the_causes_are_listed_once() -> None:
    assert DEVELOP_CAUSES == (
        "unknown-family",
        "not-applicable",
        "bad-parameters",
        "edit-failed",
        "nothing-changed",
        "patch-rejected",
        "git-failed",
        "llm-failed",
        "budget-exhausted",
        "repair-exhausted",
        "steps-exhausted",
        "check-failed",
    )
