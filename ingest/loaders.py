"""Loaders: one file in, a ``LoadedDocument`` of structural blocks out.

Every format is reduced to the same blocks (heading with a level, paragraph, list item,
each with its page where the format has pages), so one chunker serves them all. LlamaIndex's
file readers flatten a document to plain text (docx2txt drops heading styles, PDF readers
drop layout), and the chunker needs the headings and lists, so the readers here keep them.

A file that cannot be read raises ``DocumentError`` with the reason and what to do; the
pipeline reports it and carries on with the rest of the corpus.
"""

from __future__ import annotations

import hashlib
import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from assistant.errors import DocumentError

BlockKind = Literal["heading", "para", "item"]


@dataclass
class Block:
    kind: BlockKind
    text: str
    level: int = 0  # heading level (1 = title) or list depth
    page: int | None = None


@dataclass
class LoadedDocument:
    path: Path
    doc_id: str
    content_hash: str
    metadata: dict[str, Any]
    blocks: list[Block] = field(default_factory=list)


METADATA_DEFAULTS = {
    "publisher": "Not stated",
    "jurisdiction": "Unspecified",
    "doc_type": "unspecified",
    "source": "",
    "licence": "",
}
DOC_TYPES = {
    "legislation",
    "statutory-guidance",
    "practice-guidance",
    "research",
    "case-study",
    "unspecified",
}


def doc_id_for(path: Path, root: Path) -> str:
    """A stable id from the path inside the corpus: 'sub/My File.pdf' -> 'sub/my-file.pdf'."""
    rel = path.relative_to(root).as_posix()
    return re.sub(r"[^a-z0-9/._]+", "-", rel.lower()).strip("-")


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name + ".meta.yaml")


def content_hash(data: bytes, sidecar_bytes: bytes, salt: str = "") -> str:
    """Hash of a document, its metadata sidecar and the index recipe (``salt``: chunker
    version, chunk size, embedding model): a change to any of them re-ingests it."""
    return hashlib.sha256(
        salt.encode() + b"\x00" + data + b"\x00meta\x00" + sidecar_bytes
    ).hexdigest()


def file_hash(path: Path, salt: str = "") -> str | None:
    """content_hash of a file on disk, or None when it cannot be read."""
    try:
        sidecar = sidecar_path(path)
        side = sidecar.read_bytes() if sidecar.is_file() else b""
        return content_hash(path.read_bytes(), side, salt)
    except OSError:
        return None


# --------------------------------------------------------------------------- reading bytes


def _check_size(path: Path, data: bytes, max_mb: float) -> None:
    if not data.strip():
        raise DocumentError("empty file: nothing to ingest")
    size_mb = len(data) / 1_000_000
    if size_mb > max_mb:
        raise DocumentError(
            f"file is {size_mb:.1f} MB, over the {max_mb:g} MB limit: split it, or raise "
            "ingest.max_file_mb (ASSISTANT_INGEST__MAX_FILE_MB)"
        )


