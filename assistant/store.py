"""The index in ChromaDB: which collection is live, and reading its chunks back as nodes.

Ingest builds each new index into a fresh collection and only then points the manifest at
it, so a crash or Ctrl-C mid-ingest leaves the previous index live and complete. The
manifest is a tiny Chroma collection whose metadata names the live collection, so the same
switch-over works for the embedded store and for a `chroma run` server.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from llama_index.core.schema import TextNode
from llama_index.core.vector_stores.utils import metadata_dict_to_node

from assistant.errors import IndexMissingError

logger = logging.getLogger(__name__)


def _manifest(client: Any, prefix: str) -> Any:
    return client.get_or_create_collection(f"{prefix}__manifest", embedding_function=None)


def active_collection_name(client: Any, prefix: str) -> str | None:
    """Name of the live collection, or None before the first ingest."""
    meta = _manifest(client, prefix).metadata or {}
    name = meta.get("active")
    return str(name) if name else None


def get_active_collection(client: Any, prefix: str, location: str = "") -> Any:
    """The live collection; raises IndexMissingError with the fix when there is none."""
    name = active_collection_name(client, prefix)
    if name:
        try:
            return client.get_collection(name, embedding_function=None)
        except Exception:  # the manifest names a collection that is gone
            logger.warning("manifest names missing collection %s", name)
    where = f" in {location}" if location else ""
    raise IndexMissingError(
        f"No index{where}: run `python -m ingest` (or `make run`) to build it from corpus/."
    )


def lexical_cache_root(settings: Any) -> Any:
    """Where BM25 and term statistics are saved: beside the embedded store, or the folder named
    by ``lexical_cache_dir`` (needed to cache with a Chroma server); None: build at each start."""
    if settings.lexical_cache_dir is not None:
        return settings.lexical_cache_dir
    return None if settings.url else settings.path / "lexical"


def hnsw_metadata(settings: Any) -> dict[str, Any]:
    """Collection metadata: cosine distance and the HNSW search breadth of StoreSettings."""
    return {
        "hnsw:space": "cosine",
        "hnsw:search_ef": settings.hnsw_search_ef,
        "hnsw:construction_ef": settings.hnsw_construction_ef,
        "hnsw:M": settings.hnsw_m,
    }


def create_collection(client: Any, prefix: str, settings: Any) -> Any:
    """A new, empty collection for the next index generation (``settings``: StoreSettings)."""
    name = f"{prefix}_{time.strftime('%Y%m%d%H%M%S')}_{time.time_ns() % 1_000_000:06d}"
    return client.create_collection(name, embedding_function=None, metadata=hnsw_metadata(settings))


def widen_search(collection: Any, settings: Any) -> None:
    """Raise the search breadth of a collection made before the setting (an older index)."""
    try:
        current = (collection.configuration_json or {}).get("hnsw", {}).get("ef_search", 0)
        if current and current < settings.hnsw_search_ef:
            collection.modify(configuration={"hnsw": {"ef_search": settings.hnsw_search_ef}})
    except Exception as e:  # a read-only store or server still answers, a little less exactly
        logger.info("could not widen HNSW search of %s: %s", collection.name, e)


def sentences_name(chunks_name: str) -> str:
    """The collection holding the sentence vectors of a chunk collection."""
    return f"{chunks_name}_s"


def create_sentence_collection(client: Any, chunks_name: str) -> Any:
    """The sentence vectors of a generation. They are only ever fetched by chunk id, never
    searched by similarity, so their HNSW graph keeps Chroma's default (cheaper) build
    settings: the near-exact settings of the chunk collection made ingest a third slower
    on sentences (34 s against 23 s for the 8,900 sentences of the corpus)."""
    return client.create_collection(
        sentences_name(chunks_name), embedding_function=None, metadata={"hnsw:space": "cosine"}
    )


def get_sentence_collection(client: Any, chunks_name: str) -> Any | None:
    """The sentence vectors of a generation, or None for an index built without them."""
    try:
        return client.get_collection(sentences_name(chunks_name), embedding_function=None)
    except Exception as e:
        logger.warning(
            "no sentence vectors for %s (%s): sentence re-ranking is off and answers embed "
            "their sentences at query time; run `python -m ingest --rebuild` to restore them",
            chunks_name,
            e,
        )
        return None


def is_missing_collection(error: BaseException) -> bool:
    """True when a Chroma call failed because its collection was deleted meanwhile (an
    ingest dropped the generation a reader still held)."""
    try:
        from chromadb.errors import NotFoundError
    except ImportError:  # pragma: no cover - a core dependency
        return False
    if isinstance(error, NotFoundError):
        return True
    text = str(error).lower()
    # mid-deletion, Chroma can report the collection's segments as missing instead
    return ("does not exist" in text and "collection" in text) or (
        "missing" in text and "segment" in text
    )


def drop_generation(client: Any, chunks_name: str) -> None:
    """Delete a generation's chunk and sentence collections (whatever of them exists)."""
    for name in (chunks_name, sentences_name(chunks_name)):
        try:
            client.delete_collection(name)
        except Exception:
            logger.debug("no collection %s to drop", name)


