"""The ingest pipeline: corpus folder -> loaded documents -> chunks -> embeddings -> ChromaDB.

Incremental: each chunk records its document's content hash; an unchanged document's chunks
(embeddings included) are copied into the new generation without re-embedding, a changed one
is re-chunked, a removed one is left out. Every stored chunk and sentence also records the
hash of the exact text it embedded (``vector_key``): a changed document's chunks and
sentences whose text did not change take their old vectors, and a text met twice in one
ingest is embedded once, so an edit costs only the passages it touched. Atomic: the new
generation is built
in a fresh collection and made live by one manifest write at the end, so a crash or Ctrl-C
leaves the previous index live and complete.
"""

from __future__ import annotations

import hashlib
import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.schema import MetadataMode, TextNode
from llama_index.vector_stores.chroma import ChromaVectorStore
from tqdm import tqdm

from assistant import store
from assistant.backends import make_chroma_client, make_embed_model
from assistant.errors import DocumentError, IndexMissingError
from assistant.settings import Settings
from assistant.text import split_sentences
from ingest import recipe
from ingest.chunking import chunk_document
from ingest.loaders import LoadedDocument, doc_id_for, file_hash, load_document
from ingest.recipe import discover, index_recipe

logger = logging.getLogger(__name__)

_COPY_BATCH = 500
_EMBED_BATCH = 64


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    kept_previous: list[str] = field(default_factory=list)  # failed now, old version kept
    chunks: int = 0
    embedded: int = 0  # chunks of added or changed documents
    vectors_computed: int = 0  # texts (chunks and sentences) the model embedded this time
    vectors_reused: int = 0  # texts whose vector came from the previous index or this run
    collection: str = ""
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        lines = [
            f"added {len(self.added)}, updated {len(self.updated)}, unchanged {len(self.unchanged)}, "
            f"removed {len(self.removed)}, failed {len(self.failed)}; "
            f"{self.chunks} chunks in the index ({self.embedded} embedded now) in {self.seconds:.1f}s"
        ]
        if self.vectors_reused:
            lines.append(
                f"  {self.vectors_computed} texts embedded, {self.vectors_reused} unchanged "
                "passages and sentences kept their vectors"
            )
        for name, reason in self.failed:
            kept = (
                " (its previous version stays in the index)" if name in self.kept_previous else ""
            )
            lines.append(f"  FAILED {name}: {reason}{kept}")
        return "\n".join(lines)


def _old_hashes(collection: Any | None) -> dict[str, str]:
    if collection is None:
        return {}
    records = collection.get(include=["metadatas"])
    return {m["doc_id"]: m.get("content_hash", "") for m in records["metadatas"]}


def _copy_documents(old: Any, new: Any, doc_ids: list[str]) -> int:
    """Copy the records of doc_ids, embeddings included, from an old to a new collection."""
    copied = 0
    for start in range(0, len(doc_ids), 20):
        batch_ids = doc_ids[start : start + 20]
        records = old.get(
            where={"doc_id": {"$in": batch_ids}},
            include=["embeddings", "documents", "metadatas"],
        )
        for i in range(0, len(records["ids"]), _COPY_BATCH):
            new.add(
                ids=records["ids"][i : i + _COPY_BATCH],
                embeddings=records["embeddings"][i : i + _COPY_BATCH],
                documents=records["documents"][i : i + _COPY_BATCH],
                metadatas=records["metadatas"][i : i + _COPY_BATCH],
            )
        copied += len(records["ids"])
    return copied


def vector_key(salt: str, text: str) -> str:
    """Names the vector of exactly this text under this index recipe (model, chunker...)."""
    return hashlib.sha1(f"{salt}\n{text}".encode()).hexdigest()


def _sentence_records(nodes: list[TextNode], salt: str) -> list[tuple[str, str, dict]]:
    """(id, sentence, metadata) for every sentence the answerer may quote from each chunk."""
    records = []
    for node in nodes:
        for position, (text, _is_item) in enumerate(split_sentences(node.text)):
            meta = {
                "chunk_id": node.node_id,
                "doc_id": node.metadata["doc_id"],
                "position": position,
                "vector_key": vector_key(salt, text),
            }
            records.append((f"{node.node_id}#{position:03d}", text, meta))
    return records


