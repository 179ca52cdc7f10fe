"""Pinpoint citations: which provision or paragraph of a document a quoted passage is.

Legislation is cited by section or regulation and subsection (``ALN Act 2018 s.22(2)``,
``SEND Regulations 2014 reg.13(1)``); statutory guidance by numbered paragraph
(``SEND Code of Practice 2015, para 9.40``). The pinpoint is read from the stored chunk
itself: the section path names the section, and each provision or paragraph line starts with
its own number, so nothing has to be kept in step with the chunker.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# "6.15 A pupil...", "5. The EYFS...", "iv. The bodies..." at the start of a line
PARAGRAPH_NUMBER = re.compile(r"^(\d{1,2}\.\d{1,3}[A-Z]?|\d{1,3}\.|[ivxl]{1,6}\.)\s+\S")
_SECTION = re.compile(r"(?:^|> )((?:s|reg)\.)(\d+[A-Z]{0,3})\b")
_SCHEDULE = re.compile(r"SCHEDULE\s+(\d+[A-Z]?)", re.I)
_SCHEDULE_PARAGRAPH = re.compile(r"> para (\d+[A-Z]{0,3})\b")
_SUBSECTION = re.compile(r"^\s*-?\s*\((\d+[A-Z]{0,3})\)")


# A provision the question names: "section 20", "s.22(2)", "regulation 12(3)", "reg.22",
# "paragraph 9.40", "para 9.40"; a bare "9.40" counts as a paragraph.
_ASKED = re.compile(
    r"(?<![\w.])(?:(?P<s>sections?|ss?\.|ss?(?=\d))\s*(?P<snum>\d{1,3}[A-Z]{0,2})(?!\d|\.\d)"
    r"|(?P<r>regulations?|regs?\.?)\s*(?P<rnum>\d{1,3}[A-Z]?)(?!\d|\.\d)"
    r"|(?:paragraphs?|paras?\.?|sections?)\s*(?P<pnum>\d{1,2}\.\d{1,3}[A-Z]?)(?!\d)"
    r"|(?<![£$€])(?P<bare>\d{1,2}\.\d{1,3})(?![\d.]))"
    r"(?P<sub>\(\d{1,3}[A-Z]?\))?",
    re.I,
)


@dataclass(frozen=True)
class AskedProvision:
    """A provision named in a question: ``key`` as ``provision_keys`` gives it ('s.20',
    'reg.22', 'para 9.40'), and the subsection asked for, if any ('2' for 's.22(2)')."""

    key: str
    subsection: str = ""  # for a paragraph: its number, the part of the chunk to quote
    bare: bool = False  # a number alone ('9.40'): a paragraph only if a document is named
    # the question's words from this number to the next one asked for ('of the ALN Act and'):
    # where the document it belongs to is named when a question names several
    following: str = field(default="", compare=False)


def asked_provisions(question: str) -> list[AskedProvision]:
    """The sections, regulations and paragraphs a question names, in the order named."""
    found: list[AskedProvision] = []
    matches = list(_ASKED.finditer(question))
    for i, m in enumerate(matches):
        following = question[m.end() : matches[i + 1].start() if i + 1 < len(matches) else None]
        if m.group("snum"):
            key = f"s.{m.group('snum')}"
        elif m.group("rnum"):
            key = f"reg.{m.group('rnum')}"
        else:
            key = f"para {m.group('pnum') or m.group('bare')}"
        sub = (m.group("sub") or "").strip("()")
        if key.startswith("para "):
            sub = key.removeprefix("para ")
        asked = AskedProvision(key, sub, bare=bool(m.group("bare")), following=following)
        if asked not in found:
            found.append(asked)
    return found


def provision_keys(text: str, metadata: Mapping[str, Any]) -> list[str]:
    """The provisions a chunk holds, as look-up keys: its section or regulation for
    legislation ('s.20', 'reg.22'), its numbered paragraphs for statutory guidance
    ('para 9.40'), including a paragraph begun in the chunk before."""
    doc_type = metadata.get("doc_type")
    if doc_type == "legislation":
        if _SCHEDULE.search(str(metadata.get("section", ""))):
            return []  # a Schedule's paragraphs are not the Act's sections of the same number
        matches = list(_SECTION.finditer(str(metadata.get("section", ""))))
        return [f"{matches[-1].group(1)}{matches[-1].group(2)}"] if matches else []
    if doc_type == "statutory-guidance":
        numbers = [str(metadata.get("first_para", "") or "")]
        numbers += [paragraph_number(line) or "" for line in text.splitlines()]
        return list(dict.fromkeys(f"para {n}" for n in numbers if n and "." in n))
    return []


# Statutory guidance names the provisions a section rests on in a line at its head
# ("Relevant legislation: Sections 36, 37 and 40 of the Children and Families Act 2014 and
# Regulations 4 and 13 of the SEND Regulations 2014": the SEND Code's chapter 9).
_RELEVANT_LINE = re.compile(r"^\s*Relevant legislation:\s*(?P<refs>.+)$", re.I | re.M)
_NUMBER = r"\d{1,3}[A-Z]{0,3}(?!\d)(?:\([0-9a-z]{1,4}\))?"
_NUMBERS = re.compile(
    rf"\b(?P<kind>sections?|regulations?|s\.|regs?\.)\s*"
    rf"(?P<numbers>{_NUMBER}(?:\s*(?:,|and|to|–|-)\s*(?:and\s+)?(?:sections?\s+)?{_NUMBER})*)",
    re.I,
)
# a document's name: capitalised words and the small words between them, up to its year
_DOCUMENT = re.compile(
    r"(?P<document>\b[A-Z][\w’'-]*(?: (?:[A-Z(][\w()’',-]*|and|of|for|the|in|on|to)){0,12}? "
    r"(?:Act|Regulations) \d{4})"
)
_OF_THE = re.compile(r"^,?\s+of\s+the\s+")


@dataclass(frozen=True)
class LegalBasis:
    """A provision a passage of guidance names as its legal basis: the document as the
    guidance names it ('Children and Families Act 2014') and the key ``provision_keys``
    gives the provision ('s.36', 'reg.13')."""

    document: str
    key: str


def _numbers(text: str) -> list[str]:
    """'36, 37 and 40' -> ['36', '37', '40']; '51-57' or '36 – 50' -> each number between;
    '19(c)' -> ['19']."""
    out: list[str] = []
    parts = re.findall(rf"({_NUMBER})|(–|-|\bto\b)", text)
    ranged = False
    for number, dash in parts:
        if dash:
            ranged = True
            continue
        number = re.sub(r"\(.*\)$", "", number)
        if ranged and out and out[-1].isdigit() and number.isdigit():
            out += [str(n) for n in range(int(out[-1]) + 1, int(number) + 1)][:30]
        else:
            out.append(number)
        ranged = False
    return list(dict.fromkeys(out))


def legislation_named(text: str) -> list[LegalBasis]:
    """The numbered sections and regulations a list of legislation names, each with the
    document it belongs to: the one named just after it ('Section 36 of the Children and
    Families Act 2014'), else the last one named before it ('The following sections of the
    Children and Families Act 2014: ... Section 66'). Documents named without numbers
    ('The Equality Act 2010') give nothing."""
    found: list[LegalBasis] = []
    last: str | None = None
    position = 0
    while True:
        numbers = _NUMBERS.search(text, position)
        stop = numbers.start() if numbers else len(text)
        for document in _DOCUMENT.finditer(text, position, stop):
            last = document.group("document")
        if numbers is None:
            return found
        after = _OF_THE.match(text[numbers.end() :])
        owner = last
        position = numbers.end()
        if after:
            named = _DOCUMENT.match(text, numbers.end() + after.end())
            if named:
                owner = last = named.group("document")
                position = named.end()
        if owner is None:
            continue
        kind = numbers.group("kind").lower()
        prefix = "s." if kind.startswith("s") else "reg."
        for number in _numbers(numbers.group("numbers")):
            basis = LegalBasis(owner, prefix + number)
            if basis not in found:
                found.append(basis)


def legal_bases(text: str) -> list[LegalBasis]:
    """The provisions the 'Relevant legislation:' lines of a passage name, in the order named."""
    found: list[LegalBasis] = []
    for line in _RELEVANT_LINE.finditer(text):
        found += [b for b in legislation_named(line.group("refs")) if b not in found]
    return found


def starts_part(line: str, part: str) -> bool:
    """Whether a line starts subsection ``part`` ('2': "- (2) ...") or numbered paragraph
    ``part`` ('9.40': "9.40 The whole process ...")."""
    if "." in part:
        return paragraph_number(line) == part
    m = _SUBSECTION.match(line)
    return bool(m) and m.group(1) == part


def subsection_number(line: str) -> str | None:
    """'2' for a line starting subsection (2) ("- (2) The authority must..."), else None."""
    m = _SUBSECTION.match(line)
    return m.group(1) if m else None


# A definition in an interpretation provision: the item opens with the quoted term
# ("“*EHC plan*” means a plan within section 37(2);", "“the SENCO”, in relation to ...").
_DEFINITION = re.compile(
    r"^[“\"]\*?[^”\"]{1,80}?\*?[”\"]\s*(?:\(|,|means\b|has\b|includes\b|does\b|is\b|are\b|in relation\b|shall\b)"
)


def defines_term(item: str) -> bool:
    """Whether a list item of legislation is a definition of a quoted term. Each definition of
    an interpretation provision ("(2) In this Part—") stands on its own: with the lead-in, it
    is the whole provision for that term, as a citation for it ("s.83(2), 'EHC plan'") reads."""
    return bool(_DEFINITION.match(item.strip()))


# A subsection that confers a power to make law ("(4) Regulations may make provision about",
# "(5) The code may impose requirements—", "(3) An order under subsection (1) may"): it says
# what Ministers may legislate, not what anyone must or may do for a child.
_CONFERS_POWER = re.compile(
    r"^\s*-?\s*\(\d+[A-Z]{0,3}\)\s+(?:(?:the\s+)?regulations|(?:a|the)\s+code|an?\s+order|"
    r"the\s+(?:welsh\s+ministers|secretary\s+of\s+state)\s+may\s+by\s+(?:regulations|order))"
    r"\b[^.;—]{0,60}?\bmay\b",
    re.I,
)


def confers_power(line: str) -> bool:
    """Whether a line opens a subsection that confers a power to make regulations, a code
    or an order ("(4) Regulations may make provision about appeals")."""
    return bool(_CONFERS_POWER.match(line))


def holds_part(text: str, part: str) -> bool:
    """Whether a chunk holds the start of subsection or numbered paragraph ``part``."""
    return any(starts_part(line, part) for line in text.splitlines())


# How legislation makes one subsection (or paragraph of a regulation) depend on another of
# the same section or regulation. A rule read without its exceptions, or an exception without
# its rule, misstates the law.
_PART_NUMBERS = r"\(\d+[A-Z]{0,3}\)(?:\([a-z]{1,4}\))?(?:(?:,\s*|\s+(?:and|or|to)\s+)\(\d*[A-Z]{0,3}[a-z]{0,4}\))*"
_PART = r"(?:sub-?sections?|paragraphs?)"
# the rule names its exceptions: "unless subsection (4) applies", "Subject to paragraph (3)",
# "unless any of the circumstances in subsection (3) apply"
_SUBJECT_TO = re.compile(
    rf"(?:\b(?:unless|except where|except as provided (?:by|in))\b[^.;:—]{{0,40}}?|\bsubject to\s+)"
    rf"\b{_PART}\s+({_PART_NUMBERS})(?!\s*(?:of|\())",
    re.I,
)
# the exception names its rule: "(4) Subsection (3) does not apply where", "(3) But the duty
# in subsection (2) does not apply", "(5) The timescales referred to in paragraphs (2) and (3)
# do not apply", "(4) The local authority need not comply with the time limit referred to in
# paragraph (1) if"
_EXCEPTION_TO = re.compile(
    rf"^\s*-?\s*\(\d+[A-Z]{{0,3}}\)[^.;:—]{{0,160}}?\b{_PART}\s+({_PART_NUMBERS})"
    r"(?!\s*(?:of|\())[^.;:—]{0,40}?\b(?:does|do) not (?:apply|require)",
    re.I,
)
_NEED_NOT = re.compile(
    rf"^\s*-?\s*\(\d+[A-Z]{{0,3}}\)[^.;:—]{{0,60}}?\bneed not comply with\b[^.;:—]{{0,60}}?"
    rf"\b{_PART}\s+({_PART_NUMBERS})(?!\s*(?:of|\())",
    re.I,
)


# a later subsection says what this one's term is: "that person holds the qualification,
# mentioned in paragraph (5)" ("(5) The qualification referred to in paragraph (4) is a
# postgraduate qualification ...")
_DEFINED_IN = re.compile(
    rf"\b(?:mentioned|specified|set out|described|listed) in\s+{_PART}\s+({_PART_NUMBERS})"
    r"(?!\s*(?:of|\())",
    re.I,
)


def _numbers_in(patterns: tuple[re.Pattern[str], ...], text: str) -> list[str]:
    found: list[str] = []
    for pattern in patterns:
        for m in pattern.finditer(text):
            # "(2)(b)": an item of it, which only matters where that item is quoted
            for number in re.findall(r"\((\d+[A-Z]{0,3})\)(?!\s*\([a-z])", m.group(1)):
                if number not in found:
                    found.append(number)
    return found


def subject_to(text: str) -> list[str]:
    """The subsections or paragraphs of the same provision that ``text`` (one subsection) is
    made subject to, as their numbers: ['4'] for "..., unless subsection (4) applies." A
    reference to another Act's or section's subsection ("subsection (3) of section 70") is not
    one."""
    return _numbers_in((_SUBJECT_TO,), text)


def defined_later(text: str) -> list[str]:
    """The later subsections or paragraphs of the same provision that say what a term of
    ``text`` (one subsection, opening with its number) is: ['5'] for "(4) ... holds the
    qualification, mentioned in paragraph (5)". An earlier one ("the notice mentioned in
    subsection (2)") is not: the reader has met it."""
    own = _SUBSECTION.match(text)
    if not own:
        return []
    first = int(re.match(r"\d+", own.group(1)).group(0))
    return [
        n for n in _numbers_in((_DEFINED_IN,), text) if int(re.match(r"\d+", n).group(0)) > first
    ]


def exception_to(text: str) -> list[str]:
    """The subsections or paragraphs of the same provision that ``text`` (one subsection) is
    an exception to: ['3'] for "(4) Subsection (3) does not apply where—", ['1'] for "(4) The
    local authority need not comply with the time limit referred to in paragraph (1) if"."""
    return _numbers_in((_EXCEPTION_TO, _NEED_NOT), text)


def paragraph_number(line: str) -> str | None:
    """'6.15' for '6.15 A pupil has SEN...', '5' for '5. The EYFS...', else None."""
    m = PARAGRAPH_NUMBER.match(line.strip())
    return m.group(1).rstrip(".") if m else None


def _lines_of(text: str, quoted: Iterable[str]) -> list[int]:
    lines = text.splitlines()
    found: list[int] = []
    for quote in quoted:
        probe = quote.strip()[:80]
        for i, line in enumerate(lines):
            if probe and probe in line:
                found.append(i)
                break
    return sorted(set(found))


def _span(numbers: list[str], word: str) -> str:
    unique = list(dict.fromkeys(n for n in numbers if n))
    if not unique:
        return ""
    if len(unique) == 1:
        return f"{word} {unique[0]}"
    return f"{word}s {unique[0]}–{unique[-1]}"


def pinpoint(text: str, metadata: Mapping[str, Any], quoted: Iterable[str] = ()) -> str:
    """The pinpoint of the quoted part of a chunk ('' when the document has no numbering).

    ``quoted`` are the sentences or provisions the answer takes from this chunk; without
    them the pinpoint covers the whole chunk.
    """
    lines = text.splitlines()
    wanted = _lines_of(text, quoted) or list(range(len(lines)))
    doc_type = metadata.get("doc_type")
    if doc_type == "legislation":
        section = str(metadata.get("section", ""))
        matches = list(_SECTION.finditer(section))
        m = matches[-1] if matches else None
        schedule = _SCHEDULE.search(section)
        if schedule:  # "Sch.1 para 3": a Schedule's paragraph, never a section
            paragraph = list(_SCHEDULE_PARAGRAPH.finditer(section[schedule.end() :]))
            base = f"Sch.{schedule.group(1)}"
            if not paragraph:
                return base
            base += f" para {paragraph[-1].group(1)}"
        elif m is None:
            return ""
        else:
            base = f"{m.group(1)}{m.group(2)}"
        subs: list[str] = []
        for i in wanted:
            for j in range(i, -1, -1):  # the subsection this line belongs to
                if sub := _SUBSECTION.match(lines[j]):
                    subs.append(sub.group(1))
                    break
        unique = list(dict.fromkeys(subs))
        if len(unique) == 1:
            return f"{base}({unique[0]})"
        if len(unique) > 1:
            return f"{base}({unique[0]})–({unique[-1]})"
        return base
    if doc_type == "statutory-guidance":
        numbers: list[str] = []
        for i in wanted:
            for j in range(i, -1, -1):  # the numbered paragraph this line belongs to
                if number := paragraph_number(lines[j]):
                    numbers.append(number)
                    break
            else:
                first = str(metadata.get("first_para", ""))
                if first:
                    numbers.append(first)
        return _span(numbers, "para")
    return ""


def cite_label(metadata: Mapping[str, Any], point: str) -> str:
    """'SEND Code of Practice 2015, para 9.40' / 'ALN Act 2018 s.22(2)' / the title alone."""
    name = str(metadata.get("cite_as") or metadata.get("short_name") or metadata.get("title", ""))
    if not point:
        return name
    joiner = ", " if point.startswith("para") else " "
    return f"{name}{joiner}{point}"


_MUST = re.compile(r"\b(must|shall|is required to|are required to|has a duty|have a duty)\b", re.I)
_MUST_NOT = re.compile(r"\b(must not|shall not|may not)\b", re.I)
_MAY = re.compile(r"\bmay\b", re.I)
_SHOULD = re.compile(r"\b(should|ought to)\b", re.I)

DOC_TYPES = ("legislation", "statutory-guidance", "practice-guidance", "research", "case-study")

FORCE_LABELS = {
    "duty": "legal duty",
    "prohibition": "legal duty (must not)",
    "power": "power (may)",
    "statutory-requirement": "statutory requirement",
    "statutory-guidance": "statutory guidance: have regard, explain any departure",
    "provision": "legislation",
    "guidance": "statutory guidance",
    "practice": "practice guidance, not a legal duty",
    "research": "research finding",
    "case-study": "case study: one area's practice",
    "unspecified": "",
}


def legal_force(sentence: str, doc_type: str) -> str:
    """What weight a quoted sentence carries, from its document type and its modal verb.

    Legislation: 'must not' is a prohibition, 'must'/'shall' a duty, 'may' a power. Statutory
    guidance (the SEND Code, Introduction): 'must' marks a statutory requirement, 'should'
    guidance that must be considered, with any departure explained. Other documents describe
    practice or evidence, never a legal duty, whatever their verbs.
    """
    if doc_type == "legislation":
        if _MUST_NOT.search(sentence):
            return "prohibition"
        if _MUST.search(sentence):
            return "duty"
        if _MAY.search(sentence):
            return "power"
        return "provision"
    if doc_type == "statutory-guidance":
        if _MUST.search(sentence):
            return "statutory-requirement"
        if _SHOULD.search(sentence):
            return "statutory-guidance"
        return "guidance"
    if doc_type == "practice-guidance":
        return "practice"
    if doc_type in ("research", "case-study"):
        return doc_type
    return "unspecified"
