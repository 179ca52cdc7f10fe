"""Structure-aware chunking: blocks in, LlamaIndex ``TextNode`` chunks out.

- A chunk never crosses a heading, so every chunk has one section path
  ("Case Study 5: County Durham > What is the impact?").
- Legislation headings keep their number with their title: "#### Additional learning needs
  co-ordinator" followed by "##### 60" becomes "s.60 Additional learning needs co-ordinator"
  ("reg." in Regulations).
- A list stays with the sentence that introduces it; a legislation subsection stays with its
  paragraphs (a), (b)...; when a unit is too long to fit, its introduction is repeated at
  the top of each piece so no piece loses its context.
- What is embedded (and indexed by BM25) starts with a short context header: the document
  title and section path. The stored text is the passage alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

from assistant.pinpoint import paragraph_number
from ingest.loaders import Block, LoadedDocument

_NUMBER_HEADING = re.compile(r"^(\d+[A-Z]{0,3})$")
# A Schedule's numbered headings are its paragraphs ("Sch.1 para 3"), never the sections or
# regulations of the same number, even when one follows the Schedule's heading directly.
_SCHEDULE_HEADING = re.compile(r"^SCHEDULE\s+\d+", re.I)
_SUBSECTION = re.compile(r"^\(\d+[A-Z]{0,3}\)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z“‘\"(])")
_INTRO_END = re.compile(r"(:|—|–|-|including|include|includes|following)\s*$", re.I)

EMBED_KEYS = ("short_name", "title", "section")
# Bump ingest.recipe.CHUNKER_VERSION when loading or chunking changes what is stored, so
# ingest re-chunks unchanged files.

# A line of legislation that only changes another enactment: "omit ...", "insert—",
# "for “x” substitute “y”", "is amended as follows", or the quoted text being inserted.
_AMENDING_LINE = re.compile(
    r"\b(omit|omitted|insert|inserted|substitute|substituted|repeal|repealed|is amended|are "
    r"amended|amended as follows)\b|^\s*>",
    re.I,
)
# A numbered paragraph of statutory guidance is never split unless it alone is longer than
# this many times the chunk size (MiniLM then reads its start; BM25 still reads it all).
GUIDANCE_PARAGRAPH_FACTOR = 3


@dataclass
class _Unit:
    lines: list[str]
    words: int
    page: int | None
    intro: str | None = None  # repeated when the unit must be split
    para: str | None = None  # the numbered paragraph this unit is (statutory guidance)


def _words(text: str) -> int:
    return len(text.split())


def _render(block: Block) -> str:
    if block.kind == "item":
        return "  " * min(block.level, 3) + "- " + block.text
    return block.text


def _number_prefix(metadata: dict) -> str:
    if metadata.get("doc_type") != "legislation":
        return ""
    return "reg." if "regulation" in metadata.get("title", "").lower() else "s."


def _guidance_units(blocks: list[Block]) -> list[_Unit]:
    """Statutory guidance: a numbered paragraph with the unnumbered lines and lists that
    follow it is one unit; table rows ('label | content') stay together."""
    units: list[_Unit] = []
    for block in blocks:
        text = _render(block)
        number = paragraph_number(block.text) if block.kind == "para" else None
        is_row = block.kind == "para" and " | " in block.text
        prev = units[-1] if units else None
        joins = (
            prev is not None
            and number is None
            and (
                block.kind == "item"
                or prev.para is not None
                or (is_row and " | " in prev.lines[-1])
            )
        )
        if joins:
            prev.lines.append(text)
            prev.words += _words(text)
        else:
            units.append(_Unit([text], _words(text), block.page, para=number))
    return units


def _units(blocks: list[Block], legislation: bool) -> list[_Unit]:
    """Group a section's blocks into units that must stay together where they can."""
    units: list[_Unit] = []
    for block in blocks:
        text = _render(block)
        starts_unit = True
        if block.kind == "item" and units:
            prev = units[-1]
            if legislation:
                starts_unit = bool(_SUBSECTION.match(block.text))
            else:
                # items follow the list they belong to, and the sentence that introduces it
                starts_unit = False
        if starts_unit:
            intro = None
            if _INTRO_END.search(block.text):
                last_sentence = _SENTENCE_END.split(block.text)[-1]
                intro = last_sentence if _words(last_sentence) <= 40 else None
            units.append(_Unit([text], _words(text), block.page, intro))
        else:
            prev = units[-1]
            prev.lines.append(text)
            prev.words += _words(text)
    return units


