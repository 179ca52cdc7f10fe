"""The BM25 index, the term statistics and the corpus forms of the field's terms of an index
generation, saved beside the store; the chunks themselves are read back from the BM25 index.

Building them from every chunk at start-up costs about 1.8 s on the 10-document corpus and
grows with it; loading them costs a fraction of that. Each
ingest makes a new collection generation with a new name, so a cache is simply keyed by that
name and is never stale; the folders of generations that no longer exist are removed.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

VERSION = 1  # bump when what is saved (tokenisation, stemming, fields) changes


def cache_dir(root: Path, collection_name: str) -> Path:
    return root / f"v{VERSION}" / collection_name


def load_bm25(folder: Path, expected_docs: int) -> Any | None:
    """The saved bm25s index, or None when there is none (or it does not match)."""
    if not (folder / "retriever.json").is_file():
        return None
    try:
        from llama_index.retrievers.bm25 import BM25Retriever

        retriever = BM25Retriever.from_persist_dir(str(folder))
        if int(retriever.bm25.scores.get("num_docs", -1)) != expected_docs:
            return None
        return retriever.bm25
    except Exception as e:  # a damaged cache is rebuilt, never fatal
        logger.warning("BM25 cache in %s unreadable (%s): rebuilding it", folder, e)
        return None


def nodes_of(bm25: Any) -> list[Any]:
    """The chunks a saved BM25 index was built from, as LlamaIndex nodes in the same order
    as ``store.load_nodes`` gives them (the index was built from that list)."""
    from llama_index.core.vector_stores.utils import metadata_dict_to_node

    nodes = []
    for record in bm25.corpus:
        node = metadata_dict_to_node(record)
        node.id_ = record["node_id"]
        nodes.append(node)
    return nodes


def save(folder: Path, retriever: Any, vocabulary: dict[str, Any], forms: dict[str, Any]) -> None:
    """Save the BM25 retriever and the term statistics, atomically (a temporary folder renamed),
    so a reader never loads half a cache."""
    tmp = folder.with_name(folder.name + f".tmp-{os.getpid()}")
    try:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        with contextlib.redirect_stderr(io.StringIO()):  # bm25s draws a progress bar
            retriever.persist(str(tmp))
        (tmp / "vocabulary.json").write_text(json.dumps(vocabulary), encoding="utf-8")
        (tmp / "forms.json").write_text(json.dumps(forms), encoding="utf-8")
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
        return {"n_docs": int(data["n_docs"]), "df": Counter(data["df"])}
    except (OSError, ValueError, KeyError) as e:
        logger.warning("vocabulary cache in %s unreadable (%s): rebuilding it", folder, e)
        return None


def load_forms(folder: Path, glossary_key: str) -> Any | None:
    """The corpus forms (``glossary.CorpusForms``) saved for this generation, if counted
    for this glossary."""
    from assistant.glossary import CorpusForms

    try:
        data = json.loads((folder / "forms.json").read_text(encoding="utf-8"))
        if data.get("glossary") != glossary_key:
            return None
        return CorpusForms.from_json(data["forms"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def remove_stale(root: Path, live: set[str]) -> None:
    """Delete the caches of generations that no longer exist in the store."""
    base = root / f"v{VERSION}"
    if not base.is_dir():
        return
    for child in base.iterdir():
        if child.name not in live and ".tmp-" not in child.name:
            shutil.rmtree(child, ignore_errors=True)


__all__ = [
    "cache_dir",
    "load_bm25",
    "load_forms",
    "load_vocabulary",
    "nodes_of",
    "remove_stale",
    "save",
]