class VectorReuse:
    """Vectors already computed, by ``vector_key``: those of the changed documents in the
    previous index, and every text embedded so far in this run."""

    def __init__(self, embed_model: BaseEmbedding):
        self.embed_model = embed_model
        self.known: dict[str, list[float]] = {}
        self.computed = 0
        self.reused = 0

    def remember(self, collection: Any, doc_ids: list[str], wanted: set[str]) -> None:
        """Learn the stored vectors of these documents that this ingest needs (``wanted``
        keys): after a change of model or chunker no key matches and nothing is held."""
        for start in range(0, len(doc_ids), 20):
            records = collection.get(
                where={"doc_id": {"$in": doc_ids[start : start + 20]}},
                include=["embeddings", "metadatas"],
            )
            for meta, vector in zip(records["metadatas"], records["embeddings"], strict=True):
                if meta.get("vector_key") in wanted:
                    self.known[meta["vector_key"]] = list(map(float, vector))

    def vectors(self, keys: list[str], texts: list[str]) -> list[list[float]]:
        """One vector per text: known ones looked up, the rest embedded once each."""
        todo: dict[str, str] = {}
        for key, text in zip(keys, texts, strict=True):
            if key not in self.known:
                todo.setdefault(key, text)
        if todo:
            fresh = self.embed_model.get_text_embedding_batch(list(todo.values()))
            self.known.update(zip(todo, fresh, strict=True))
        self.computed += len(todo)
        self.reused += len(keys) - len(todo)
        return [self.known[key] for key in keys]


def _stamp_vector_keys(nodes: list[TextNode], salt: str) -> None:
    """Record in each chunk the key of the text it is embedded from (kept out of that text)."""
    for node in nodes:
        node.metadata["vector_key"] = vector_key(salt, node.get_content(MetadataMode.EMBED))
        node.excluded_embed_metadata_keys.append("vector_key")
        node.excluded_llm_metadata_keys.append("vector_key")


def _embed_and_add(
    nodes: list[TextNode],
    records: list[tuple[str, str, dict]],
    vectors: VectorReuse,
    chunks: Any,
    sentences: Any,
    progress: bool,
) -> None:
    """Embed chunks (with their context header, keys stamped) and their sentence ``records``,
    and store both."""
    vector_store = ChromaVectorStore(chroma_collection=chunks)
    bar = tqdm(
        total=len(nodes) + len(records),
        desc="embedding",
        unit="text",
        disable=not progress,
        file=sys.stderr,
    )
    # Texts of similar length share a batch: a batch is padded to its longest text, so mixing a
    # 10-word sentence with a 250-word chunk makes the short one cost as much as the long one.
    nodes = sorted(nodes, key=lambda n: len(n.get_content(metadata_mode=MetadataMode.EMBED)))
    records = sorted(records, key=lambda r: len(r[1]))
    for start in range(0, len(nodes), _EMBED_BATCH):
        batch = nodes[start : start + _EMBED_BATCH]
        texts = [n.get_content(metadata_mode=MetadataMode.EMBED) for n in batch]
        keys = [n.metadata["vector_key"] for n in batch]
        for node, vector in zip(batch, vectors.vectors(keys, texts), strict=True):
            node.embedding = vector
        vector_store.add(batch)
        bar.update(len(batch))
    _add_sentences(records, vectors, sentences, bar)
    bar.close()


def _add_sentences(records: list, vectors: VectorReuse, sentences: Any, bar=None) -> None:
    for start in range(0, len(records), _EMBED_BATCH * 2):
        batch = records[start : start + _EMBED_BATCH * 2]
        sentences.add(
            ids=[r[0] for r in batch],
            documents=[r[1] for r in batch],
            metadatas=[r[2] for r in batch],
            embeddings=vectors.vectors([r[2]["vector_key"] for r in batch], [r[1] for r in batch]),
        )
        if bar is not None:
            bar.update(len(batch))


