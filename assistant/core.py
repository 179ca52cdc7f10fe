"""The composition root: ``build_assistant(settings).ask(question)``.

The app, the CLIs and the evaluation suite all come through here; none of them build
LlamaIndex objects themselves.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.schema import MetadataMode

from assistant import lexical_cache, store
from assistant import sentence_vectors as sentence_vectors_file
from assistant.answer import EMPTY_QUESTION, REFUSAL, no_provision_line, no_such_provision
from assistant.backends import make_answerer, make_chroma_client, make_embed_model, make_llm
from assistant.conversation import standalone_question
from assistant.errors import IndexMissingError
from assistant.glossary import GLOSSARY_KEY, CorpusForms, correct_spelling, read_short_forms
from assistant.retrieval import Retriever, Vocabulary
from assistant.settings import ReadingSettings, Settings
from assistant.text import STOPWORDS
from assistant.types import Answer, Draft, Passage, Scope, StreamingAnswerer, Token

logger = logging.getLogger(__name__)


def clean_question(question: Any, max_chars: int) -> str:
    """Untrusted text in, a single-line question of bounded length out."""
    text = "" if question is None else str(question)
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    # Phones and word processors type curly quotes ("What’s an IDP?"): read them as the
    # straight ones every pattern of the question expects.
    text = text.translate(_STRAIGHT_QUOTES)
    text = " ".join(text.split())
    return text[:max_chars]


def read_as_typed(question: str, forms: CorpusForms, reading: ReadingSettings) -> str:
    """The question as the documents would write it: short forms typed in lower case read
    as short forms ('idp' -> 'IDP') and misspelt words as the documents' word one letter
    away ('assesment' -> 'assessment'). What is shown stays as typed."""
    return correct_spelling(read_short_forms(question, forms, reading), forms, reading)


_STRAIGHT_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})


class Assistant:
    """Answers questions from the live index; picks up a re-ingest without a restart."""

    def __init__(
        self, settings: Settings, embed_model: BaseEmbedding, client: Any, llm: Any = None
    ):
        self.settings = settings
        self.embed_model = embed_model
        self.client = client
        self.llm = llm  # a LlamaIndex LLM for generative backends (also rewrites follow-ups)
        self._lock = threading.Lock()
        self._checked_at = 0.0
        self.collection_name = ""
        self._load()

    def _load(self) -> None:
        prefix = self.settings.store.collection_prefix
        location = self.settings.store.url or str(self.settings.store.path)
        collection = store.get_active_collection(self.client, prefix, location)
        store.widen_search(collection, self.settings.store)
        count = collection.count()
        if not count:
            raise IndexMissingError(
                f"The index in {location} is empty: add documents to corpus/ and run `python -m ingest`."
            )
        cache_root = store.lexical_cache_root(self.settings.store)
        cached = lexical_cache.cache_dir(cache_root, collection.name) if cache_root else None
        stats = lexical_cache.load_vocabulary(cached) if cached else None
        bm25_index = lexical_cache.load_bm25(cached, count) if cached and stats else None
        # The saved BM25 index holds every chunk (text and metadata) in index order, in a
        # memory-mapped file: a chunk is parsed from it when a question needs it (at 100,000
        # chunks, reading them all from Chroma took 1.8 GB per 17,000; as nodes, 1 GB).
        nodes = (
            lexical_cache.nodes_of(bm25_index)
            if bm25_index is not None
            else store.load_nodes(collection)
        )
        self.nodes = nodes
        texts = [] if stats else [n.get_content(MetadataMode.EMBED) for n in nodes]
        self.vocab = Vocabulary(texts, stats)
        forms = lexical_cache.load_forms(cached, GLOSSARY_KEY) if cached else None
        chunk_map = lexical_cache.load_chunk_map(cached) if bm25_index is not None else None
        sentences = store.get_sentence_collection(self.client, collection.name)
        # The re-ranker reads sentence vectors from a mapped file of their own (a folder named
        # after the sentence collection): asking Chroma loads its whole vector index.
        sentence_vectors = (
            sentence_vectors_file.load_or_build(
                sentences, lexical_cache.cache_dir(cache_root, sentences.name)
            )
            if cache_root and sentences is not None
            else None
        )
        self.retriever = Retriever(
            self.settings.retrieval,
            collection,
            self.embed_model,
            nodes,
            sentences,
            bm25_index,
            forms,
            sentence_vectors,
            chunk_map,
        )
        if cached is not None and (bm25_index is None or forms is None or chunk_map is None):
            # built this time: saved for the next start
            lexical_cache.save(
                cached,
                self.retriever.bm25,
                self.vocab.stats(),
                {"glossary": GLOSSARY_KEY, "forms": self.retriever.forms.to_json()},
                self.retriever.chunk_map.to_json(),
            )
            live = {c.name for c in self.client.list_collections()}
            lexical_cache.remove_stale(cache_root, live)
        self.answerer = make_answerer(
            self.settings.answer, self.embed_model, self.vocab, self.llm, self.settings.llm
        )
        self.collection_name = collection.name
        logger.info("loaded %d chunks from %s", len(nodes), collection.name)

    def _compare(self, query: str, scope: Scope) -> Draft:
        """Each country's documents retrieved and answered on their own, side by side: each
        country's half of the question is asked of that country's documents only (within
        any document types the scope names), so one country's passages never crowd out the
        other's, and the other country's terms do not count as words left unanswered."""
        sides = []
        for country in ("England", "Wales"):
            side = Scope(country=country, doc_types=scope.doc_types)
            own = one_country_question(query, country)
            _, embedding, passages = self._retrieve_with_reload(own, scope=side)
            sides.append(_Side(country, self.answerer.answer(own, passages, embedding)))
        return _merge_sides(sides)

    def refresh_if_stale(self) -> None:
        """Reload when ingest has switched the live collection since we loaded."""
        now = time.monotonic()
        if now - self._checked_at < self.settings.store.refresh_seconds:
            return
        self._checked_at = now
        self._reload_if_switched()

    def _reload_if_switched(self) -> None:
        active = store.active_collection_name(self.client, self.settings.store.collection_prefix)
        if active and active != self.collection_name:
            with self._lock:
                if active != self.collection_name:
                    self._load()

    def _retrieve_with_reload(
        self, query: str, k: int | None = None, scope: Scope | None = None
    ) -> tuple[Retriever, list[float], list[Passage]]:
        """Retrieve; if ingest deleted the generation we hold meanwhile, reload once and retry."""
        for attempt in (1, 2):
            retriever = self.retriever
            try:
                embedding = retriever.embed_query(query)
                return (
                    retriever,
                    embedding,
                    retriever.retrieve(query, k, query_embedding=embedding, scope=scope),
                )
            except Exception as e:
                if attempt == 2 or not store.is_missing_collection(e):
                    raise
                logger.info(
                    "index %s was replaced during a question: reloading", self.collection_name
                )
                self._reload_if_switched()
        raise AssertionError("unreachable")

    def retrieve(self, question: str, k: int | None = None) -> list[Passage]:
        """The passages the answerer would see, best first."""
        question = clean_question(question, self.settings.answer.max_question_chars)
        if not question:
            return []
        self.refresh_if_stale()
        question = read_as_typed(question, self.retriever.forms, self.settings.reading)
        scope = scope_named_in(question, Scope(), self.retriever.countries_named(question))
        for attempt in (1, 2):
            try:
                return self.retriever.retrieve(question, k, scope=scope)
            except Exception as e:
                if attempt == 2 or not store.is_missing_collection(e):
                    raise
                self._reload_if_switched()
        return []

    def ask(
        self, question: Any, history: list[str] | None = None, scope: Scope | None = None
    ) -> Answer:
        """Answer a question with cited sources, or refuse and show the nearest passages.

        ``history`` holds the earlier questions of the conversation, oldest first; a
        follow-up ("what about Wales?") is rewritten into a standalone query from it.
        """
        answer = None
        for event in self.stream(question, history, scope):
            if isinstance(event, Answer):
                answer = event
        assert answer is not None
        return answer

    def stream(
        self, question: Any, history: list[str] | None = None, scope: Scope | None = None
    ) -> Iterator[Token | Answer]:
        """Yields Token while a generative backend writes, then the final Answer.
        ``scope`` limits the documents answered from (a country, document types)."""
        scope = scope or Scope()
        started = time.perf_counter()
        text = clean_question(question, self.settings.answer.max_question_chars)
        if not any(ch.isalnum() for ch in text):
            yield Answer(
                str(question or ""),
                EMPTY_QUESTION,
                [],
                "out_of_scope",
                {"total": 0.0},
                reason="empty question",
            )
            return
        self.refresh_if_stale()
        forms = self.retriever.forms
        past = [clean_question(h, self.settings.answer.max_question_chars) for h in history or []]
        reading = self.settings.reading
        read = read_as_typed(text, forms, reading)  # 'idp' typed for 'IDP'; shown as typed
        past = [read_as_typed(h, forms, reading) for h in past if h]
        query = standalone_question(read, past, self.vocab, self.llm)
        scope = scope_named_in(read, scope, self.retriever.countries_named(read))
        absent: tuple[str, ...] = ()  # provisions asked for by number that are not there
        if asks_to_compare(query) and not scope.country:
            retrieved = time.perf_counter()
            draft = self._compare(query, scope)
        else:
            draft = None
            retriever, embedding, passages = self._retrieve_with_reload(query, scope=scope)
            absent = retriever.provisions_asked(query, scope).absent
            retrieved = time.perf_counter()
            if absent and not any(p.named is not None for p in passages):
                draft = no_such_provision(absent, passages, self.settings.answer)
        answerer = self.answerer  # the one matching the generation retrieval used
        if draft is not None:
            pass
        elif isinstance(answerer, StreamingAnswerer):
            for event in answerer.stream(query, passages, embedding):
                if isinstance(event, Token):
                    yield event
                else:
                    draft = event
        else:
            draft = answerer.answer(query, passages, embedding)
        assert draft is not None
        if absent and not draft.refused:  # some provisions asked for are there, some not
            note = no_provision_line(absent)
            draft = replace(draft, text=f"{draft.text}\n\n{note}", missing=absent)
        done = time.perf_counter()
        timings = {
            "retrieve": (retrieved - started) * 1000,
            "answer": (done - retrieved) * 1000,
            "total": (done - started) * 1000,
        }
        if draft.refused:
            logger.info("refused %r: %s", text[:80], draft.reason)
        advice = where_to_get_advice(read) if draft.status != "answered" else ""
        yield Answer.from_draft(
            text,
            draft,
            timings,
            query=query,
            advice=advice,
            notice=other_country_notice(read, draft),
            scope=scope,
        )


# Each country's system has its own terms: a question using one system's terms only is
# about that country. Short forms are matched as written ("SEND", not the verb "send").
_SYSTEM_TERMS: dict[str, tuple[re.Pattern[str], ...]] = {
    "Wales": (
        re.compile(r"\b(ALNCos?|ALNCOs?|IDPs?|ALN|ALP|ALNET|SNAP Cymru)\b"),
        re.compile(
            r"\b(individual development plans?|additional learning (needs|provision)|"
            r"additional learning needs co-ordinators?|education tribunal for wales)\b",
            re.I,
        ),
    ),
    "England": (
        re.compile(
            r"\b(SENCOs?|SENCo|SENDCos?|EHCPs?|EHC plans?|EHC|SEND|SEN|SENDIASS|IPSEA|SENDIST)\b"
        ),
        re.compile(
            r"\b(education, health and care( plans?)?|special educational (needs|provision)|"
            r"sen co-ordinators?|first-tier tribunal|local offer)\b",
            re.I,
        ),
    ),
}
ADVICE_WALES = (
    "Where to get advice (not from the documents): in Wales, SNAP Cymru gives "
    "free, independent advice on additional learning needs to families and young "
    "people; your school's ALNCo or your local authority can also help."
)
ADVICE_ENGLAND = (
    "Where to get advice (not from the documents): in England, your local "
    "SEND Information, Advice and Support Service (SENDIASS) or IPSEA gives "
    "free, independent advice; your child's SENCO can also help."
)


def where_to_get_advice(question: str) -> str:
    """Fixed, clearly labelled signposting for a refusal or partial answer, by country."""
    country = question_country(question)
    if country == "Wales":
        return ADVICE_WALES
    if country == "England":
        return ADVICE_ENGLAND
    return (
        ADVICE_WALES
        + "\n"
        + ADVICE_ENGLAND.replace(
            "Where to get advice (not from the documents): in England", "In England"
        )
    )


_BOTH = (re.compile(r"\b(wales|welsh|cymru)\b", re.I), re.compile(r"\b(england|english)\b", re.I))


def other_country_notice(question: str, draft: Draft) -> str:
    """A fixed note when the question names one country and every cited passage is from
    the other's documents (their law differs)."""
    wales, england = (bool(p.search(question)) for p in _BOTH)
    if draft.refused or wales == england or not draft.sources:
        return ""
    asked, other = ("Wales", "England") if wales else ("England", "Wales")
    if all(src.jurisdiction == other for src in draft.sources):
        return (
            f"Note: you asked about {asked}, but these passages are from {other}'s "
            f"documents; {other}'s law and guidance differ from {asked}'s."
        )
    return ""


