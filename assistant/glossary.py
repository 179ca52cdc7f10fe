"""Abbreviations and synonyms of the ALN (Wales) and SEND (England) field.

Questions use short forms ("ALNCo", "EHCP", "SALT") and the documents often use long forms,
or the other way round, and the two countries name the same roles differently. Expanding the
question with its equivalents lets both BM25 and the dense retriever match either form.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

# short form -> long forms (all lower case; matched on word boundaries)
GLOSSARY: dict[str, tuple[str, ...]] = {
    "aln": ("additional learning needs",),
    "alnco": ("additional learning needs co-ordinator",),
    "alncos": ("additional learning needs co-ordinators",),
    "alp": ("additional learning provision",),
    "aln act": ("additional learning needs and education tribunal (wales) act",),
    "alnet act": ("additional learning needs and education tribunal (wales) act",),
    "idp": ("individual development plan",),
    "idps": ("individual development plans",),
    "declo": ("designated education clinical lead officer",),
    "sen": ("special educational needs",),
    "send": (
        "special educational needs and disabilities",
        "special educational needs and disability",
    ),
    "senco": ("sen co-ordinator", "special educational needs co-ordinator"),
    "sencos": ("sen co-ordinators", "special educational needs co-ordinators"),
    "ehc": ("education, health and care",),
    "ehcp": ("ehc plan", "education, health and care plan"),
    "ehc plan": ("education, health and care plan",),
    "salt": ("speech and language therapy",),
    "slcn": ("speech, language and communication needs",),
    "eyfs": ("early years foundation stage",),
    "semh": ("social, emotional and mental health",),
    "senif": ("special educational needs inclusion fund",),
    "sle": ("specialist leader of education",),
    "sles": ("specialist leaders of education",),
    "ta": ("teaching assistant",),
    "tas": ("teaching assistants",),
    "lsa": ("learning support assistant",),
    "pvi": ("private, voluntary and independent",),
    "la": ("local authority",),
    "cfa": ("children and families act",),
    "nasenco": ("national award for special educational needs co-ordination",),
}

# plain-language words -> the words the documents use
SYNONYMS: dict[str, tuple[str, ...]] = {
    "nursery": ("setting", "early years"),
    "nurseries": ("settings", "early years"),
    "pre-school": ("setting", "early years"),
    "preschool": ("setting", "early years"),
    "kid": ("child",),
    "kids": ("children",),
    "law": ("act", "duty"),
    "legally": ("must", "duty"),
    "wales": ("welsh",),
    "england": ("english",),
    # How parents and practitioners put it -> how the Acts, Regulations and Codes put it.
    # General vocabulary of the field (help-page and statute usage), not any eval question.
    "council": ("local authority",),
    "councils": ("local authorities",),
    "deadline": ("time limit", "period", "within weeks"),
    "deadlines": ("time limits", "period", "within weeks"),
    "how long": ("period", "within weeks months"),
    "how quickly": ("period", "within weeks"),
    "how soon": ("period", "within weeks"),
    "how often": ("every months", "review period"),
    "refuse": ("decides not to", "not necessary"),
    "refused": ("decided not to", "not necessary"),
    "refuses": ("decides not to", "not necessary"),
    "turned down": ("decided not to", "not necessary"),
    "said no": ("decided not to", "not necessary"),
    "stop": ("cease to maintain",),
    "stopped": ("cease to maintain",),
    "take away": ("cease to maintain",),
    "carry on": ("continue to maintain",),
    "name a school": ("secure that the plan names", "request a particular school"),
    "choose a school": ("request a particular school", "named in the plan"),
    "school preference": ("request a particular school",),
    "take my child": ("admit the child",),
    "appeal": ("Tribunal",),
    "challenge": ("appeal", "Tribunal"),
    "disagree": ("disagreement", "resolution", "appeal"),
    "not happy": ("disagreement", "resolution", "appeal"),
    "complain": ("complaint", "disagreement"),
    "statement": ("EHC plan",),
    "kicked out": ("exclusion", "excluded"),
    "son": ("child",),
    "daughter": ("child",),
    "toddler": ("child", "early years"),
    "ratio": ("member of staff for every children",),
    "ratios": ("member of staff for every children",),
    "college": ("post-16 institution", "further education"),
    "after 16": ("young person", "post-16"),
    "teacher in charge of sen": ("SENCO",),
    "extra help": ("special educational provision", "support"),
    "support plan": ("EHC plan", "individual development plan"),
    "comment on": ("make representations", "views"),
    "invited": ("invite", "attend"),
}


# The same idea in each country's system: England (CFA 2014) <-> Wales (ALN Act 2018).
# Applied when a question names the other country ("what about Wales?").
ENGLAND_TO_WALES: dict[str, str] = {
    "ehc plan": "individual development plan",
    "ehc plans": "individual development plans",
    "ehcp": "individual development plan",
    "education, health and care plan": "individual development plan",
    "senco": "additional learning needs co-ordinator",
    "sen co-ordinator": "additional learning needs co-ordinator",
    "special educational needs": "additional learning needs",
    "special educational provision": "additional learning provision",
    "sen": "additional learning needs",
    "send": "additional learning needs",
    "first-tier tribunal": "Education Tribunal for Wales",
    "local offer": "advice and information",
}
_WALES = re.compile(r"\b(wales|welsh|cymru)\b", re.I)
_ENGLAND = re.compile(r"\b(england|english)\b", re.I)


def _word(text: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w-]){re.escape(text)}(?![\w-])", re.I)


# (pattern, equivalent, is_abbreviation)
# (pattern, the other forms, is_abbreviation), compiled once
_FORMS: list[tuple[re.Pattern[str], tuple[str, ...], bool]] = []
for _short, _longs in GLOSSARY.items():
    _FORMS.append((_word(_short), _longs, True))
    for _long in _longs:  # and back: the long form finds the short one
        _FORMS.append((_word(_long), (_short.upper(),), False))
for _plain, _words in SYNONYMS.items():
    _FORMS.append((_word(_plain), _words, False))
_PAIRS = [(pattern, " ".join(forms), abbreviation) for pattern, forms, abbreviation in _FORMS]


def _is_abbreviation(found: str) -> bool:
    """'SEND', 'ALNCo', 'Senco' are abbreviations; the verb 'send' or 'salt' is not."""
    return sum(ch.isupper() for ch in found) >= 2 or (
        len(found) >= 5 and found.lower() in ("alnco", "senco", "sencos", "alncos", "nasenco")
    )


def expansions(term: str) -> list[str]:
    """The long forms of an abbreviation ('idp' -> ['individual development plan']) and the
    short form of a long one, for looking a term up in the documents."""
    key = term.lower().strip()
    out = list(GLOSSARY.get(key, ()))
    out += [short for short, longs in GLOSSARY.items() if key in longs]
    return out


# Names the vocabulary's content (glossary and synonyms): corpus forms saved with an index
# generation are reused only while the vocabulary is the one they were counted for.
_VOCABULARY_JSON = json.dumps([GLOSSARY, SYNONYMS], sort_keys=True)
GLOSSARY_KEY = hashlib.sha1(_VOCABULARY_JSON.encode()).hexdigest()[:12]

_ONE_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")


@dataclass(frozen=True)
class CorpusForms:
    """How the documents themselves write the field's terms, counted once per index.

    ``spellings``: abbreviation -> the long form to write it out as for the dense model.
    ``equivalents``: a term a question may use -> the equivalents of it that the documents
    use more often than the term itself (what BM25 is also given)."""

    spellings: dict[str, str] = field(default_factory=dict)
    equivalents: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"spellings": self.spellings, "equivalents": self.equivalents}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CorpusForms:
        return cls(
            spellings={str(k): str(v) for k, v in dict(data["spellings"]).items()},
            equivalents={str(k): tuple(v) for k, v in dict(data["equivalents"]).items()},
        )


def _counter(texts: list[str]):
    """How often the documents write a form: a single word as a whole word, a phrase (specific
    enough) as a substring."""
    joined = "\n".join(texts).lower()
    words = Counter(_ONE_WORD.findall(joined))

    def count(form: str) -> int:
        form = form.lower()
        return words[form] if _ONE_WORD.fullmatch(form) else joined.count(form)

    return count


def corpus_forms(texts: list[str]) -> CorpusForms:
    """Count, in the documents, each form of each field term (see ``CorpusForms``).

    Spellings: for each abbreviation of the glossary, the long form the documents use most,
    when they use it more often than the abbreviation itself. The documents say 'additional
    learning needs co-ordinator', not 'ALNCo', and 'EHC plan', not 'EHCP'; an abbreviation they
    use themselves ('SEN', 'EHC plan') is left as it is.

    Equivalents: a question's word is translated into the documents' word only where the
    documents prefer that word. 'deadline' brings 'time limit' (the Regulations' word), but
    'EHC plan', which the documents write thousands of times, is not padded with 'education,
    health and care plan': that would only add the commonest words of the Code to the query."""
    count = _counter(texts)
    spellings: dict[str, str] = {}
    for short, longs in GLOSSARY.items():
        counts = {form: count(form) for form in longs}
        best = max(longs, key=lambda f: counts[f])
        if counts[best] > count(short):
            spellings[short] = best
    candidates: dict[str, list[str]] = {}
    for short, longs in GLOSSARY.items():
        candidates.setdefault(short, []).extend(longs)
        for long in longs:
            candidates.setdefault(long, []).append(short.upper())
    for plain, words in SYNONYMS.items():
        candidates.setdefault(plain, []).extend(words)
    equivalents: dict[str, tuple[str, ...]] = {}
    for term, alternatives in candidates.items():
        own = count(term)
        preferred = tuple(dict.fromkeys(a for a in alternatives if count(a) > own))
        if preferred:
            equivalents[term] = preferred
    return CorpusForms(spellings, equivalents)


def spell_out(question: str, spellings: dict[str, str]) -> str:
    """The question with its abbreviations written out in place as the documents write them,
    the short form kept after it: 'Who must designate an ALNCo?' -> 'Who must designate an
    additional learning needs co-ordinator (ALNCo)?'. This is what the dense model reads:
    MiniLM knows the words, not the field's short forms. Synonyms are for BM25 only."""
    out = question
    for short in sorted(spellings, key=len, reverse=True):
        long = spellings[short]

        if _word(long).search(out):
            continue  # already written out

        def _replace(m: re.Match[str], long: str = long) -> str:
            found = m.group(0)
            return f"{long} ({found})" if _is_abbreviation(found) else found

        out = _word(short).sub(_replace, out)
    return out


def equivalents_of(question: str) -> list[tuple[str, tuple[str, ...]]]:
    """Each field term the question uses, as written, with the other ways of saying it:
    [('EHCP', ('ehc plan', 'education, health and care plan')), ('daughter', ('child',))]."""
    out: list[tuple[str, tuple[str, ...]]] = []
    for pattern, forms, abbreviation in _FORMS:
        m = pattern.search(question)
        if m and (not abbreviation or _is_abbreviation(m.group(0))):
            out.append((m.group(0), forms))
    return out


def expand(question: str, equivalents: dict[str, tuple[str, ...]] | None = None) -> str:
    """The question followed by the equivalents of the field terms it uses (if any).

    With ``equivalents`` (``CorpusForms.equivalents``), only the equivalents the documents
    prefer to the question's own word are added; without, every equivalent of the glossary."""
    extra: list[str] = []
    lowered = question.lower()
    if equivalents is None:
        for pattern, replacement, abbreviation in _PAIRS:
            match = pattern.search(question)
            if not match or (abbreviation and not _is_abbreviation(match.group(0))):
                continue
            if replacement.lower() not in lowered and replacement not in extra:
                extra.append(replacement)
    else:
        for term, alternatives in equivalents.items():
            match = _word(term).search(question)
            if not match or (term in GLOSSARY and not _is_abbreviation(match.group(0))):
                continue
            for alternative in alternatives:
                if alternative.lower() not in lowered and alternative not in extra:
                    extra.append(alternative)
    if _WALES.search(question):
        pairs = ENGLAND_TO_WALES.items()
    elif _ENGLAND.search(question):
        pairs = [(wales, england) for england, wales in ENGLAND_TO_WALES.items()]
    else:
        pairs = []
    for term, equivalent in pairs:
        if _word(term).search(question) and equivalent.lower() not in lowered:
            if equivalent not in extra:
                extra.append(equivalent)
    return f"{question} ({'; '.join(extra)})" if extra else question