def _split_long(unit: _Unit, max_words: int) -> list[_Unit]:
    """Split a unit longer than max_words at line, then sentence, boundaries."""
    if unit.words <= max_words:
        return [unit]
    pieces: list[str] = []
    for line in unit.lines:
        if _words(line) <= max_words:
            pieces.append(line)
            continue
        sentences = _SENTENCE_END.split(line)
        buf: list[str] = []
        for sentence in sentences:
            if buf and _words(" ".join(buf + [sentence])) > max_words:
                pieces.append(" ".join(buf))
                buf = []
            while _words(sentence) > max_words:  # one enormous "sentence": cut by words
                words = sentence.split()
                pieces.append(" ".join(words[:max_words]))
                sentence = " ".join(words[max_words:])
            buf.append(sentence)
        if buf:
            pieces.append(" ".join(buf))
    out: list[_Unit] = []
    current: list[str] = []
    intro = unit.intro
    for piece in pieces:
        candidate = current + [piece]
        if current and _words("\n".join(candidate)) > max_words:
            out.append(_Unit(current, _words("\n".join(current)), unit.page, para=unit.para))
            is_item = piece.lstrip().startswith("- ")
            current = [intro, piece] if intro and is_item else [piece]
        else:
            current = candidate
    if current:
        out.append(_Unit(current, _words("\n".join(current)), unit.page, para=unit.para))
    return out


def _pack(units: list[_Unit], max_words: int, split_over: int | None = None) -> list[_Unit]:
    """Pack units into chunks of at most max_words; a unit is split only if it alone is
    longer than ``split_over`` words (default max_words), and then at line or sentence ends."""
    chunks: list[_Unit] = []
    current: _Unit | None = None
    limit = split_over or max_words
    for unit in units:
        pieces = [unit] if unit.words <= limit else _split_long(unit, max_words)
        for piece in pieces:
            if current is not None and current.words + piece.words <= max_words:
                current.lines.extend(piece.lines)
                current.words += piece.words
            else:
                if current is not None:
                    chunks.append(current)
                current = _Unit(list(piece.lines), piece.words, piece.page, para=piece.para)
    if current is not None:
        chunks.append(current)
    return chunks


def _is_amending(lines: list[str]) -> bool:
    """Most of the chunk's lines change another enactment's text."""
    text_lines = [line for line in lines if line.strip()]
    hits = sum(1 for line in text_lines if _AMENDING_LINE.search(line))
    return bool(text_lines) and hits / len(text_lines) >= 0.5


def _is_title(heading: str, title: str) -> bool:
    h, t = heading.lower().strip(" :"), title.lower()
    return bool(h) and (h == t or (len(h) > 8 and h in t))


def chunk_document(doc: LoadedDocument, max_words: int = 170) -> list[TextNode]:
    """Cut a loaded document into nodes carrying their section path and page."""
    meta = doc.metadata
    title = meta["title"]
    legislation = meta.get("doc_type") == "legislation"
    guidance = meta.get("doc_type") == "statutory-guidance"
    prefix = _number_prefix(meta)
    stack: list[tuple[int, str]] = []
    sections: list[tuple[str, list[Block]]] = []
    body: list[Block] = []
    last_was_heading = False

    def flush() -> None:
        if body:
            path = " > ".join(text for _, text in stack)
            sections.append((path, list(body)))
            body.clear()

    for block in doc.blocks:
        if block.kind == "heading":
            flush()
            number = _NUMBER_HEADING.match(block.text)
            in_schedule = any(_SCHEDULE_HEADING.match(text) for _, text in stack)
            if number and last_was_heading and stack and not in_schedule:
                level, text = stack[-1]
                stack[-1] = (level, f"{prefix}{number.group(1)} {text}".strip())
            elif block.level <= 1 or _is_title(block.text, title):
                pass  # the document's own title is not a section
            else:
                while stack and stack[-1][0] >= block.level:
                    stack.pop()
                text = f"para {block.text}" if number else block.text
                stack.append((block.level, text))
            last_was_heading = True
        else:
            body.append(block)
            last_was_heading = False
    flush()

    nodes: list[TextNode] = []
    for path, blocks in sections:
        if guidance:
            packed = _pack(
                _guidance_units(blocks), max_words, max_words * GUIDANCE_PARAGRAPH_FACTOR
            )
        else:
            packed = _pack(_units(blocks, legislation), max_words)
        for chunk in packed:
            text = "\n".join(chunk.lines).strip()
            if not text:
                continue
            index = len(nodes)
            node_meta = {
                **{k: v for k, v in meta.items() if isinstance(v, str | int | float | bool)},
                "doc_id": doc.doc_id,
                "section": path or title,
                "chunk_index": index,
                "content_hash": doc.content_hash,
                "page": chunk.page if chunk.page is not None else -1,
                "first_para": chunk.para or "",
                # legislation that only amends other Acts answers no ordinary question
                "amending": legislation and _is_amending(chunk.lines),
            }
            node = TextNode(
                id_=f"{doc.doc_id}::{index:04d}",
                text=text,
                metadata=node_meta,
                excluded_embed_metadata_keys=[k for k in node_meta if k not in EMBED_KEYS],
                excluded_llm_metadata_keys=[k for k in node_meta if k not in EMBED_KEYS],
                metadata_template="{value}",
                metadata_seperator=" — ",
                # LlamaIndex stores the source document's id as the chunk's doc_id
                relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=doc.doc_id)},
            )
            nodes.append(node)
    return nodes
