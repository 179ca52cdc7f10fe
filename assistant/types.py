"""Small typed records passed between the pipeline's stages."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

# answered: the documents answer it. partial: they answer part of it (``missing`` says what
# they do not cover). not_found: in the field, but the documents do not answer it.
# out_of_scope: not about what these documents cover (or not a question at all).
Status = Literal["answered", "partial", "not_found", "out_of_scope"]
REFUSED_STATUSES = ("not_found", "out_of_scope")


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
class Scope:
    """Which documents a question may be answered from (empty: all of them)."""

    country: str | None = None  # "Wales" | "England"
    doc_types: tuple[str, ...] = ()  # e.g. ("legislation", "statutory-guidance")

    def admits(self, metadata: dict[str, Any]) -> bool:
        if self.country and metadata.get("jurisdiction") != self.country:
            return False
        return not self.doc_types or metadata.get("doc_type") in self.doc_types

    @property
    def everything(self) -> bool:
        return not self.country and not self.doc_types

    def to_json(self) -> dict[str, Any]:
        return {"country": self.country, "doc_types": list(self.doc_types)}


@dataclass(frozen=True)
class Draft:
    """What an answerer returns: the answer text (quotes with [n] markers and fixed
    labels only), its sources, and its status."""

    text: str
    sources: list[Source]
    status: Status
    reason: str = ""
    diagnostics: dict[str, Any] = field(default_factory=dict)
    missing: tuple[str, ...] = ()  # question words the cited passages do not cover
    checker: dict[str, Any] | None = None  # what the citation checker did (generative only)

    @property
    def refused(self) -> bool:
        return self.status in REFUSED_STATUSES


@dataclass(frozen=True)
class Token:
    """A piece of a generated draft, streamed before the checked answer."""

    text: str


@runtime_checkable
class Answerer(Protocol):
    def answer(
        self, question: str, passages: list[Passage], query_embedding: list[float] | None
    ) -> Draft: ...


@runtime_checkable
class StreamingAnswerer(Protocol):
    """An answerer that can show its draft as it is written (a generative one)."""

    def stream(
        self, question: str, passages: list[Passage], query_embedding: list[float] | None
    ) -> Iterator[Token | Draft]: ...


@dataclass(frozen=True)
class Answer:
    question: str
    text: str
    sources: list[Source]
    status: Status
    timings_ms: dict[str, float] = field(default_factory=dict)
    reason: str = ""
    diagnostics: dict[str, Any] = field(default_factory=dict)
    query: str = ""  # the standalone query retrieval used (differs for a follow-up)
    checker: dict[str, Any] | None = None  # what the citation checker did (generative only)
    missing: tuple[str, ...] = ()
    advice: str = ""  # where to get advice: fixed text, not from the documents
    notice: str = ""  # a fixed note about the answer (e.g. it cites the other country)
    scope: Scope = field(default_factory=Scope)

    @property
    def refused(self) -> bool:
        return self.status in REFUSED_STATUSES

    @classmethod
    def from_draft(
        cls, question: str, draft: Draft, timings_ms: dict[str, float], **extra: Any
    ) -> Answer:
        """The answer to show for an answerer's draft (``extra``: query, advice)."""
        return cls(
            question,
            draft.text,
            draft.sources,
            draft.status,
            timings_ms,
            reason=draft.reason,
            diagnostics=draft.diagnostics,
            checker=draft.checker,
            missing=draft.missing,
            **extra,
        )

    def to_json(self, id: Any = None) -> dict[str, Any]:
        """The stable JSON contract read by the evaluation suite and outside tools."""
        return {
            "id": id,
            "question": self.question,
            "answer": self.text,
            "status": self.status,
            "refused": self.refused,
            "missing": list(self.missing),
            "advice": self.advice,
            "notice": self.notice,
            "scope": self.scope.to_json(),
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
    # the question names this passage's provision by number ("section 20 of the ALN Act"):
    # None when it does not, "" for the whole provision, "2" for its subsection (2)
    named: str | None = None
    # the question asks what the law requires, and this provision is the legal basis that
    # this passage of statutory guidance names ('Relevant legislation: ...'): its chunk_id
    basis_for: str = ""
    # sentences from this one on (split_sentences order) are subsections of the next chunk
    # that one of this passage's depends on ("unless subsection (4) applies"): quoted only
    # with it, never on their own, and not read as the passage's own words
    joined_from: int | None = None
    # sentences before this one are subsections of the chunk before that are the rule an
    # exception in this passage belongs to ("unless any of the circumstances in subsection (2)
    # apply"): quoted only with it, like those joined from the next chunk
    joined_until: int | None = None

    def joined(self, position: int) -> bool:
        """Whether sentence ``position`` (split_sentences order) was joined from a chunk
        beside this one rather than being the passage's own."""
        return (self.joined_from is not None and position >= self.joined_from) or (
            self.joined_until is not None and position < self.joined_until
        )
