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
from functools import lru_cache
from typing import Any

from spellchecker import SpellChecker

from assistant.settings import ReadingSettings
from assistant.text import COMPOUND

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
    # the role's other common name in England's schools since 2014
    "sendco": ("senco", "sen co-ordinator", "special educational needs co-ordinator"),
    "sendcos": ("sencos", "sen co-ordinators", "special educational needs co-ordinators"),
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
    # Short forms parents, schools and help pages use for the field's processes, roles,
    # needs and services (general usage of the field, not taken from any eval question),
    # each to the long form the documents write.
    "ehcna": ("ehc needs assessment",),
    "ehcnas": ("ehc needs assessments",),
    "ep": ("educational psychologist",),
    "eps": ("educational psychologists",),
    "ot": ("occupational therapy", "occupational therapist"),
    "slt": ("speech and language therapist",),
    "camhs": ("child and adolescent mental health services",),
    "asd": ("autism spectrum disorder", "autism"),
    "asc": ("autism spectrum condition", "autism"),
    "adhd": ("attention deficit hyperactivity disorder",),
    "spld": ("specific learning difficulties",),
    "mld": ("moderate learning difficulties",),
    "sld": ("severe learning difficulties",),
    "pmld": ("profound and multiple learning difficulties",),
    "vi": ("vision impairment",),
    "msi": ("multi-sensory impairment",),
    "lac": ("looked after children",),
    "cla": ("looked after children",),
    "pep": ("personal education plan",),
    "pru": ("pupil referral unit",),
    "prus": ("pupil referral units",),
    "ap": ("alternative provision",),
    "eotas": ("education otherwise than at school",),
    "ehe": ("elective home education", "home education"),
    "pfa": ("preparing for adulthood",),
    "ccg": ("clinical commissioning group",),
    "ccgs": ("clinical commissioning groups",),
    "dfe": ("department for education",),
    "iep": ("individual education plan",),
    "cyp": ("children and young people",),
    "yp": ("young person",),
    "hlta": ("higher level teaching assistant",),
    "qft": ("high quality teaching", "quality first teaching"),
    "eypp": ("early years pupil premium",),
    "daf": ("disability access fund",),
    "etw": ("education tribunal for wales",),
    "sendist": ("first-tier tribunal",),
    "dla": ("disability living allowance",),
    "dsa": ("disabled students' allowance",),
    "neet": ("not in education, employment or training",),
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
_ABBREVIATION_RULE = "2"  # changing defined_abbreviations or _compounds must recount
_VOCABULARY_JSON = json.dumps([GLOSSARY, SYNONYMS, _ABBREVIATION_RULE], sort_keys=True)
GLOSSARY_KEY = hashlib.sha1(_VOCABULARY_JSON.encode()).hexdigest()[:12]

_ONE_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")


