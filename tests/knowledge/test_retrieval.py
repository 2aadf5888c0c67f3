"""Retrieval by similarity: TF-IDF ranks the relevant document first, the empty corpus and ties
are handled, and the sentence model is chosen only when its extra is installed."""

from __future__ import annotations

import numpy as np
import pytest

from recloop.knowledge.retrieval import (
    Retriever,
    SentenceEmbedder,
    TfidfEmbedder,
    default_embedder,
    sentence_model_available,
)

CORPUS = [
    "Failure fr-1 structural/undefined-name: the ranking module used an undefined name",
    "Time decay with a half life of 2 days lowered ndcg@10 offline; old interactions matter",
    "Popularity debiasing raised coverage@10 but failed the novelty guardrail",
    "EASE with l2 = 250 shipped: +4% ndcg@10 over item co-occurrence candidates",
]


def test_the_relevant_document_ranks_first() -> None:
    retriever = Retriever(TfidfEmbedder()).fit(CORPUS)
    top = retriever.top("decay old interactions by half life", 2)
    assert top[0][0] == CORPUS[1] and len(top) == 2
    assert top[0][1] > top[1][1] >= 0.0
    assert retriever.top("coverage guardrail of popularity debiasing", 1)[0][0] == CORPUS[2]


def test_scores_are_cosines_in_corpus_order() -> None:
    retriever = Retriever(TfidfEmbedder()).fit(CORPUS)
    scores = retriever.scores(CORPUS[3])
    assert scores.shape == (4,) and scores[3] == pytest.approx(1.0)
    assert np.all((scores >= 0.0) & (scores <= 1.0 + 1e-12))
    assert int(np.argmax(scores)) == 3


def test_an_empty_corpus_returns_nothing() -> None:
    retriever = Retriever(TfidfEmbedder()).fit([])
    assert retriever.top("anything", 5) == []
    assert retriever.scores("anything").shape == (0,)


def test_a_corpus_of_stop_words_scores_zero_without_failing() -> None:
    retriever = Retriever(TfidfEmbedder()).fit(["the a of", "and"])
    assert retriever.top("the", 5) == [("the a of", 0.0), ("and", 0.0)]


def test_ties_keep_corpus_order_and_k_bounds_the_answer() -> None:
    docs = ["zeta one", "alpha two", "omega three", "alpha two"]
    retriever = Retriever(TfidfEmbedder()).fit(docs)
    tied = retriever.top("unrelated words", 3)
    assert [doc for doc, _ in tied] == docs[:3] and all(s == 0.0 for _, s in tied)
    twins = retriever.top("alpha", 2)
    assert [doc for doc, _ in twins] == ["alpha two", "alpha two"]
    assert twins[0][1] == twins[1][1] > 0.0
    assert retriever.top("alpha", 0) == [] and len(retriever.top("alpha", 99)) == 4


def test_default_embedder_matches_what_is_installed() -> None:
    embedder = default_embedder()
    expected = SentenceEmbedder if sentence_model_available() else TfidfEmbedder
    assert isinstance(embedder, expected)
    assert isinstance(Retriever().embedder, expected)
