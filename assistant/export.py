"""Answers and conversations written out as Markdown and DOCX, each with its sources.

Copying a chat message gives its links (`[[1]](#src-1-1)`) and no titles; these exports write
every source out instead (citation, pinpoint, section, country, type, and the quoted words), so
an answer pasted into a report or a training handout can still be checked.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from assistant.pinpoint import FORCE_LABELS
from assistant.types import Answer, Source

STATUS_WORDS = {
    "answered": "",
    "partial": "Partly answered by the documents.",
    "not_found": "Not found in the documents.",
    "out_of_scope": "Outside what these documents cover.",
}

_LINK = re.compile(r"\[\[(\d+)\]\]\(#[^)]*\)")


def plain_markers(text: str) -> str:
    """'[[1]](#src-2-1)' back to '[1]'."""
    return _LINK.sub(r"[\1]", text)


def source_line(source: Source) -> str:
    """'[1] SEND Code of Practice 2015, para 9.40 — 9 EHC needs assessments > Timescales —
    England — statutory-guidance'."""
    heading = source.cite or source.title
    parts = [f"[{source.n}] {heading}"]
    if source.cite and source.cite != source.title:
        parts.append(source.title)
    if source.section:
        parts.append(source.section)
    if source.page:
        parts.append(f"page {source.page}")
    parts += [source.jurisdiction, source.doc_type]
    return " — ".join(p for p in parts if p)


def quotes_of(source: Source) -> list[str]:
    """The quoted words of a source with their legal force ('duty', 'should: have regard')."""
    out = []
    for i, text in enumerate(source.highlights):
        force = FORCE_LABELS.get(source.forces[i], "") if i < len(source.forces) else ""
        out.append(f"{text} ({force})" if force else text)
    return out


def answer_markdown(answer: Answer, heading_level: int = 2, advice: bool = True) -> str:
    """One answer: the question, the status, the answer with its [n] markers, fixed notes
    (where to get advice too, unless ``advice`` is False), and every source written out."""
    h = "#" * heading_level
    lines = [f"{h} {answer.question}", ""]
    status = STATUS_WORDS.get(answer.status, "")
    if status:
        lines += [f"*{status}*", ""]
    lines += [answer.text.strip(), ""]
    if answer.notice:
        lines += [f"*{answer.notice}*", ""]
    if answer.advice and advice:
        lines += [f"*{answer.advice}*", ""]
    if answer.sources:
        title = (
            "Nearest passages (they do not answer the question)" if answer.refused else "Sources"
        )
        lines += [f"{h}# {title}", ""]
        for source in answer.sources:
            lines.append(f"- {source_line(source)}")
            lines += [f"  > {quote}" for quote in quotes_of(source)]
        lines.append("")
    return "\n".join(lines)


def conversation_markdown(answers: Sequence[Answer], title: str) -> str:
    """Every answer of a conversation, in order, each with its own sources."""
    parts = [f"# {title}", ""]
    parts += [answer_markdown(a) for a in answers]
    return "\n".join(parts).rstrip() + "\n"


def write_docx(answers: Sequence[Answer], path: Path, title: str) -> Path:
    """The conversation as a Word document: each answer under its question, sources below."""
    from docx import Document

    doc = Document()
    doc.add_heading(title, level=0)
    for answer in answers:
        doc.add_heading(answer.question, level=1)
        status = STATUS_WORDS.get(answer.status, "")
        if status:
            doc.add_paragraph(status).runs[0].italic = True
        for paragraph in answer.text.strip().split("\n\n"):
            doc.add_paragraph(paragraph.strip())
        for note in (answer.notice, answer.advice):
            if note:
                doc.add_paragraph(note).runs[0].italic = True
        if answer.sources:
            doc.add_heading("Nearest passages" if answer.refused else "Sources", level=2)
            for source in answer.sources:
                doc.add_paragraph(source_line(source), style="List Bullet")
                for quote in quotes_of(source):
                    doc.add_paragraph(quote, style="Quote")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path


__all__ = ["answer_markdown", "conversation_markdown", "plain_markers", "source_line", "write_docx"]
