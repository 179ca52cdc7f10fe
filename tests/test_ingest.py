"""Incremental, atomic ingest into a real ChromaDB on tmp_path (fake embedder: fast)."""

from __future__ import annotations

import pytest
from llama_index.core.schema import MetadataMode

from assistant import store
from assistant.backends import HashEmbedding, make_chroma_client
from ingest.pipeline import run_ingest


class CountingEmbedding(HashEmbedding):
    """Counts the texts it embeds, to prove what was (not) re-embedded."""

    calls: int = 0

    def _get_text_embeddings(self, texts):
        object.__setattr__(self, "calls", self.calls + len(texts))
        return [self._vector(t) for t in texts]


def _doc_ids(settings):
    client = make_chroma_client(settings.store)
    coll = store.get_active_collection(client, settings.store.collection_prefix)
    return {m["doc_id"] for m in coll.get(include=["metadatas"])["metadatas"]}, coll


def test_first_ingest_adds_every_document(fake_settings):
    report = run_ingest(fake_settings, progress=False)
    assert sorted(report.added) == ["england-note.txt", "wales-guide.md"]
    assert report.chunks > 0 and not report.failed
    ids, _ = _doc_ids(fake_settings)
    assert ids == {"england-note.txt", "wales-guide.md"}


def test_unchanged_documents_are_not_re_embedded(fake_settings):
    run_ingest(fake_settings, progress=False)
    embedder = CountingEmbedding()
    report = run_ingest(fake_settings, progress=False, embed_model=embedder)
    assert embedder.calls == 0
    assert sorted(report.unchanged) == ["england-note.txt", "wales-guide.md"]
    assert report.chunks > 0


def test_a_changed_document_replaces_its_chunks_and_only_it_is_embedded(
    fake_settings, small_corpus
):
    run_ingest(fake_settings, progress=False)
    (small_corpus / "england-note.txt").write_text(
        "England note\n\nFunding\n\nThe new funding rule is described here for all settings.\n"
    )
    embedder = CountingEmbedding()
    report = run_ingest(fake_settings, progress=False, embed_model=embedder)
    assert report.updated == ["england-note.txt"] and report.unchanged == ["wales-guide.md"]
    _, coll = _doc_ids(fake_settings)
    texts = coll.get(where={"doc_id": "england-note.txt"}, include=["documents"])["documents"]
    assert any("new funding rule" in t for t in texts)
    assert not any("inclusion fund" in t for t in texts)
    client = make_chroma_client(fake_settings.store)
    sentences = store.get_sentence_collection(client, coll.name)
    n_sentences = len(sentences.get(where={"doc_id": "england-note.txt"})["ids"])
    assert n_sentences > 0
    assert embedder.calls == len(texts) + n_sentences  # chunks and their sentences, nothing else


def test_an_edit_re_embeds_only_the_passages_and_sentences_it_changed(fake_settings, small_corpus):
    run_ingest(fake_settings, progress=False)
    guide = small_corpus / "wales-guide.md"
    guide.write_text(
        guide.read_text(encoding="utf-8").replace("- reviewing progress", "- reviewing plans"),
        encoding="utf-8",
    )
    embedder = CountingEmbedding()
    report = run_ingest(fake_settings, progress=False, embed_model=embedder)
    assert report.updated == ["wales-guide.md"]
    # The "Training" chunk changed (1 chunk, 1 new item sentence); "Stepping back" did not.
    assert embedder.calls == 2
    assert report.vectors_computed == 2 and report.vectors_reused > 0
    _, coll = _doc_ids(fake_settings)
    fresh = HashEmbedding()  # each reused vector is the one of its own text
    for node in store.load_nodes(coll):
        if node.metadata["doc_id"] != "wales-guide.md":
            continue
        stored = coll.get(ids=[node.node_id], include=["embeddings"])["embeddings"][0]
        expected = fresh.get_text_embedding(node.get_content(metadata_mode=MetadataMode.EMBED))
        assert max(abs(a - b) for a, b in zip(stored, expected, strict=True)) < 1e-6


def test_a_removed_document_disappears_from_the_index(fake_settings, small_corpus):
    run_ingest(fake_settings, progress=False)
    (small_corpus / "england-note.txt").unlink()
    report = run_ingest(fake_settings, progress=False)
    assert report.removed == ["england-note.txt"]
    ids, _ = _doc_ids(fake_settings)
    assert ids == {"wales-guide.md"}


def test_a_metadata_change_re_ingests_the_document(fake_settings, small_corpus):
    run_ingest(fake_settings, progress=False)
    (small_corpus / "england-note.txt.meta.yaml").write_text("jurisdiction: England\n")
    report = run_ingest(fake_settings, progress=False)
    assert report.updated == ["england-note.txt"]