def _decode_text(data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise DocumentError("binary content in a text file (NUL bytes): is the extension right?")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise DocumentError(
            f"not UTF-8 text (byte 0x{data[e.start]:02x} at offset {e.start}): re-save it as UTF-8"
        ) from None
    printable = sum(ch.isprintable() or ch.isspace() for ch in text[:5000])
    if printable < 0.9 * min(len(text), 5000):
        raise DocumentError("mostly unprintable characters: is this really a text file?")
    if not text.strip():
        raise DocumentError("empty file: nothing to ingest")
    return text


MAX_METADATA_BYTES = 64_000


class _NoAliasLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors and aliases: metadata never needs them, and a few
    nested aliases (a 'billion laughs') expand to gigabytes."""

    def compose_node(self, parent, index):  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.constructor.ConstructorError(
                None, None, "aliases (*name) are not allowed in metadata", event.start_mark
            )
        return super().compose_node(parent, index)


def load_metadata_yaml(text: str, where: str) -> dict[str, Any]:
    """A small YAML mapping of metadata; DocumentError for anything else."""
    if len(text.encode("utf-8")) > MAX_METADATA_BYTES:
        raise DocumentError(
            f"{where} is over {MAX_METADATA_BYTES // 1000} kB: metadata is a few key: value lines"
        )
    try:
        meta = yaml.load(text, Loader=_NoAliasLoader) or {}
    except yaml.YAMLError as e:
        raise DocumentError(f"{where} is not valid YAML ({e})") from None
    if not isinstance(meta, dict):
        raise DocumentError(f"{where} must be a YAML mapping (key: value lines)")
    return meta


def _split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    if not text.startswith("---"):
        return {}, text
    match = re.match(r"^---\s*\n(.*?)\n---\s*\n", text, re.S)
    if not match:
        return {}, text
    meta = load_metadata_yaml(match.group(1), "front-matter (the block between ---)")
    return meta, text[match.end() :]


# --------------------------------------------------------------------------- markdown


_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)|<(https?://[^>]+)>")
_MD_REF_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*\S+.*$")


def plain_links(text: str) -> str:
    """Markdown links and images as their text only: a stored passage never carries a URL
    that a reader's browser would fetch when the answer is rendered."""
    text = _MD_IMAGE.sub(lambda m: f"(image: {m.group(1)})" if m.group(1) else "", text)
    return _MD_LINK.sub(lambda m: m.group(1) or m.group(2), text)


_MD_ITEM = re.compile(r"^(\s*)(?:[-*+]|\d{1,3}[.)])\s+(.*)$")
_MD_NUMBERED_PARA = re.compile(r"^\d{1,3}\.\s+\S.{60,}")  # a long numbered line, not a short step


def markdown_blocks(text: str, page: int | None = None) -> list[Block]:
    """Headings, paragraphs and list items of a Markdown text."""
    blocks: list[Block] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            blocks.append(Block("para", " ".join(p.strip() for p in para), page=page))
            para.clear()

    for line in text.splitlines():
        if _MD_REF_DEF.match(line):
            continue
        line = plain_links(line)
        if not line.strip():
            flush()
            continue
        if m := _MD_HEADING.match(line):
            flush()
            blocks.append(Block("heading", m.group(2).strip(), level=len(m.group(1)), page=page))
        elif (m := _MD_ITEM.match(line)) and _MD_NUMBERED_PARA.match(line):
            flush()  # "5. The EYFS sets..." at the margin: a numbered paragraph keeps its number
            blocks.append(Block("para", line.strip(), page=page))
        elif m := _MD_ITEM.match(line):
            flush()
            blocks.append(Block("item", m.group(2).strip(), level=len(m.group(1)) // 2, page=page))
        elif line.startswith(("  ", "\t")) and blocks and blocks[-1].kind == "item" and not para:
            blocks[-1].text += " " + line.strip()
        else:
            para.append(line)
    flush()
    return blocks


# --------------------------------------------------------------------------- plain text

_BULLET = re.compile(r"^\s*(?:[•·▪●◦\-*]|o(?=\s)|\d{1,2}[.)]|\([a-z0-9]{1,4}\))\s+(.*)$")
_TOP_HEADING = re.compile(
    r"^(case study\s+\d+|theme\s+\d+|appendix\s+\w+|chapter\s+\w+|part\s+\w+)\b", re.I
)
_TERMINAL = re.compile(r"([.!?;:…][’'\")\]]*|\((interview|survey|source)[^)]*\))$", re.I)


def _looks_like_heading(line: str) -> int:
    """0 if a body line, else the heading level it looks like (1 major, 2 minor)."""
    words = line.split()
    if not words or len(line) > 160:
        return 0
    if _TOP_HEADING.match(line) and len(words) <= 25:
        return 1
    if _BULLET.match(line):
        return 0
    if line.endswith("?") and len(words) <= 20 and line[0].isupper():
        return 2
    if (
        re.match(r"(how|what|why|when|who|where|which)\b", line, re.I)
        and len(words) <= 14
        and not _TERMINAL.search(line)
    ):
        return 2
    if line.endswith(":") and len(words) <= 4 and line[0].isupper():
        return 2
    if (
        len(words) <= 9
        and not _TERMINAL.search(line)
        and not line.endswith(",")
        and (line[0].isupper() or line[0].isdigit())
    ):
        return 2
    return 0


def _is_wrapped(lines: list[str]) -> int:
    """The wrap width if the text was hard-wrapped (PDF extraction), else 0."""
    lengths = [len(line) for line in lines if len(line.strip()) > 40]
    if len(lengths) < 20:
        return 0
    width = sorted(lengths)[int(len(lengths) * 0.9)]
    if max(lengths) <= width * 1.3 and width <= 140 and statistics.median(lengths) > width * 0.6:
        return width
    return 0


def text_blocks(text: str, page: int | None = None) -> list[Block]:
    """Blocks of plain text extracted from web pages or PDFs, where headings are unmarked.

    Hard-wrapped text (every line cut at about the same width) is re-joined into
    paragraphs; short lines without closing punctuation, question lines and 'Case Study N'
    lines are taken as headings; bullets and numbered lines as list items. Lines that are
    only a page number are dropped.
    """
    raw = [line.rstrip() for line in text.splitlines()]
    raw = [line for line in raw if not re.fullmatch(r"\s*\d{1,3}\s*", line)]
    width = _is_wrapped([line for line in raw if line.strip()])
    logical: list[str] = []
    if width:
        current: list[str] = []

        def end() -> None:
            if current:
                logical.append(" ".join(current))
                current.clear()

        for line in raw:
            stripped = line.strip()
            if not stripped:
                continue
            level = _looks_like_heading(stripped)
            in_top_heading = bool(current) and _looks_like_heading(current[0]) == 1
            if _BULLET.match(stripped) or level == 1:
                end()
            elif in_top_heading and not stripped[0].islower():
                end()  # a 'Case Study N: ...' heading ends where a capitalised line starts
            elif (
                current and level == 2 and len(line) < width * 0.7 and _TERMINAL.search(current[-1])
            ):
                end()  # a short heading-like line after a finished sentence
            starts = not current
            current.append(stripped)
            finished = bool(_TERMINAL.search(stripped)) and len(line) < width * 0.9
            if finished or (starts and level == 2 and len(line) < width * 0.7):
                end()
        end()
    else:
        logical = [line.strip() for line in raw if line.strip()]

    blocks: list[Block] = []
    for line in logical:
        line = plain_links(re.sub(r"\s{2,}", " ", line).strip())
        if m := _BULLET.match(line):
            blocks.append(Block("item", m.group(1).strip(), page=page))
        elif level := _looks_like_heading(line):
            blocks.append(Block("heading", line.rstrip(":").strip(), level=level + 1, page=page))
        else:
            blocks.append(Block("para", line, page=page))
    return blocks


# --------------------------------------------------------------------------- pdf, docx, html


def pdf_blocks(path: Path) -> list[Block]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except Exception:
                ok = 0
            if not ok:
                raise DocumentError("encrypted PDF: save an unprotected copy and ingest that")
        pages = [(i + 1, page.extract_text() or "") for i, page in enumerate(reader.pages)]
    except DocumentError:
        raise
    except (PdfReadError, ValueError, OSError, KeyError, TypeError) as e:
        raise DocumentError(
            f"corrupt or unreadable PDF ({e}): re-export it and try again"
        ) from None
    except Exception as e:  # pypdf raises many kinds on damaged files
        raise DocumentError(f"unreadable PDF ({type(e).__name__}: {e})") from None
    if not pages:
        raise DocumentError("PDF has no pages")
    blocks: list[Block] = []
    for number, text in pages:
        blocks.extend(text_blocks(text, page=number))
    if sum(len(b.text) for b in blocks) < 20:
        raise DocumentError(
            "no extractable text (a scanned or image-only PDF?): run OCR on it first"
        )
    return blocks


def docx_blocks(path: Path) -> list[Block]:
    try:
        import docx
        from docx.opc.exceptions import PackageNotFoundError
    except ImportError as e:  # pragma: no cover - a core dependency
        raise DocumentError("python-docx is not installed: pip install python-docx") from e
    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, OSError) as e:
        raise DocumentError(f"corrupt or unreadable Word file ({e}): re-save it as .docx") from None
    except Exception as e:
        raise DocumentError(f"unreadable Word file ({type(e).__name__}: {e})") from None
    blocks: list[Block] = []
    for para in document.paragraphs:
        text = para.text.strip()
        if not text:
            continue
        style = (para.style.name if para.style is not None else "") or ""
        if style == "Title":
            blocks.append(Block("heading", text, level=1))
        elif m := re.match(r"Heading (\d)", style):
            blocks.append(Block("heading", text, level=int(m.group(1)) + 1))
        elif "List" in style or para._p.pPr is not None and para._p.pPr.numPr is not None:
            blocks.append(Block("item", text))
        else:
            blocks.append(Block("para", text))
    for table in document.tables:
        for row in table.rows:
            cells = [c.text.strip() for c in row.cells if c.text.strip()]
            if cells:
                blocks.append(Block("para", " | ".join(dict.fromkeys(cells))))
    if not blocks:
        raise DocumentError("Word file has no text")
    return blocks


def html_blocks(text: str) -> tuple[list[Block], str | None]:
    from bs4 import BeautifulSoup

    # lxml closes an unclosed <p> where the next block starts, as browsers do; Python's
    # html.parser nests it instead, so every later paragraph was read again inside it.
    soup = BeautifulSoup(text, "lxml")
    title = soup.title.get_text(" ", strip=True) if soup.title else None
    for tag in soup(
        [
            "script",
            "style",
            "nav",
            "header",
            "footer",
            "aside",
            "noscript",
            "form",
            "iframe",
            "svg",
            "button",
        ]
    ):
        tag.decompose()
    for tag in soup.select('[role="navigation"], [aria-hidden="true"], .breadcrumb, .menu'):
        tag.decompose()
    root = soup.find("main") or soup.find("article") or soup.body or soup
    blocks: list[Block] = []
    wanted = ["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "td", "dt", "dd", "blockquote", "pre"]
    for el in root.find_all(wanted):
        if el.name in ("p", "td", "dd") and el.find_parent("li"):
            continue
        if el.find_parent(["p", "blockquote", "pre"]) is not None:
            continue  # its text is already in the enclosing block
        text_ = el.get_text(" ", strip=True)
        if not text_:
            continue
        if el.name.startswith("h"):
            blocks.append(Block("heading", text_, level=int(el.name[1])))
        elif el.name == "li":
            blocks.append(Block("item", text_))
        else:
            blocks.append(Block("para", text_))
    return blocks, title


# --------------------------------------------------------------------------- entry point

_FORMATS = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".pdf": "pdf",
    ".docx": "docx",
    ".html": "html",
    ".htm": "html",
}


def load_document(
    path: Path, root: Path, max_file_mb: float = 20.0, salt: str = ""
) -> LoadedDocument:
    """Read one file and its metadata; raises DocumentError with a reason to show the user."""
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise DocumentError(f"unsupported file type {path.suffix!r}")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise DocumentError(f"cannot read file ({e.strerror})") from None
    _check_size(path, data, max_file_mb)
    sidecar = sidecar_path(path)
    side_bytes = b""
    if sidecar.is_file():
        if sidecar.stat().st_size > MAX_METADATA_BYTES:
            raise DocumentError(
                f"metadata file {sidecar.name} is over {MAX_METADATA_BYTES // 1000} kB"
            )
        side_bytes = sidecar.read_bytes()
    digest = content_hash(data, side_bytes, salt)

    meta: dict[str, Any] = {}
    html_title = None
    if fmt in ("markdown", "text", "html"):
        text = _decode_text(data)
        meta, text = _split_front_matter(text)
        if fmt == "markdown":
            blocks = markdown_blocks(text)
        elif fmt == "text":
            blocks = text_blocks(text)
        else:
            blocks, html_title = html_blocks(text)
    elif fmt == "pdf":
        if not data.lstrip().startswith(b"%PDF"):
            raise DocumentError("not a PDF (no %PDF header): is the extension right?")
        blocks = pdf_blocks(path)
    else:
        if not data.startswith(b"PK"):
            raise DocumentError("not a .docx file (not a zip package): is the extension right?")
        blocks = docx_blocks(path)

    if side_bytes:
        try:
            side_text = side_bytes.decode("utf-8")
        except UnicodeDecodeError:
            raise DocumentError(f"metadata file {sidecar.name} is not UTF-8 text") from None
        side = load_metadata_yaml(side_text, f"metadata file {sidecar.name}")
        meta = {**meta, **side}
    if not any(b.kind != "heading" for b in blocks):
        raise DocumentError("no text found (only headings or nothing at all)")

    first_heading = next((b.text for b in blocks if b.kind == "heading"), None)
    title = meta.get("title") or html_title or first_heading or path.stem.replace("-", " ")
    metadata = {**METADATA_DEFAULTS, **{k: v for k, v in meta.items() if v is not None}}
    metadata = {
        k: (str(v) if not isinstance(v, str) else v)
        for k, v in metadata.items()
        if isinstance(v, str | int | float | bool) or v is None or k in METADATA_DEFAULTS
    }
    metadata["title"] = str(title).strip()
    metadata["doc_type"] = str(metadata.get("doc_type", "unspecified")).strip().lower()
    if metadata["doc_type"] not in DOC_TYPES:
        metadata["doc_type"] = "unspecified"
    metadata["format"] = fmt
    metadata["path"] = path.relative_to(root).as_posix()
    return LoadedDocument(
        path=path,
        doc_id=doc_id_for(path, root),
        content_hash=digest,
        metadata=metadata,
        blocks=blocks,
    )