_COMPARING = re.compile(
    r"\b(compare[ds]?|comparing|compared (with|to)|comparison|versus|vs\.?|differences?|"
    r"differ(s|ent)?( from)?)\b",
    re.I,
)
_WALES_NAMED = re.compile(r"\b(wales|welsh|cymru)\b", re.I)
_ENGLAND_NAMED = re.compile(r"\b(england|english)\b", re.I)


# Wales's local authorities by name ("Caerphilly council won't assess my son"): where the
# family lives decides the law, whatever system's words they use ("a statement of SEN in
# Swansea"). Newport is left out: England has two.
_WELSH_PLACES = re.compile(
    r"\b(anglesey|ynys m[oô]n|gwynedd|conwy|denbighshire|flintshire|wrexham|powys|"
    r"ceredigion|pembrokeshire|carmarthenshire|swansea|neath port talbot|bridgend|"
    r"vale of glamorgan|rhondda cynon taff?|merthyr tydfil|caerphilly|blaenau gwent|"
    r"torfaen|monmouthshire|cardiff)\b",
    re.I,
)


def named_country(question: str) -> str | None:
    """The one country a question names ('what about Wales?' -> 'Wales', or one of Wales's
    local authorities), else None."""
    wales = bool(_WALES_NAMED.search(question) or _WELSH_PLACES.search(question))
    england = bool(_ENGLAND_NAMED.search(question))
    if wales == england:
        return None
    return "Wales" if wales else "England"


