"""The BM25 index and term statistics are saved per index generation and reloaded at start."""

from __future__ import annotations

from assistant import lexical_cache
from assistant.core import build_assistant
from assistant.glossary import CorpusForms
from ingest.pipeline import run_ingest


def _folders(settings):
    return sorted((settings.store.path / "lexical" / f"v{lexical_cache.VERSION}").iterdir())


def test_a_second_start_loads_bm25_from_the_cache_and_answers_the_same(fake_settings):
    run_ingest(fake_settings, progress=False)
    first = build_assistant(fake_settings)
    (folder,) = _folders(fake_settings)
    assert (folder / "retriever.json").is_file() and (folder / "vocabulary.json").is_file()
    second = build_assistant(fake_settings)
    question = "When do practitioners step back?"
    assert [p.chunk_id for p in first.retrieve(question)] == [
        p.chunk_id for p in second.retrieve(question)
    ]
    assert second.vocab.df == first.vocab.df and second.vocab.n_docs == first.vocab.n_docs
    assert second.ask(question).text == first.ask(question).text


def test_a_damaged_cache_is_rebuilt_not_fatal(fake_settings):
    run_ingest(fake_settings, progress=False)
    build_assistant(fake_settings)
    (folder,) = _folders(fake_settings)
    (folder / "params.index.json").write_text("{not json")
    bot = build_assistant(fake_settings)
    assert bot.retrieve("inclusion fund")
    assert (folder / "retriever.json").is_file()


def test_a_new_ingest_gets_its_own_cache_and_the_old_one_goes(fake_settings, small_corpus):
    run_ingest(fake_settings, progress=False)
    build_assistant(fake_settings)
    (old,) = _folders(fake_settings)
    (small_corpus / "new.txt").write_text("New note\n\nTransport to school is arranged.\n")
    run_ingest(fake_settings, progress=False)
    bot = build_assistant(fake_settings)
    (new,) = _folders(fake_settings)
    assert new != old and not old.exists()
    assert any("Transport" in p.text for p in bot.retrieve("transport to school"))


def test_a_second_start_reads_the_chunks_and_corpus_forms_from_the_cache_not_chroma(
    fake_settings, monkeypatch
):
    import assistant.core
    import assistant.retrieval
    from assistant import store

    run_ingest(fake_settings, progress=False)
    first = build_assistant(fake_settings)

    def refuse(*args, **kwargs):
        raise AssertionError("recomputed at start-up despite the cache")

    monkeypatch.setattr(store, "load_nodes", refuse)
    monkeypatch.setattr(assistant.retrieval, "corpus_forms", refuse)
    second = build_assistant(fake_settings)
    assert [(n.node_id, n.text, n.metadata) for n in second.nodes] == [
        (n.node_id, n.text, n.metadata) for n in first.nodes
    ]
    assert second.retriever.forms == first.retriever.forms
    # forms counted for another glossary are counted again, not trusted
    monkeypatch.setattr(assistant.core, "GLOSSARY_KEY", "another-glossary")
    other = CorpusForms(spellings={"x": "y"}, equivalents={"x": ("y",)})
    monkeypatch.setattr(assistant.retrieval, "corpus_forms", lambda texts: other)
    assert build_assistant(fake_settings).retriever.forms == other
