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
_PAIRS: list[tuple[re.Pattern[str], str, bool]] = []
for _short, _longs in GLOSSARY.items():
    _PAIRS.append((_word(_short), " ".join(_longs), True))
    for _long in _longs:  # and back: the long form finds the short one
        _PAIRS.append((_word(_long), _short.upper(), False))
for _plain, _words in SYNONYMS.items():
    _PAIRS.append((_word(_plain), " ".join(_words), False))


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


# Names this glossary's content: spellings saved with an index generation are reused only
# while the glossary is the one they were counted for.
GLOSSARY_KEY = hashlib.sha1(json.dumps(GLOSSARY, sort_keys=True).encode()).hexdigest()[:12]


def corpus_spellings(texts: list[str]) -> dict[str, str]:
    """For each abbreviation of the glossary, the long form to write it out as: the long form
    the documents use most, when they use it more often than the abbreviation itself. The
    documents say 'additional learning needs co-ordinator', not 'ALNCo', and 'EHC plan', not
    'EHCP'; an abbreviation they use themselves ('SEN', 'EHC plan') is left as it is."""
    joined = "\n".join(texts).lower()
    words = Counter(re.findall(r"[a-z0-9]+(?:[-'][a-z0-9]+)*", joined))

    def count(form: str) -> int:
        # one word: counted as a whole word; a phrase is specific enough to count as a substring
        return (
            words[form]
            if re.fullmatch(r"[a-z0-9]+(?:[-'][a-z0-9]+)*", form)
            else joined.count(form)
        )

    spellings: dict[str, str] = {}
    for short, longs in GLOSSARY.items():
        counts = {form: count(form) for form in longs}
        best = max(longs, key=lambda f: counts[f])
        if counts[best] > count(short):
            spellings[short] = best
    return spellings


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


def expand(question: str) -> str:
    """The question followed by the equivalents of the field terms it uses (if any)."""
    extra: list[str] = []
    lowered = question.lower()
    for pattern, replacement, abbreviation in _PAIRS:
        match = pattern.search(question)
        if not match or (abbreviation and not _is_abbreviation(match.group(0))):
            continue
        if replacement.lower() not in lowered and replacement not in extra:
            extra.append(replacement)
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
