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
    highlights: tuple[str, ...] = ()  # the quoted sentences or provisions, in passage order
    pinpoint: str = ""  # "s.22(2)", "reg.13(1)", "para 9.40"; "" for unnumbered documents
    cite: str = ""  # "ALN Act 2018 s.22(2)", "SEND Code of Practice 2015, para 9.40"
    forces: tuple[str, ...] = ()  # legal force of each highlight (assistant.pinpoint.legal_force)

    def to_citation(self) -> dict[str, Any]:
        """The citation object of the JSON contract."""
        return {
            "n": self.n,
            "doc_id": self.doc_id,
            "title": self.title,
            "cite": self.cite or self.title,
            "pinpoint": self.pinpoint,
            "section": self.section,
            "page": self.page,
            "jurisdiction": self.jurisdiction,
            "doc_type": self.doc_type,
            "quotes": [
                {"text": text, "force": force}
                for text, force in zip(self.highlights, self.forces, strict=False)
            ],
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
