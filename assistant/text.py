"""Text utilities shared by ingest, retrieval, answering and evals (a leaf: imports nothing
of the project): the tokeniser and stopwords, the sentence splitter, cosine maths.

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
    hi hello thanks thank anyone anybody wondering wonder wondered suggest suggestions""".split()
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