def scope_named_in(
    question: str, scope: Scope, document_countries: frozenset[str] = frozenset()
) -> Scope:
    """A question that names one country ("Can a school in Wales charge...?", or the
    follow-up "what about Wales?") is answered from that country's documents: the law of
    the other differs. ``document_countries``: the countries of the documents the question
    names by title ("the Children and Families Act"). A scope already given (the app's or
    the CLI's country) is kept."""
    country = question_country(question, document_countries)
    if country and not scope.country:
        return Scope(country, scope.doc_types)
    return scope


def question_country(question: str, document_countries: frozenset[str] = frozenset()) -> str | None:
    """The one country a question is about: the one it names, else the one whose system's
    terms it uses and whose documents it names; None when it is about both or neither
    ("section 20 of the ALN Act and section 42 of the Children and Families Act": both)."""
    return named_country(question) or regime_country(question, document_countries)


def regime_country(question: str, document_countries: frozenset[str] = frozenset()) -> str | None:
    """The country whose system's own terms the question uses ('IDP', 'ALNCo' are Wales's;
    'EHC plan', 'SENCO' England's) or whose documents it names, when that is one country."""
    used = {c for c, patterns in _SYSTEM_TERMS.items() if any(p.search(question) for p in patterns)}
    used |= document_countries
    return next(iter(used)) if len(used) == 1 else None