@pytest.mark.parametrize(
    "name, content",
    [
        ("empty.md", b""),
        ("binary.txt", b"\x00\xff\x00\xfe" * 100),
        ("latin1.txt", "Caf\u00e9 na\u00efve".encode("latin-1")),
        ("corrupt.pdf", b"%PDF-1.7\n\x00garbage"),
        ("corrupt.docx", b"PK\x03\x04 not really a zip"),
    ],
)
def test_a_bad_file_is_reported_and_skipped_while_the_rest_ingests(
    fake_settings, small_corpus, name, content
):
    (small_corpus / name).write_bytes(content)
    report = run_ingest(fake_settings, progress=False)
    assert [f for f, _ in report.failed] == [name]
    assert "FAILED " + name in report.summary()
    assert sorted(report.added) == ["england-note.txt", "wales-guide.md"]


def test_a_document_that_turns_corrupt_keeps_its_previous_version(fake_settings, small_corpus):
    run_ingest(fake_settings, progress=False)
    (small_corpus / "england-note.txt").write_bytes(b"\x00\x00binary now")
    report = run_ingest(fake_settings, progress=False)
    assert report.kept_previous == ["england-note.txt"]
    ids, _ = _doc_ids(fake_settings)
    assert "england-note.txt" in ids


def test_an_interrupted_ingest_leaves_the_previous_index_live(fake_settings, small_corpus):
    run_ingest(fake_settings, progress=False)
    before_ids, before = _doc_ids(fake_settings)
    count_before = before.count()
    (small_corpus / "new.md").write_text("# New\n\nBrand new guidance text.\n")

    class Interrupting(HashEmbedding):
        def _get_text_embeddings(self, texts):
            raise KeyboardInterrupt  # Ctrl-C in the middle of embedding

    with pytest.raises(KeyboardInterrupt):
        run_ingest(fake_settings, progress=False, embed_model=Interrupting())
    after_ids, after = _doc_ids(fake_settings)
    assert after.name == before.name and after.count() == count_before
    assert after_ids == before_ids
    client = make_chroma_client(fake_settings.store)
    names = [c.name for c in client.list_collections()]
    assert names.count(before.name) == 1
    assert sorted(n for n in names if n.startswith("guidance_2")) == [
        before.name,
        before.name + "_s",
    ]
    # and the next run picks the new file up
    report = run_ingest(fake_settings, progress=False)
    assert report.added == ["new.md"]


def test_the_cli_exit_status_says_whether_anything_failed(
    fake_settings, small_corpus, monkeypatch, tmp_path, capsys
):
    from ingest.__main__ import main

    monkeypatch.setenv("ASSISTANT_EMBEDDING__BACKEND", "fake")
    monkeypatch.setenv("ASSISTANT_STORE__PATH", str(tmp_path / "cli-chroma"))
    assert main([str(small_corpus), "--quiet"]) == 0
    (small_corpus / "bad.txt").write_bytes(b"")
    assert main([str(small_corpus), "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "FAILED bad.txt: empty file" in out


def test_an_unchanged_corpus_is_recognised_without_opening_the_index(fake_settings, small_corpus):
    from ingest import recipe

    assert recipe.unchanged_since_last(fake_settings, small_corpus) is None  # never ingested
    report = run_ingest(fake_settings, progress=False)
    same = recipe.unchanged_since_last(fake_settings, small_corpus)
    assert same is not None and same["chunks"] == report.chunks
    assert sorted(same["hashes"]) == ["england-note.txt", "wales-guide.md"]
    note = small_corpus / "england-note.txt"
    note.write_text(note.read_text() + "\nA new line.\n")
    assert recipe.unchanged_since_last(fake_settings, small_corpus) is None  # edited
    run_ingest(fake_settings, progress=False)
    assert recipe.unchanged_since_last(fake_settings, small_corpus) is not None
    (small_corpus / "extra.txt").write_text("Extra\n\nSomething new.\n")
    assert recipe.unchanged_since_last(fake_settings, small_corpus) is None  # added
    run_ingest(fake_settings, progress=False)
    (small_corpus / "extra.txt").unlink()
    assert recipe.unchanged_since_last(fake_settings, small_corpus) is None  # removed


def test_an_ingest_that_fails_midway_leaves_no_record_so_the_next_run_checks_everything(
    fake_settings, small_corpus, monkeypatch
):
    from ingest import recipe

    run_ingest(fake_settings, progress=False)
    guide = small_corpus / "wales-guide.md"
    guide.write_text(guide.read_text(encoding="utf-8") + "\nMore text.\n", encoding="utf-8")

    def crash(*args, **kwargs):
        raise RuntimeError("power cut")

    monkeypatch.setattr(store, "switch_active", crash)
    with pytest.raises(RuntimeError):
        run_ingest(fake_settings, progress=False)
    assert recipe.record_path(fake_settings).exists() is False
    assert recipe.unchanged_since_last(fake_settings, small_corpus) is None


def test_the_cli_says_an_unchanged_corpus_is_unchanged(fake_settings, small_corpus, tmp_path):
    import subprocess
    import sys

    import yaml

    profile = tmp_path / "profile.yaml"
    profile.write_text(yaml.safe_dump(fake_settings.model_dump(mode="json")))
    run_ingest(fake_settings, progress=False)
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "ingest", "--quiet", "--settings", str(profile)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "unchanged 2" in out.stdout and "0 embedded now" in out.stdout
    assert "llama_index" not in out.stderr and "chromadb" not in out.stderr  # never loaded
