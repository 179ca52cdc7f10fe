"""Retrieval within a scope (a country, document types): the dense candidates a scope admits
are found without Chroma's filtered search where a plain one serves (fast: hashing embedder)."""

from __future__ import annotations

import pytest

from assistant.core import build_assistant
from assistant.types import Scope
from ingest.pipeline import run_ingest


def _filtered(retriever, embedding, scope, k):
    """What Chroma's query filtered by the scope's metadata gives: the reference."""
    from assistant.retrieval import _where

    found = retriever.collection.query(
        query_embeddings=[embedding], n_results=k, where=_where(scope), include=["distances"]
    )
    return [(i, round(d, 5)) for i, d in zip(found["ids"][0], found["distances"][0], strict=True)]


@pytest.mark.parametrize("country", ["Wales", "England"])  # no English document: none admitted
@pytest.mark.parametrize("wide", [100, 1])
def test_the_dense_candidates_of_a_scope_are_those_a_filtered_query_gives(
    fake_settings, country, wide
):
    # wide=100 finds them among the nearest of all; wide=1 is too narrow to hold enough
    # admitted chunks, so the filtered query itself is made
    run_ingest(fake_settings, progress=False)
    retriever = build_assistant(fake_settings).retriever
    scope = Scope(country=country)
    admitted = sum(scope.admits(n.metadata) for n in retriever.nodes)
    k = retriever.settings.candidate_k
    for question in ("When do practitioners step back?", "Who applies to the inclusion fund?"):
        embedding = retriever.embed_query(question)
        found = retriever._dense_in_scope(embedding, scope, wide)
        expected = _filtered(retriever, embedding, scope, min(k, admitted)) if admitted else []
        assert [(i, round(d, 5)) for i, d in found] == expected
