"""The sentence vectors of an index generation as one memory-mapped matrix beside the store.

The re-ranker needs, for each of about twenty candidate chunks, the cosine of every one of
their sentences to the question. Asking Chroma for them (``get`` filtered by chunk id) loads
the whole sentence collection's vector index into memory and filters its metadata on every
question: at 100,000 chunks (about 515,000 sentences) that was 180 ms of a 250 ms answer and
about 1 GB of the app's memory. Here the vectors are read from Chroma once, in pages, and
written as a float32 ``.npy`` file (built at the first start after an ingest) (rows grouped by chunk, in sentence order) with a small
index of each chunk's rows; a question then touches only its candidates' rows of the mapped
file. Like the BM25 cache, the files belong to one generation (a new ingest makes a new
collection name, so they are never stale) and each is written to a temporary name and renamed,
so a reader never meets half a file.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

MATRIX = "sentence_vectors.npy"
INDEX = "sentence_index.json"
_PAGE = 5000  # records per Chroma call while the file is built


@dataclass(frozen=True)
class SentenceVectors:
    """``rows[chunk_id] = (start, count)``: that chunk's sentence vectors are
    ``matrix[start:start + count]``, in sentence order."""

    matrix: np.ndarray
    rows: dict[str, tuple[int, int]]

    def similarities(self, chunk_ids: list[str], q: np.ndarray) -> dict[str, tuple[float, ...]]:
        """Per chunk, the cosine of each of its sentences to the unit vector ``q`` (the
        stored vectors are unit vectors, as Chroma was given them)."""
        out: dict[str, tuple[float, ...]] = {}
        for chunk_id in chunk_ids:
            where = self.rows.get(chunk_id)
            if where is None:
                continue
            start, count = where
            block = np.asarray(self.matrix[start : start + count], dtype=np.float32)
            norms = np.linalg.norm(block, axis=1)
            sims = (block @ q) / np.clip(norms, 1e-12, None)
            out[chunk_id] = tuple(float(x) for x in sims)
        return out


def load(folder: Path) -> SentenceVectors | None:
    """The saved vectors, or None when there are none or the index and the matrix disagree
    (then they are built again). The sentence collection is not asked how many it holds:
    even ``count()`` makes Chroma load its whole vector index (1 GB at 100,000 chunks), and
    the files of a generation, renamed into place only when complete, cannot fall behind it."""
    try:
        rows = {
            str(k): (int(v[0]), int(v[1]))
            for k, v in json.loads((folder / INDEX).read_text(encoding="utf-8")).items()
        }
        matrix = np.load(folder / MATRIX, mmap_mode="r")
    except (OSError, ValueError, TypeError, IndexError, AttributeError):
        return None
    if matrix.ndim != 2 or sum(c for _, c in rows.values()) != matrix.shape[0]:
        return None
    return SentenceVectors(matrix, rows)


def _pages(collection: Any, include: list[str]) -> Any:
    offset = 0
    while True:
        page = collection.get(include=include, limit=_PAGE, offset=offset)
        yield page
        if len(page["ids"]) < _PAGE:
            return
        offset += _PAGE


def build(collection: Any, folder: Path) -> SentenceVectors:
    """Read every sentence vector of ``collection``, write the matrix and its index into
    ``folder`` and return them, mapped from the file. Two passes a page at a time (the
    metadata to lay the rows out, then the vectors straight into the file), so no more than
    a page of vectors is ever held in memory."""
    places: dict[str, tuple[str, int]] = {}
    for page in _pages(collection, ["metadatas"]):
        for record_id, meta in zip(page["ids"], page["metadatas"], strict=True):
            places[record_id] = (str(meta["chunk_id"]), int(meta["position"]))
    order = sorted(places, key=lambda record_id: places[record_id])
    row_of = {record_id: row for row, record_id in enumerate(order)}
    rows: dict[str, tuple[int, int]] = {}
    for row, record_id in enumerate(order):
        chunk_id = places[record_id][0]
        start, count = rows.get(chunk_id, (row, 0))
        rows[chunk_id] = (start, count + 1)
    folder.mkdir(parents=True, exist_ok=True)
    tmp_matrix = folder / f"{MATRIX}.tmp-{os.getpid()}"
    matrix: np.ndarray | None = None
    for page in _pages(collection, ["embeddings"]):
        vectors = np.asarray(page["embeddings"], dtype=np.float32)
        if matrix is None:
            dim = vectors.shape[1] if vectors.ndim == 2 else 0
            matrix = np.lib.format.open_memmap(
                tmp_matrix, mode="w+", dtype=np.float32, shape=(len(order), dim)
            )
        if len(page["ids"]):
            matrix[[row_of[i] for i in page["ids"]]] = vectors
    if matrix is None:  # no sentences at all
        with open(tmp_matrix, "wb") as f:
            np.save(f, np.zeros((0, 0), dtype=np.float32))
    else:
        matrix.flush()
        del matrix
    tmp_index = folder / f"{INDEX}.tmp-{os.getpid()}"
    tmp_index.write_text(json.dumps(rows), encoding="utf-8")
    os.replace(tmp_matrix, folder / MATRIX)
    os.replace(tmp_index, folder / INDEX)
    return SentenceVectors(np.load(folder / MATRIX, mmap_mode="r"), rows)


def load_or_build(collection: Any, folder: Path) -> SentenceVectors | None:
    """The generation's sentence vectors from ``folder``, built there first if missing; None
    (Chroma is asked instead) when they can be neither read nor written."""
    found = load(folder)
    if found is not None:
        return found
    try:
        return build(collection, folder)
    except OSError as e:  # a read-only store still answers, from Chroma
        logger.warning("could not save the sentence vectors in %s: %s", folder, e)
        return None


__all__ = ["SentenceVectors", "build", "load", "load_or_build"]
