"""Small typed records passed between the pipeline's stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Source:
    """One passage shown to the user; ``n`` is the [n] marker used in the answer."""

    n: int
    doc_id: str
    title: str
    section: str
    text: str
    score: float
    page: int | None = None
    jurisdiction: str = "Unspecified"
    doc_type: str = "unspecified"
    chunk_id: str = ""
    highlights: tuple[str, ...] = ()

    def to_citation(self) -> dict[str, Any]:
        """The citation object of the JSON contract."""
        return {
            "n": self.n,
            "doc_id": self.doc_id,
            "title": self.title,
            "section": self.section,
            "page": self.page,
            "jurisdiction": self.jurisdiction,
            "doc_type": self.doc_type,
            "text": self.text,
            "score": round(float(self.score), 4),
        }


@dataclass(frozen=True)
class Answer:
    question: str
    text: str
    sources: list[Source]
    refused: bool
    timings_ms: dict[str, float] = field(default_factory=dict)
    reason: str = ""
    diagnostics: dict[str, Any] = field(default_factory=dict)
    query: str = ""  # the standalone query retrieval used (differs for a follow-up)
    checker: dict[str, Any] | None = None  # what the citation checker did (generative only)

    def to_json(self, id: Any = None) -> dict[str, Any]:
        """The stable JSON contract read by the evaluation suite and outside tools."""
        return {
            "id": id,
            "question": self.question,
            "answer": self.text,
            "refused": self.refused,
            "citations": [s.to_citation() for s in self.sources],
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
            **({"checker": self.checker} if self.checker is not None else {}),
        }


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk before it is numbered as a Source."""

    chunk_id: str
    text: str
    metadata: dict[str, Any]
    score: float
    dense_similarity: float | None = None
    # cosine similarity of each of the passage's sentences (split_sentences order) to the question
    sentence_similarities: tuple[float, ...] | None = None