def one_country_question(question: str, country: str) -> str:
    """A compare question as asked of one country's documents: the words of the comparison
    (the countries' names, 'compare', 'vs') and the other system's own terms taken out
    ('Compare how Wales and England define ALN and SEN' asked of England: 'how and define
    and SEN'). The scope keeps each half to its country's documents; the words taken out
    would only count as words its documents leave unanswered."""
    other = "Wales" if country == "England" else "England"
    text = _COMPARING.sub(" ", question)
    for pattern in (_WALES_NAMED, _ENGLAND_NAMED, *_SYSTEM_TERMS[other]):
        text = pattern.sub(" ", text)
    text = " ".join(text.split())
    # A comparison of nothing but the two systems' terms ('IDP vs EHCP?', 'Is an ALNCo the
    # same as a SENCO?') asks of each system what its own term is.
    own = [m.group(0) for p in _SYSTEM_TERMS[country] for m in p.finditer(text)]
    left = text
    for pattern in _SYSTEM_TERMS[country]:
        left = pattern.sub(" ", left)
    rest = [
        w for w in re.findall(r"[a-z]+", left.lower()) if w not in STOPWORDS and w not in _LIKENESS
    ]
    if own and not rest:
        return f"What is {own[0]}?"
    return text


# words that only say two things are being likened ('the same as', 'similar to')
_LIKENESS = frozenset("same similar like alike between difference versus vs".split())