@dataclass(frozen=True)
class CorpusForms:
    """How the documents themselves write the field's terms, counted once per index.

    ``spellings``: abbreviation -> the long form to write it out as for the dense model.
    ``equivalents``: a term a question may use -> the equivalents of it that the documents
    use more often than the term itself (what BM25 is also given).
    ``abbreviations``: the short forms the documents define themselves ('Child and Adolescent
    Mental Health Services (CAMHS)') that the glossary does not hold; like the glossary's,
    they count only when written as abbreviations ('CHAT', not the verb 'chat').
    ``ordinary``: those short forms that the documents also write in lower case as a word of
    their own ('send', 'chat'): typed in lower case they stay words (``read_short_forms``).
    ``words``: how often the documents write each word, to read a misspelt question word as
    the one they use (``correct_spelling``)."""

    spellings: dict[str, str] = field(default_factory=dict)
    equivalents: dict[str, tuple[str, ...]] = field(default_factory=dict)
    abbreviations: tuple[str, ...] = ()
    ordinary: tuple[str, ...] = ()
    words: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "spellings": self.spellings,
            "equivalents": self.equivalents,
            "abbreviations": list(self.abbreviations),
            "ordinary": list(self.ordinary),
            "words": self.words,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CorpusForms:
        return cls(
            spellings={str(k): str(v) for k, v in dict(data["spellings"]).items()},
            equivalents={str(k): tuple(v) for k, v in dict(data["equivalents"]).items()},
            abbreviations=tuple(str(a) for a in data.get("abbreviations", ())),
            ordinary=tuple(str(a) for a in data["ordinary"]),
            words={str(k): int(v) for k, v in dict(data["words"]).items()},
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


# '(CAMHS)', '(DfE)', '(CCGs)': a bracketed short form with at least two capitals
_BRACKETED = re.compile(r"\((?P<short>[A-Z][A-Za-z]{1,9}?)(?P<plural>s?)\)")
_LONG_WORD = re.compile(r"[A-Za-z][A-Za-z']*")
_LINKING = frozenset("and of the for with in to on or".split())


def _initials_start(words: list[str], letters: str) -> int | None:
    """Where, in ``words``, the shortest run ending at the last word whose initials spell
    ``letters`` starts (linking words may be skipped or spell a letter; the run neither
    starts nor is padded with them); None if there is none."""

    def match(i: int, j: int) -> int | None:
        if i < 0:
            return j + 1 if j + 1 < len(words) and words[j + 1] not in _LINKING else None
        if j < 0 or len(words) - j > 2 * len(letters) + 2:
            return None
        word = words[j]
        if word in _LINKING:
            skipped = match(i, j - 1)
            if skipped is not None:
                return skipped
        return match(i - 1, j - 1) if word[0] == letters[i] else None

    return match(len(letters) - 1, len(words) - 1)


def defined_abbreviations(texts: list[str]) -> dict[str, str]:
    """Short forms the documents define by writing them in brackets after their long form,
    matched on initials (after Schwartz and Hearst, 2003): 'Clinical Commissioning Groups
    (CCGs)' -> {'ccg': 'clinical commissioning group'}; 'Education, Health and Care (EHC)' ->
    {'ehc': 'education, health and care'}. Linking words may be skipped ('Department for
    Education (DfE)'), a hyphenated word gives one initial per part ('co-ordinator'), and the
    commonest long form wins. Short forms the glossary holds are left to it."""
    found: dict[str, Counter[str]] = {}
    for text in texts:
        for m in _BRACKETED.finditer(text):
            short = m.group("short")
            if sum(ch.isupper() for ch in short) < 2 or short.lower() in GLOSSARY:
                continue
            before = text[max(0, m.start() - 160) : m.start()]
            words = list(_LONG_WORD.finditer(before.replace("-", " ")))
            start = _initials_start([w.group(0).lower() for w in words], short.lower())
            if start is None:
                continue
            long = " ".join(before[words[start].start() :].lower().split())
            if m.group("plural") and long.endswith("s"):
                long = long[:-1]
            found.setdefault(short.lower(), Counter())[long] += 1
    return {short: forms.most_common(1)[0][0] for short, forms in found.items()}


def _compounds(texts: list[str]) -> list[tuple[str, str]]:
    """(hyphenated, joined) for each compound the documents hyphenate: ('co-ordinator',
    'coordinator'), ('re-assessment', 'reassessment'), so that either spelling in a question
    brings the one the documents prefer."""
    found = {m.group(0) for text in texts for m in COMPOUND.finditer(text.lower())}
    return sorted((h, h.replace("-", "")) for h in found)


def corpus_forms(texts: list[str]) -> CorpusForms:
    """Count, in the documents, each form of each field term (see ``CorpusForms``).

    Spellings: for each abbreviation of the glossary, the long form the documents use most,
    when they use it more often than the abbreviation itself. The documents say 'additional
    learning needs co-ordinator', not 'ALNCo', and 'EHC plan', not 'EHCP'; an abbreviation they
    use themselves ('SEN', 'EHC plan') is left as it is.

    Equivalents: a question's word is translated into the documents' word only where the
    documents prefer that word (and a compound into the spelling they prefer: 'coordinator'
    brings 'co-ordinator'). 'deadline' brings 'time limit' (the Regulations' word), but
    'EHC plan', which the documents write thousands of times, is not padded with 'education,
    health and care plan': that would only add the commonest words of the Code to the query."""
    count = _counter(texts)
    defined = {short: (long,) for short, long in defined_abbreviations(texts).items()}
    terms = {**defined, **GLOSSARY}
    spellings: dict[str, str] = {}
    for short, longs in terms.items():
        counts = {form: count(form) for form in longs}
        best = max(longs, key=lambda f: counts[f])
        if counts[best] > count(short):
            spellings[short] = best
    candidates: dict[str, list[str]] = {}
    for short, longs in terms.items():
        candidates.setdefault(short, []).extend(longs)
        for long in longs:
            candidates.setdefault(long, []).append(short.upper())
    for plain, words in SYNONYMS.items():
        candidates.setdefault(plain, []).extend(words)
    for hyphenated, joined in _compounds(texts):
        candidates.setdefault(joined, []).append(hyphenated)
        candidates.setdefault(hyphenated, []).append(joined)
    equivalents: dict[str, tuple[str, ...]] = {}
    for term, alternatives in candidates.items():
        own = count(term)
        preferred = tuple(dict.fromkeys(a for a in alternatives if count(a) > own))
        if preferred:
            equivalents[term] = preferred
    lower_words = {w for t in texts for w in _LOWER_WORD.findall(t)}
    ordinary = tuple(sorted(short for short in terms if short in lower_words))
    words = Counter(w for t in texts for w in _LETTERS.findall(t.lower()) if len(w) > 1)
    return CorpusForms(
        spellings, equivalents, tuple(sorted(defined)), ordinary, dict(sorted(words.items()))
    )


_LETTERS = re.compile(r"[a-z]+")


@lru_cache(maxsize=1)
def _english() -> SpellChecker:
    """pyspellchecker's English word list (shipped inside the package; loaded once, on the
    first question with a word the documents never write: about 0.2 s)."""
    return SpellChecker(language="en", distance=1)


def correct_spelling(question: str, forms: CorpusForms, reading: ReadingSettings) -> str:
    """The question with each misspelt word read as the word one letter away that the
    documents write most ('assesment' -> 'assessment', 'statment' -> 'statement'). Only a
    word long enough (``reading.spelling_letters``) that neither the documents nor English
    use is misspelt: a
    real word the documents do not use ('wording', 'Southend' has no neighbour) stays, and
    so does a short form of the field ('EHCNA'). The neighbour keeps the first letter:
    people rarely mistype that one. An American spelling the documents do not use is read as
    the British one they do ('behavior' -> 'behaviour', 'program' -> 'programme')."""
    if not forms.words:
        return question

    def known(word: str) -> bool:
        return forms.words.get(word, 0) >= reading.spelling_min_count

    def fix(m: re.Match[str]) -> str:
        found = m.group(0)
        word = found.lower()
        if (
            len(word) < reading.spelling_letters
            or word in forms.words
            or sum(ch.isupper() for ch in found) >= 2
            or word in GLOSSARY
            or word in SYNONYMS
        ):
            return found
        near = [w for w in british_spellings(word) if known(w)]
        if not near and not _english().known([word]):
            near = [w for w in _english().edit_distance_1(word) if known(w) and w[0] == word[0]]
        if not near:
            return found
        best = max(near, key=lambda w: (forms.words[w], w))
        return best.capitalize() if found[0].isupper() else best

    return _QUESTION_WORD.sub(fix, question)


# American spellings and the British ones the documents use (a phone's keyboard is often
# set to American English): each rule is tried, and kept only if the documents use the result.
_BRITISH = [
    (re.compile(r"or(s|al|ally|ed|ing|ist|ists)?$"), r"our\1"),  # behavior, color
    (re.compile(r"iz(e|es|ed|ing|ation|ations)$"), r"is\1"),  # organize, organization
    (re.compile(r"yz(e|es|ed|ing)$"), r"ys\1"),  # analyze
    (re.compile(r"er(s)?$"), r"re\1"),  # center
    (re.compile(r"^ped"), "paed"),  # pediatric
    (re.compile(r"([aeiou])l(ed|ing|er|ers)$"), r"\1ll\2"),  # labeled, counseling
    (re.compile(r"ll(ment|ments)$"), r"l\1"),  # enrollment
    (re.compile(r"ill$"), "il"),  # fulfill
    (re.compile(r"gment(s)?$"), r"gement\1"),  # judgment
    (re.compile(r"(en|fen)se$"), r"\1ce"),  # license, defense
    (re.compile(r"gram(s)?$"), r"gramme\1"),  # program
]


def british_spellings(word: str) -> list[str]:
    """The British spellings an American one may stand for ('behavior' -> 'behaviour',
    'pediatric' -> 'paediatric'); the caller keeps those the documents use."""
    return [out for pattern, repl in _BRITISH if (out := pattern.sub(repl, word)) != word]


_QUESTION_WORD = re.compile(r"(?<![\w'’-])[A-Za-z]+(?![\w'’-])")


# a word written in lower case, not part of a hyphenated compound
_LOWER_WORD = re.compile(r"(?<![\w-])[a-z]+(?![\w-])")


def read_short_forms(question: str, forms: CorpusForms, reading: ReadingSettings) -> str:
    """The question with the field's short forms typed in lower case read as short forms:
    'what is an idp' -> 'what is an IDP', 'my sons senco' -> 'my sons SENCO'. Phones and
    quick typing lose the capitals, and every later step reads a short form by them (the
    verb 'send' is not SEND). Only the glossary's (the documents' own short forms include
    words such as 'chat'); one the documents also use as an ordinary lower-case word
    ('send'), or shorter than ``reading.short_form_letters``, stays as typed."""
    letters = [ch for ch in question if ch.isalpha()]
    shouted = len(letters) >= reading.shouted_letters and all(ch.isupper() for ch in letters)
    # a question typed in capitals ('CAN THEY SEND HIM HOME?') is read in lower case first:
    # its every word looks like a short form, and 'SEND' would be read as one
    out = question.lower() if shouted else question
    for short, pattern in _SHORT_FORMS:
        if len(short) >= reading.short_form_letters and short not in forms.ordinary:
            out = pattern.sub(_capitals, out)
    return out


# the glossary's one-word short forms and their patterns, compiled once (not per question)
_SHORT_FORMS = [(short, _word(short)) for short in GLOSSARY if " " not in short]


def _capitals(m: re.Match[str]) -> str:
    found = m.group(0)
    return found if sum(ch.isupper() for ch in found) >= 2 else found.upper()


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


def expand(
    question: str,
    equivalents: dict[str, tuple[str, ...]] | None = None,
    abbreviations: tuple[str, ...] = (),
) -> str:
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
            is_short = term in GLOSSARY or term in abbreviations
            if not match or (is_short and not _is_abbreviation(match.group(0))):
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