def switch_active(client: Any, prefix: str, name: str) -> None:
    """Make ``name`` the live collection (one metadata write)."""
    _manifest(client, prefix).modify(
        metadata={"active": name, "switched_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
    )


def reclaim_disk(path: Any) -> None:
    """Compact an embedded store at ``path`` after a generation was dropped (see
    assistant/vacuum.py). It runs in a child process: Chroma links its own SQLite, and two
    SQLite libraries opening one file in one process break each other's locks (corrupting
    the file), whereas across processes SQLite's locking is safe."""
    import subprocess
    import sys

    try:
        proc = subprocess.run(
            [sys.executable, "-m", "assistant.vacuum", str(path)],
            capture_output=True,
            text=True,
            timeout=600,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        logger.warning("could not compact %s (%s): it will be tried at the next ingest", path, e)
        return
    if proc.returncode != 0:
        logger.warning("could not compact %s: %s", path, proc.stderr.strip()[-500:])
    elif proc.stdout.strip():
        logger.info("%s", proc.stdout.strip())


def drop_stale_collections(client: Any, prefix: str) -> list[str]:
    """Delete this project's collections other than the live one (left by interrupted runs,
    or the previous generation kept for readers during the last switch-over)."""
    active = active_collection_name(client, prefix)
    keep = {active, sentences_name(active)} if active else set()
    dropped = []
    for coll in client.list_collections():
        name = coll if isinstance(coll, str) else coll.name
        if name.startswith(f"{prefix}_2") and name not in keep:
            client.delete_collection(name)
            dropped.append(name)
    return dropped


# Records per Chroma call: bounded reads. A 100,000-chunk start failed before reads were
# paged (its error was not kept) and succeeded after.
_READ_PAGE = 5000


def read_all(collection: Any, include_embeddings: bool = False, where: dict | None = None) -> dict:
    """Every record of the collection (ids, documents, metadatas[, embeddings]), read a page
    at a time."""
    include = ["documents", "metadatas"] + (["embeddings"] if include_embeddings else [])
    out: dict[str, list] = {"ids": [], "documents": [], "metadatas": [], "embeddings": []}
    offset = 0
    while True:
        page = collection.get(where=where, include=include, limit=_READ_PAGE, offset=offset)
        for key in out:
            values = page.get(key)
            if values is not None:
                out[key].extend(values)
        if len(page["ids"]) < _READ_PAGE:
            break
        offset += _READ_PAGE
    if not include_embeddings:
        del out["embeddings"]
    return out


def load_nodes(collection: Any) -> list[TextNode]:
    """All chunks of the collection as LlamaIndex nodes, in document order."""
    records = read_all(collection)
    nodes: list[TextNode] = []
    for node_id, text, meta in zip(
        records["ids"], records["documents"], records["metadatas"], strict=True
    ):
        node = metadata_dict_to_node(meta, text=text)
        node.id_ = node_id
        nodes.append(node)
    nodes.sort(key=lambda n: (n.metadata.get("doc_id", ""), n.metadata.get("chunk_index", 0)))
    return nodes