def run_ingest(
    settings: Settings,
    corpus_dir: Path | None = None,
    rebuild: bool = False,
    progress: bool = True,
    embed_model: BaseEmbedding | None = None,
) -> IngestReport:
    """Bring the index in line with the corpus folder; returns what happened."""
    started = time.perf_counter()
    corpus_dir = Path(corpus_dir or settings.corpus_dir)
    report = IngestReport()
    client = make_chroma_client(settings.store)
    prefix = settings.store.collection_prefix
    for name in store.drop_stale_collections(client, prefix):
        logger.info("dropped %s, left by an interrupted ingest", name)
    try:
        old = store.get_active_collection(client, prefix)
    except IndexMissingError:
        old = None  # the first ingest into this store
    old_hashes = _old_hashes(old)

    salt = index_recipe(settings)
    files = discover(corpus_dir, settings)
    loaded: list[LoadedDocument] = []
    keep_ids: list[str] = []
    seen: set[str] = set()
    root = corpus_dir.resolve()
    owners: dict[str, str] = {}
    for path in tqdm(
        files, desc="reading documents", unit="file", disable=not progress, file=sys.stderr
    ):
        doc_id = doc_id_for(path, corpus_dir)
        name = path.relative_to(corpus_dir).as_posix()
        if not path.resolve().is_relative_to(root):
            report.failed.append(
                (
                    name,
                    "a link to a file outside the corpus folder: copy the "
                    "file into the folder instead (links out are not followed)",
                )
            )
            continue
        if doc_id in owners:
            report.failed.append(
                (
                    name,
                    f"its id {doc_id!r} is already taken by {owners[doc_id]} "
                    "(names differ only in case or punctuation): rename one",
                )
            )
            continue
        owners[doc_id] = name
        seen.add(doc_id)
        if not rebuild and doc_id in old_hashes and file_hash(path, salt) == old_hashes[doc_id]:
            report.unchanged.append(doc_id)
            keep_ids.append(doc_id)
            continue
        try:
            doc = load_document(path, corpus_dir, settings.ingest.max_file_mb, salt)
        except DocumentError as e:
            report.failed.append((name, str(e)))
            if doc_id in old_hashes:  # lose nothing: keep the last good version
                report.kept_previous.append(name)
                keep_ids.append(doc_id)
            continue
        except Exception as e:  # a loader bug must not stop the rest of the corpus
            logger.exception("unexpected error reading %s", name)
            report.failed.append((name, f"unexpected error ({type(e).__name__}: {e})"))
            if doc_id in old_hashes:
                report.kept_previous.append(name)
                keep_ids.append(doc_id)
            continue
        loaded.append(doc)
        (report.updated if doc_id in old_hashes else report.added).append(doc_id)
    report.removed = sorted(set(old_hashes) - seen)

    if old is not None and not report.changed and not rebuild:
        report.collection = old.name
        report.chunks = old.count()
        recipe.remember(settings, old.name, old_hashes, report.chunks)
        report.seconds = time.perf_counter() - started
        return report

    nodes: list[TextNode] = []
    failed_now: set[str] = set()  # read, but nothing to index
    for doc in loaded:
        doc_nodes = chunk_document(doc, settings.ingest.max_words)
        if not doc_nodes:
            failed_now.add(doc.doc_id)
            report.failed.append((doc.metadata["path"], "no text to index after chunking"))
            bucket = report.updated if doc.doc_id in report.updated else report.added
            bucket.remove(doc.doc_id)
            continue
        nodes.extend(doc_nodes)

    vectors = VectorReuse(embed_model or make_embed_model(settings.embedding))
    recipe.forget(settings)  # the index is about to change: no quick "unchanged" until done
    new = store.create_collection(client, prefix, settings.store)
    try:
        new_sentences = store.create_sentence_collection(client, new.name)
        old_sentences = store.get_sentence_collection(client, old.name) if old else None
        _stamp_vector_keys(nodes, salt)
        records = _sentence_records(nodes, salt)
        if old is not None and report.updated and not rebuild:
            wanted = {n.metadata["vector_key"] for n in nodes}
            wanted |= {meta["vector_key"] for _, _, meta in records}
            for collection in (old, old_sentences):
                if collection is not None:
                    vectors.remember(collection, report.updated, wanted)
        copied = 0
        if old is not None and keep_ids:
            copied = _copy_documents(old, new, keep_ids)
            if old_sentences is not None:
                _copy_documents(old_sentences, new_sentences, keep_ids)
            else:  # an index from before sentence vectors: embed the kept chunks' sentences
                kept = _sentence_records(store.load_nodes(new), salt)
                _add_sentences(kept, vectors, new_sentences)
        _embed_and_add(nodes, records, vectors, new, new_sentences, progress)
        store.switch_active(client, prefix, new.name)
    except BaseException:
        # Interrupted or failed: the previous index stays live; drop the half-built one.
        store.drop_generation(client, new.name)
        raise
    if old is not None:
        # Readers holding the old generation switch within seconds (the app re-checks the
        # manifest every few seconds, and retries once on a vanished collection): give them
        # that long before its files go.
        time.sleep(settings.store.switch_grace_seconds)
        store.drop_generation(client, old.name)
    if not settings.store.url:
        store.reclaim_disk(settings.store.path)
    report.collection = new.name
    report.chunks = copied + len(nodes)
    live = {doc_id: old_hashes[doc_id] for doc_id in keep_ids}
    live |= {doc.doc_id: doc.content_hash for doc in loaded if doc.doc_id not in failed_now}
    recipe.remember(settings, new.name, live, report.chunks)
    _prepare_caches(settings, vectors.embed_model, client)
    report.embedded = len(nodes)
    report.vectors_computed, report.vectors_reused = vectors.computed, vectors.reused
    report.seconds = time.perf_counter() - started
    return report


def _prepare_caches(settings: Settings, embed_model: BaseEmbedding, client: Any) -> None:
    """Do the first start's work now: the BM25 index, the chunk map and the sentence-vector
    file of the new generation are built and saved, so the app's first start after an ingest
    loads them instead (at 100,000 chunks, minutes instead of seconds). Never fatal: the app
    builds whatever is missing itself."""
    if store.lexical_cache_root(settings.store) is None:
        return
    from assistant.core import Assistant

    extractive = settings.model_copy(
        update={"answer": settings.answer.model_copy(update={"backend": "extractive"})}
    )
    try:
        Assistant(extractive, embed_model, client)
    except Exception as e:  # noqa: BLE001 - the index itself is complete and live
        logger.warning("search caches not prepared (the app will build them): %s", e)
