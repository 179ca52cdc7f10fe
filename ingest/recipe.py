"""What decides an index, and the record of what the live index was built from.

Light on purpose (no LlamaIndex, no Chroma): `python -m ingest` first asks
``unchanged_since_last`` whether every document is as it was at the last ingest into this
store, and when it is, says so and stops without loading the libraries an ingest needs. The
record (``ingested.json`` in the embedded store's folder) is removed before any ingest that
changes the index and written after the new generation is live, so a crash in between leaves
no record and the next run takes the full path.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from assistant.text import SPLITTER_VERSION
from ingest.loaders import doc_id_for, file_hash

CHUNKER_VERSION = "10"
RECORD_NAME = "ingested.json"


def index_recipe(settings: Any) -> str:
    """What, besides a file's bytes, decides its chunks and vectors."""
    e = settings.embedding
    # 'onnx' runs the same MiniLM weights as 'sentence-transformers' (cosine 1.0, checked in
    # tests/test_onnx.py), so the two share an index: switching backend re-embeds nothing.
    model = "sentence-transformers" if e.backend in ("onnx", "sentence-transformers") else e.backend
    return (
        f"chunker={CHUNKER_VERSION};splitter={SPLITTER_VERSION};"
        f"words={settings.ingest.max_words};{model}:{e.model_path}"
    )


def discover(corpus_dir: Path, settings: Any) -> list[Path]:
    """The document files of the corpus, in a stable order."""
    if not corpus_dir.is_dir():
        raise FileNotFoundError(f"corpus folder {corpus_dir} does not exist")
    exts = {e.lower() for e in settings.ingest.extensions}
    ignore = set(settings.ingest.ignore)
    files = []
    for path in sorted(corpus_dir.rglob("*")):
        if not path.is_file() or path.name in ignore or path.name.startswith("."):
            continue
        if path.name.endswith(".meta.yaml") or path.suffix.lower() not in exts:
            continue
        files.append(path)
    return files


def record_path(settings: Any) -> Path | None:
    """Where the record is kept: in the embedded store's folder (none with a Chroma server,
    whose index other machines may change)."""
    return None if settings.store.url else Path(settings.store.path) / RECORD_NAME


def forget(settings: Any) -> None:
    """Remove the record: the index is about to change."""
    path = record_path(settings)
    if path is not None:
        path.unlink(missing_ok=True)


def remember(settings: Any, collection: str, hashes: dict[str, str], chunks: int) -> None:
    """Write the record of the live generation, atomically."""
    path = record_path(settings)
    if path is None or not path.parent.is_dir():
        return
    tmp = path.with_name(f"{RECORD_NAME}.tmp-{os.getpid()}")
    tmp.write_text(
        json.dumps({"collection": collection, "chunks": chunks, "hashes": hashes}),
        encoding="utf-8",
    )
    tmp.replace(path)


def unchanged_since_last(settings: Any, corpus_dir: Path) -> dict[str, Any] | None:
    """The record when every document of the corpus is byte for byte (and recipe for recipe)
    what the live index was built from, and nothing was added or removed; else None."""
    path = record_path(settings)
    if path is None or not path.is_file() or not corpus_dir.is_dir():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        hashes = dict(record["hashes"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    salt = index_recipe(settings)
    root = corpus_dir.resolve()
    seen: dict[str, str] = {}
    for file in discover(corpus_dir, settings):
        if not file.resolve().is_relative_to(root):
            return None  # a link out: the full path reports it
        doc_id = doc_id_for(file, corpus_dir)
        digest = file_hash(file, salt)
        if doc_id in seen or digest is None or hashes.get(doc_id) != digest:
            return None
        seen[doc_id] = digest
    return record if seen.keys() == hashes.keys() else None
