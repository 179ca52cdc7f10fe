"""Trainer packs: a topic in, a session outline out, every point quoted and cited.

`python -m assistant pack "stepping back" --out pack.docx` and the app's "Prepare a session"
tab build the same pack:

- what the law requires, per country (answered from legislation only);
- key points from statutory and practice guidance;
- one case study or research excerpt;
- discussion prompts: fixed template words around a cited quote;
- a short quiz: complete a quote from the documents, the answer being its missing word.

Nothing in a pack is unsourced text except the fixed template words below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from assistant.export import answer_markdown, quotes_of, source_line
from assistant.settings import PackSettings
from assistant.text import STOPWORDS
from assistant.types import Answer, Scope, Source

LAW_QUESTION = "What does the law require about {topic}?"
GUIDANCE_QUESTION = "{topic}"
CASE_QUESTION = "{topic}"
PROMPT_TEMPLATES = (
    "How does your setting do this now, and what would you change?",
    "What would this look like for a child or young person you support?",
    "What gets in the way of this in practice, and who could help?",
)
QUIZ_TEMPLATE = "Complete the quote from {cite}:"
BLANK = "_____"


@dataclass(frozen=True)
class Prompt:
    quote: str
    source: Source
    text: str  # one of PROMPT_TEMPLATES


@dataclass(frozen=True)
class QuizItem:
    question: str  # QUIZ_TEMPLATE and the quote with one word blanked
    answer: str  # the blanked word
    quote: str  # the whole quote
    source: Source


@dataclass(frozen=True)
class Pack:
    topic: str
    law: dict[str, Answer]  # country -> answer from that country's legislation
    guidance: Answer
    case_study: Answer
    prompts: list[Prompt]
    quiz: list[QuizItem]


def _quoted(answers: list[Answer]) -> list[tuple[str, Source]]:
    """Every quoted sentence of the answers that were answered, with its source."""
    out: list[tuple[str, Source]] = []
    for answer in answers:
        if answer.refused:
            continue
        for source in answer.sources:
            out += [(q, source) for q in source.highlights if len(q.split()) >= 6]
    return out


_FIGURE = re.compile(
    r"\b(\d+|one|two|three|four|five|six|seven|eight|ten|twelve|fifteen|twenty)\s+"
    r"(working |school )?(days?|weeks?|months?|years?|hours?)\b",
    re.I,
)
_FORCE = re.compile(r"\b(must not|must|should|may)\b")


def _blank(quote: str, idf, avoid: set[str]) -> tuple[str, str] | None:
    """The quote with one thing a trainee should know blanked, and that thing: a time limit
    or other figure, else the word that gives the sentence its legal force (must, should,
    may), else its most informative word."""
    for pattern in (_FIGURE, _FORCE):
        m = pattern.search(quote)
        if m:
            return quote[: m.start()] + BLANK + quote[m.end() :], m.group(0)
    words = [w for w in re.findall(r"[A-Za-z][A-Za-z-]{5,}", quote) if w.lower() not in STOPWORDS]
    words = [w for w in words if w.lower() not in avoid]
    if not words:
        return None
    word = max(words, key=idf)
    return re.sub(rf"\b{re.escape(word)}\b", BLANK, quote, count=1), word


def build_pack(bot, topic: str, settings: PackSettings) -> Pack:
    """Ask the assistant the pack's fixed questions about ``topic`` and assemble the answers."""
    topic = " ".join(str(topic or "").split())[: settings.max_topic_chars]
    if not topic:
        raise ValueError("Give a topic for the session, e.g. 'stepping back'.")
    law = {
        country: bot.ask(LAW_QUESTION.format(topic=topic), scope=Scope(country, ("legislation",)))
        for country in ("Wales", "England")
    }
    guidance = bot.ask(
        GUIDANCE_QUESTION.format(topic=topic),
        scope=Scope(None, ("statutory-guidance", "practice-guidance")),
    )
    case_study = bot.ask(
        CASE_QUESTION.format(topic=topic), scope=Scope(None, ("case-study", "research"))
    )
    quoted = _quoted([guidance, *law.values(), case_study])
    prompts = [
        Prompt(quote, source, PROMPT_TEMPLATES[i % len(PROMPT_TEMPLATES)])
        for i, (quote, source) in enumerate(quoted[: settings.prompts])
    ]
    avoid = {w.lower() for w in re.findall(r"[A-Za-z-]+", topic)}

    def idf(word: str) -> float:
        terms = bot.vocab.terms(word)
        return bot.vocab.idf(terms[0]) if terms else 0.0

    quiz: list[QuizItem] = []
    for quote, source in quoted:
        if len(quiz) >= settings.quiz:
            break
        blanked = _blank(quote, idf, avoid)
        if blanked:
            gap, word = blanked
            question = f"{QUIZ_TEMPLATE.format(cite=source.cite or source.title)} “{gap}”"
            quiz.append(QuizItem(question, word, quote, source))
    return Pack(topic, law, guidance, case_study, prompts, quiz)


def pack_markdown(pack: Pack) -> str:
    lines = [f"# Session pack: {pack.topic}", ""]
    lines += ["## What the law requires", ""]
    for country, answer in pack.law.items():
        lines += [answer_markdown(answer, 3, advice=False).replace(answer.question, country, 1)]
    lines += ["## Key points from guidance", "", answer_markdown(pack.guidance, 3, advice=False)]
    lines += ["## Case study", "", answer_markdown(pack.case_study, 3, advice=False)]
    lines += ["## Discussion prompts", ""]
    for i, p in enumerate(pack.prompts, 1):
        lines += [f"{i}. “{p.quote}” ({source_line(p.source)})", f"   {p.text}", ""]
    lines += ["## Quiz", ""]
    for i, q in enumerate(pack.quiz, 1):
        lines += [f"{i}. {q.question}", f"   Answer: {q.answer} ({source_line(q.source)})", ""]
    return "\n".join(lines).rstrip() + "\n"


def write_pack_docx(pack: Pack, path: Path) -> Path:
    from docx import Document

    doc = Document()
    doc.add_heading(f"Session pack: {pack.topic}", level=0)

    def add_answer(title: str, answer: Answer) -> None:
        doc.add_heading(title, level=2)
        if answer.refused:
            doc.add_paragraph("Not found in the documents.").runs[0].italic = True
        else:
            for paragraph in answer.text.strip().split("\n\n"):
                doc.add_paragraph(paragraph.strip())
        for source in answer.sources:
            doc.add_paragraph(source_line(source), style="List Bullet")
            for quote in quotes_of(source):
                doc.add_paragraph(quote, style="Quote")

    doc.add_heading("What the law requires", level=1)
    for country, answer in pack.law.items():
        add_answer(country, answer)
    doc.add_heading("Key points from guidance", level=1)
    add_answer("Guidance", pack.guidance)
    doc.add_heading("Case study", level=1)
    add_answer("Example from practice", pack.case_study)
    doc.add_heading("Discussion prompts", level=1)
    for p in pack.prompts:
        doc.add_paragraph(f"“{p.quote}” ({source_line(p.source)})", style="List Number")
        doc.add_paragraph(p.text)
    doc.add_heading("Quiz", level=1)
    for q in pack.quiz:
        doc.add_paragraph(q.question, style="List Number")
        doc.add_paragraph(f"Answer: {q.answer} ({source_line(q.source)})")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path


__all__ = ["Pack", "build_pack", "pack_markdown", "write_pack_docx"]
