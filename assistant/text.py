"""Text utilities shared by ingest, retrieval, answering and evals (a leaf: imports nothing
of the project): the tokeniser and stopwords, the sentence splitter, cosine maths, and the
kind of figure a question asks for (a sum, a time, a number) with whether a text states one.

SPLITTER_VERSION is part of the index recipe: changing how text is split into sentences
changes the stored sentence vectors, so it must re-ingest.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

SPLITTER_VERSION = "2"

TOKEN = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
# A hyphenated compound of letters, in lower-cased text: 'step-in', 'day-to-day', 'co-ordinator';
# not a range or a figure ('0-25', '16-to-19'), nor a piece of one.
COMPOUND = re.compile(r"(?<![\w-])[a-z]+(?:-[a-z]+)+(?![\w-])")
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself
    yourselves tell explain describe say says said according document documents guidance
    please give list key main anything something much many also must may might shall
    hi hello thanks thank anyone anybody wondering wonder wondered suggest suggestions
    happen happens happened happening""".split()
    # Contractions, as people type questions ("What's an IDP?", "doesn't", "can't"; a curly
    # apostrophe is read as a straight one first). The documents never contract, so each
    # would count as a word no passage holds, the rarest there is, though it says no more
    # than "what is" or "not".
    + """don't doesn't didn't can't cannot couldn't won't wouldn't shouldn't isn't aren't
    wasn't weren't haven't hasn't hadn't mustn't needn't shan't mightn't i'm i've i'd i'll
    you're you've you'd you'll we're we've we'd we'll they're they've they'd they'll he's
    she's it's that's there's what's who's where's when's how's why's let's""".split()
    # and typed without the apostrophe, where that is not a word of its own ("whats")
    + """whats whos wheres hows dont doesnt didnt cant isnt arent wasnt werent havent hasnt
    hadnt couldnt shouldnt wouldnt mustnt neednt wont im ive youre youve theyre theyve weve
    thats theres""".split()
)

_SENTENCE_END = re.compile(r"(?<=[.!?])[’'\")\]]?\s+(?=[A-Z“‘\"(•\d])")
_ITEM = re.compile(r"^\s*- ")


def split_sentences(text: str) -> list[tuple[str, bool]]:
    """(sentence, is_list_item) in order; a list item is kept whole."""
    out: list[tuple[str, bool]] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if _ITEM.match(line):
            out.append((line.strip()[2:].strip(), True))
            continue
        for part in _SENTENCE_END.split(line.strip()):
            if part.strip():
                out.append((part.strip(), False))
    return out


def unit_vector(vector: Any) -> np.ndarray:
    """The vector scaled to length 1 (a zero vector stays zero), as float32."""
    v = np.asarray(vector, dtype=np.float32)
    return v / (np.linalg.norm(v) or 1.0)


_NUMBER_WORDS = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|"
    r"twenty|thirty|forty|fifty|hundred|thousand|million|half|a few|several"
)
# What a question asks for, and what an answer to it must contain: a question asking for a sum
# of money is not answered by a passage that states none, however close its words are.
ANSWER_TYPES: list[tuple[str, re.Pattern[str], re.Pattern[str]]] = [
    (
        "a sum of money",
        re.compile(
            r"\b(how much (money|funding|does|do|is|are|will|did)|cost|costs|fee|fees|"
            r"price|prices|salary|salaries|pay rate|hourly rate|in pounds)\b|£",
            re.I,
        ),
        re.compile(r"£\s?\d|\b\d+p\b|\bpounds\b|free of charge|\bfree\b|no cost|low cost", re.I),
    ),
    (
        "a percentage",
        re.compile(r"\b(percentage|per cent|percent|proportion|what share|rate)\b", re.I),
        re.compile(r"\d+(\.\d+)?\s?%|\bper ?cent\b|\b(half|third|quarter|majority)\b", re.I),
    ),
    (
        "a length of time",
        re.compile(
            r"\b(how long|how soon|within (how many|what time)|timescale|time limit|"
            r"deadline|how many (hours|days|weeks|months|years|terms))\b",
            re.I,
        ),
        re.compile(
            rf"\b(\d+|{_NUMBER_WORDS})[\s-]*(working |school |full |half )?"
            r"(hours?|days?|weeks?|months?|years?|terms?|sessions?)\b|as soon as|annual|"
            r"\bimmediately\b",
            re.I,
        ),
    ),
    (
        "a number",
        re.compile(r"\bhow many\b", re.I),
        re.compile(rf"\d|\b({_NUMBER_WORDS}|dozen|all|none|no)\b", re.I),
    ),
]


def answer_type(question: str) -> re.Pattern[str] | None:
    """The pattern an answer to this question should match, if it asks for a figure."""
    for _name, asks, gives in ANSWER_TYPES:
        if asks.search(question):
            return gives
    return None


_REFERENCES = re.compile(
    r"(^|\s)[-–]?\s*\((\d{1,3}[A-Z]?|[a-z]{1,4})\)"  # list markers: (1) (a) (iv)
    r"|\b(sections?|regulations?|paragraphs?|schedules?|parts?|chapters?|articles?|s\.|reg\.)"
    r"\s*\d+[A-Z]?(\(\w+\))*"  # references: section 60(2), reg. 13
    r"|\b(1[89]|20)\d\d\b"  # years, as in an Act's name
    r"|\b(c|anaw|nawm|SI)\.?\s*\d+",  # chapter numbers: (c. 6), anaw 2
    re.I,
)


def missing_answer_type(question: str, answer_text: str) -> str | None:
    """The kind of fact the question asks for when the answer text states none of it.

    List markers, section references and years are not figures: "(1)", "section 60" or
    "Act 2014" does not answer "how many".
    """
    text = _REFERENCES.sub(" ", answer_text)
    for name, asks, gives in ANSWER_TYPES:
        if asks.search(question):
            return None if gives.search(text) else name
    return None
