"""The BM25 index, the term statistics and the corpus forms of the field's terms of an index
generation, saved beside the store; the chunks themselves are read back from the BM25 index.

Building them from every chunk at start-up costs about 1.8 s on the 10-document corpus and
grows with it; loading them costs a fraction of that. Each
ingest makes a new collection generation with a new name, so a cache is simply keyed by that
name and is never stale; the folders of generations that no longer exist are removed.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import logging
import os
import re
import shutil
import threading
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

VERSION = 14  # bump when what is saved (tokenisation, stemming, fields, defined terms) changes


def cache_dir(root: Path, collection_name: str) -> Path:
    return root / f"v{VERSION}" / collection_name


def load_bm25(folder: Path, expected_docs: int) -> Any | None:
    """The saved bm25s index, or None when there is none (or it does not match)."""
    if not (folder / "retriever.json").is_file():
        return None
    try:
        from llama_index.retrievers.bm25 import BM25Retriever

        # mmap: the chunks stay in the file and are parsed when a question needs them
        retriever = BM25Retriever.from_persist_dir(str(folder), mmap=True)
        retriever.bm25.corpus = LockedCorpus(retriever.bm25.corpus)
        if int(retriever.bm25.scores.get("num_docs", -1)) != expected_docs:
            return None
        return retriever.bm25
    except Exception as e:  # a damaged cache is rebuilt, never fatal
        logger.warning("BM25 cache in %s unreadable (%s): rebuilding it", folder, e)
        return None


class LockedCorpus(Sequence):
    """A bm25s ``JsonlCorpus`` safe to read from several threads. Reading a line is a seek
    then a read on one shared memory map, so two questions answered at once (the app's
    queue runs several) could each get the other's chunk; here one read happens at a time."""

    def __init__(self, corpus: Any):
        self._corpus = corpus
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._corpus)

    def __getitem__(self, position: Any) -> Any:
        if isinstance(position, slice):
            return [self[i] for i in range(*position.indices(len(self)))]
        with self._lock:
            return self._corpus[int(position)]


class LazyNodes(Sequence):
    """The chunks a saved BM25 index was built from, as LlamaIndex nodes in index order (the
    order ``store.load_nodes`` gave them), each parsed from the memory-mapped file only when
    asked for. At 100,000 chunks holding them all as nodes took about 1 GB and 10 s."""

    def __init__(self, corpus: Any, cached: int = 4096):
        self._corpus = corpus
        self._node = functools.lru_cache(maxsize=cached)(self._parse)

    def _parse(self, position: int) -> Any:
        from llama_index.core.vector_stores.utils import metadata_dict_to_node

        record = self._corpus[position]
        node = metadata_dict_to_node(record)
        node.id_ = record["node_id"]
        return node

    def __len__(self) -> int:
        return len(self._corpus)

    def __getitem__(self, position: Any) -> Any:
        if isinstance(position, slice):
            return [self._node(i) for i in range(*position.indices(len(self)))]
        if position < 0:
            position += len(self)
        if not 0 <= position < len(self):
            raise IndexError(position)
        return self._node(int(position))


def nodes_of(bm25: Any) -> LazyNodes:
    """The chunks of a saved BM25 index (see ``LazyNodes``)."""
    return LazyNodes(bm25.corpus)


def save(
    folder: Path,
    retriever: Any,
    vocabulary: dict[str, Any],
    forms: dict[str, Any],
    chunk_map: dict[str, Any],
) -> None:
    """Save the BM25 retriever, the term statistics, the corpus forms and the chunk map,
    atomically (a temporary folder renamed), so a reader never loads half a cache."""
    tmp = folder.with_name(folder.name + f".tmp-{os.getpid()}")
    try:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if not isinstance(retriever.corpus, list):  # a mapped corpus: written out afresh
            retriever.corpus = [retriever.corpus[i] for i in range(len(retriever.corpus))]
        with contextlib.redirect_stderr(io.StringIO()):  # bm25s draws a progress bar
            retriever.persist(str(tmp))
        (tmp / "vocabulary.json").write_text(json.dumps(vocabulary), encoding="utf-8")
        (tmp / "forms.json").write_text(json.dumps(forms), encoding="utf-8")
        (tmp / "chunks.json").write_text(json.dumps(chunk_map), encoding="utf-8")
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)
    except OSError as e:  # a read-only store still answers, it just starts slower
        logger.warning("could not save the BM25 cache in %s: %s", folder, e)
        shutil.rmtree(tmp, ignore_errors=True)


def load_vocabulary(folder: Path) -> dict[str, Any] | None:
    path = folder / "vocabulary.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {
            "n_docs": int(data["n_docs"]),
            "df": Counter(data["df"]),
            "compounds": [str(c) for c in data.get("compounds", [])],
        }
    except (OSError, ValueError, KeyError) as e:
        logger.warning("vocabulary cache in %s unreadable (%s): rebuilding it", folder, e)
        return None


def _read_json(path: Path) -> Any | None:
    """A saved JSON file, or None when it is missing or unreadable (then it is rebuilt)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def load_forms(folder: Path, glossary_key: str) -> Any | None:
    """The corpus forms (``glossary.CorpusForms``) saved for this generation, if counted
    for this glossary."""
    from assistant.glossary import CorpusForms

    data = _read_json(folder / "forms.json")
    try:
        return CorpusForms.from_json(data["forms"]) if data["glossary"] == glossary_key else None
    except (KeyError, TypeError, AttributeError, ValueError):
        return None


def load_chunk_map(folder: Path) -> Any | None:
    """The ``retrieval.ChunkMap`` saved with this generation's BM25 index, if readable."""
    from assistant.retrieval import ChunkMap

    try:
        return ChunkMap.from_json(_read_json(folder / "chunks.json"))
    except (KeyError, TypeError, AttributeError, ValueError):
        return None


def remove_stale(root: Path, live: set[str]) -> None:
    """Delete the caches of generations that no longer exist in the store, and every cache
    of an older layout (``v1`` when this is ``v2``), which nothing reads any more."""
    if root.is_dir():
        for old in root.iterdir():
            if old.is_dir() and re.fullmatch(r"v\d+", old.name) and old.name != f"v{VERSION}":
                shutil.rmtree(old, ignore_errors=True)
    base = root / f"v{VERSION}"
    if not base.is_dir():
        return
    for child in base.iterdir():
        if child.name not in live and ".tmp-" not in child.name:
            shutil.rmtree(child, ignore_errors=True)


__all__ = [
    "cache_dir",
    "load_bm25",
    "load_chunk_map",
    "load_forms",
    "load_vocabulary",
    "LazyNodes",
    "LockedCorpus",
    "nodes_of",
    "remove_stale",
    "save",
]
