"""The BM25 index and term statistics are saved per index generation and reloaded at start."""

from __future__ import annotations

from assistant import lexical_cache, store
from assistant.core import build_assistant
from assistant.glossary import CorpusForms
from ingest.pipeline import run_ingest


def _folders(settings, sentences: bool = False):
    """The cache folders of the chunk collections (or of the sentence collections)."""
    root = settings.store.path / "lexical" / f"v{lexical_cache.VERSION}"
    return sorted(
        f for f in root.iterdir() if (f.name == store.sentences_name(f.name[:-2])) == sentences
    )


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


def test_sentence_vectors_are_read_from_their_file_and_score_as_chromas_do(fake_settings):
    import numpy as np

    run_ingest(fake_settings, progress=False)
    first = build_assistant(fake_settings)
    (folder,) = _folders(fake_settings, sentences=True)
    assert (folder / "sentence_vectors.npy").is_file()
    retriever = first.retriever
    ids = [n.node_id for n in first.nodes]
    q = np.asarray(retriever.embed_query("When do practitioners step back?"), dtype=np.float32)
    q /= np.linalg.norm(q)
    from_file = retriever.sentence_similarities(ids, q)
    retriever.sentence_vectors = None  # the same question asked of Chroma
    from_chroma = retriever.sentence_similarities(ids, q)
    assert from_file.keys() == from_chroma.keys() and len(from_file) == len(ids)
    for chunk_id, sims in from_chroma.items():
        assert np.allclose(from_file[chunk_id], sims, atol=1e-5)


def test_a_second_start_never_asks_chroma_for_sentence_vectors(fake_settings, monkeypatch):
    run_ingest(fake_settings, progress=False)
    question = "When do practitioners step back?"
    expected = build_assistant(fake_settings).ask(question).text
    bot = build_assistant(fake_settings)

    def refuse(*args, **kwargs):
        raise AssertionError("sentence vectors asked of Chroma despite the file")

    monkeypatch.setattr(bot.retriever.sentences, "get", refuse)
    monkeypatch.setattr(bot.retriever.sentences, "count", refuse)
    assert bot.ask(question).text == expected


def test_a_damaged_sentence_vector_file_is_rebuilt(fake_settings):
    run_ingest(fake_settings, progress=False)
    build_assistant(fake_settings)
    (folder,) = _folders(fake_settings, sentences=True)
    (folder / "sentence_index.json").write_text("{not json")
    bot = build_assistant(fake_settings)
    assert bot.retriever.sentence_vectors is not None
    assert bot.ask("When do practitioners step back?").sources


def test_a_second_start_parses_only_the_chunks_a_question_needs(fake_settings, monkeypatch):
    run_ingest(fake_settings, progress=False)
    first = build_assistant(fake_settings)
    parsed: list[int] = []
    original = lexical_cache.LazyNodes._parse

    def counting(self, position):
        parsed.append(position)
        return original(self, position)

    monkeypatch.setattr(lexical_cache.LazyNodes, "_parse", counting)
    second = build_assistant(fake_settings)
    assert isinstance(second.nodes, lexical_cache.LazyNodes)
    assert parsed == []  # start-up reads no chunk: the chunk map says where each one is
    question = "When do practitioners step back?"
    assert second.ask(question).text == first.ask(question).text
    assert parsed  # and a question parses the chunks it retrieves, when it needs them
    # the map finds a chunk by id and by place exactly as the nodes themselves do
    node = first.nodes[1]
    assert second.retriever.node_by_id(node.node_id).text == node.text
    assert second.retriever.chunk_map == first.retriever.chunk_map


def test_an_ingest_leaves_the_caches_ready_for_the_first_start(fake_settings, monkeypatch):
    import assistant.retrieval
    from assistant import sentence_vectors

    run_ingest(fake_settings, progress=False)
    (folder,) = _folders(fake_settings)
    (sentence_folder,) = _folders(fake_settings, sentences=True)
    assert (folder / "retriever.json").is_file() and (folder / "chunks.json").is_file()
    assert (sentence_folder / "sentence_vectors.npy").is_file()

    def refuse(*args, **kwargs):
        raise AssertionError("the first start rebuilt what the ingest prepared")

    monkeypatch.setattr(assistant.retrieval, "corpus_forms", refuse)
    monkeypatch.setattr(sentence_vectors, "build", refuse)
    assert build_assistant(fake_settings).ask("When do practitioners step back?").sources


def test_chunks_read_from_several_threads_at_once_are_each_the_one_asked_for(tmp_path):
    import json
    import random
    import sys
    import threading

    from bm25s.utils.corpus import JsonlCorpus

    path = tmp_path / "corpus.jsonl"
    path.write_text("".join(json.dumps({"n": i, "pad": "x" * (i % 97)}) + "\n" for i in range(500)))
    corpus = lexical_cache.LockedCorpus(JsonlCorpus(str(path)))
    wrong: list[tuple[int, int]] = []

    def reader(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(3000):
            i = rng.randrange(500)
            got = corpus[i]["n"]
            if got != i:
                wrong.append((i, got))

    threads = [threading.Thread(target=reader, args=(seed,)) for seed in range(8)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, as a busy server would
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert wrong == []


def test_caches_of_an_older_layout_are_removed_when_a_new_one_is_saved(fake_settings):
    old = fake_settings.store.path / "lexical" / "v1" / "guidance_old"
    old.mkdir(parents=True)
    (old / "retriever.json").write_text("{}")
    run_ingest(fake_settings, progress=False)
    assert not old.parent.exists()
    assert _folders(fake_settings)  # the current layout's cache is there


def test_the_compounds_the_documents_hyphenate_are_read_back_from_the_cache(
    fake_settings, small_corpus
):
    (small_corpus / "step.txt").write_text(
        "Step guide\n\nWhen to step-in\n\nKnow when to step-in and when to step-back.\n",
        encoding="utf-8",
    )
    run_ingest(fake_settings, progress=False)
    first = build_assistant(fake_settings)
    second = build_assistant(fake_settings)  # from the cache
    assert {"stepin", "stepback"} <= second.vocab.compounds == first.vocab.compounds
    assert second.vocab.terms("when do I step in?") == first.vocab.terms("when do I step in?")
