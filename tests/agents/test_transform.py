"""The checkout view and the catalogue: symbols located through the repository map."""

import pytest

from recloop.agents.source import PythonSource
from recloop.agents.transform import CodeView, TransformError, module_alias
from recloop.agents.transforms import Catalogue, ConfigSearch, EaseCandidates, default_catalogue
from recloop.knowledge.proposal import FAMILIES


def test_symbols_are_located_by_the_repository_map(example) -> None:
    view = CodeView(example.root, example.manifest)
    assert view.locate("CooccurrenceIndex.build") == "movierec/candidates.py"
    assert view.module_name("movierec/candidates.py") == "movierec.candidates"
    assert view.read("nothing.py") is None
    with pytest.raises(TransformError, match="defined nowhere"):
        view.locate("Nothing")
    (example.root / "movierec/extra.py").write_text("def prepare():\n    pass\n")
    with pytest.raises(TransformError, match=r"in 2 files \(movierec/data.py, movierec/extra.py\)"):
        CodeView(example.root, example.manifest).locate("prepare")


def test_module_aliases() -> None:
    source = PythonSource("from movierec import candidates as c\nimport movierec.rerank\n")
    assert module_alias(source, "movierec.candidates") == "c"
    assert module_alias(source, "movierec.rerank") == "movierec.rerank"
    assert module_alias(source, "movierec.data") is None


def test_the_default_catalogue_has_one_transformation_per_known_family() -> None:
    catalogue = default_catalogue()
    assert len(catalogue) == 7 and set(catalogue.families) <= set(FAMILIES)
    assert "free-form" not in catalogue
    with pytest.raises(ValueError, match="two transformations of family"):
        Catalogue([EaseCandidates(), EaseCandidates()])
    assert isinstance(catalogue.get(ConfigSearch.family), ConfigSearch)