def asks_to_compare(question: str) -> bool:
    """A question that names both countries ('Wales vs England', 'in England and Wales'), or
    names neither and uses both systems' own terms ('IDP vs EHCP?', 'Is an ALNCo the same as
    a SENCO?'): each system's half is answered from its own country's documents."""
    if all(p.search(question) for p in _BOTH):
        return True
    return not any(p.search(question) for p in _BOTH) and all(
        any(p.search(question) for p in patterns) for patterns in _SYSTEM_TERMS.values()
    )


def _renumber(text: str, offset: int) -> str:
    return re.sub(r"\[(\d+)\]", lambda m: f"[{int(m.group(1)) + offset}]", text)


class _Side:
    """One country's half of a compare answer."""

    def __init__(self, country: str, draft: Draft):
        self.country, self.draft = country, draft


def _merge_sides(sides: list[_Side]) -> Draft:
    """'England: … Wales: …' from each country's own answer, sources numbered in order."""
    from dataclasses import replace

    blocks, sources = [], []
    for side in sides:
        if side.draft.refused:
            blocks.append(f"{side.country}: {REFUSAL}")
            continue
        offset = len(sources)
        blocks.append(f"{side.country}:\n{_renumber(side.draft.text, offset)}")
        sources += [replace(src, n=src.n + offset) for src in side.draft.sources]
    answered = [s for s in sides if not s.draft.refused]
    if not answered:
        return replace(sides[0].draft, reason="neither country's documents answer it")
    status = "answered" if len(answered) == len(sides) else "partial"
    missing = tuple(s.country for s in sides if s.draft.refused)
    return Draft(
        "\n\n".join(blocks),
        sources,
        status,
        "" if status == "answered" else "one country's documents do not answer it",
        {f"{s.country.lower()}_p_answer": s.draft.diagnostics.get("p_answer") for s in sides},
        missing=missing,
    )


def build_assistant(settings: Settings, embed_model: BaseEmbedding | None = None) -> Assistant:
    """Wire the backends named in settings into an Assistant over the live index."""
    client = make_chroma_client(settings.store)
    embed_model = embed_model or make_embed_model(settings.embedding)
    llm = (
        None
        if settings.answer.backend == "extractive"
        else make_llm(settings.answer.backend, settings.llm)
    )
    return Assistant(settings, embed_model, client, llm)


__all__ = ["REFUSAL", "Assistant", "build_assistant", "clean_question"]
