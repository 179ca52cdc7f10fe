"""Retrieval: dense (MiniLM in ChromaDB), BM25, or both fused by reciprocal rank.

All three are LlamaIndex retrievers; this module wires them and turns their results into
``Passage`` records that carry the dense cosine similarity too, which the answerer uses to
decide whether the documents answer the question at all.
"""

from __future__ import annotations

import functools
import logging
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import Stemmer
from llama_index.core import VectorStoreIndex
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.llms import MockLLM
from llama_index.core.retrievers import QueryFusionRetriever
from llama_index.core.schema import (
    MetadataMode,
    NodeWithScore,
    QueryBundle,
    TextNode,
    TransformComponent,
)
from llama_index.retrievers.bm25 import BM25Retriever
from llama_index.vector_stores.chroma import ChromaVectorStore

from assistant.glossary import CorpusForms, corpus_forms, expand, expansions, spell_out
from assistant.pinpoint import (
    AskedProvision,
    asked_provisions,
    defined_later,
    defines_term,
    exception_to,
    legal_bases,
    provision_keys,
    subject_to,
    subsection_number,
)
from assistant.sentence_vectors import SentenceVectors
from assistant.settings import RetrievalSettings
from assistant.text import (
    COMPOUND,
    STOPWORDS,
    TOKEN,
    missing_answer_type,
    split_sentences,
    unit_vector,
)
from assistant.types import Passage, Scope

logger = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)

_TOKEN = TOKEN


_DEFINITION_QUESTION = re.compile(
    r"^\s*(?:what(?:\s+is|\s+are|'s)\s+the\s+(?:legal\s+|statutory\s+)?(?:definition|meaning)\s+"
    r"of\s+|what\s+(?:is|are)\s+(?:meant\s+by\s+)?|what'?s\s+|what\s+does\s+|define\s+|"
    r"(?:the\s+)?(?:legal\s+)?(?:meaning|definition)\s+of\s+|who\s+counts\s+as\s+)"
    r"(?:an?\s+|the\s+)?"
    r"(?P<term>[A-Za-z][\w’' -]{1,60}?)(?:\s*\((?P<also>[^()]{1,60})\))?"
    r"(?:\s+mean|\s+stand\s+for)?\s*\??\s*$",
    re.I,
)


_LEGAL_QUESTION = re.compile(
    r"\b(law|legal|legally|lawful|statutory|duty|duties|required|requirement|entitled|"
    r"the act|regulations?|section \d+|legislation|obliged|have to|has to|must)\b",
    re.I,
)


def asks_what_the_law_says(question: str) -> bool:
    """A question about what is required ('must', 'legally', 'duty', 'have to'): the
    provision itself is preferred to guidance that restates it."""
    return bool(_LEGAL_QUESTION.search(question))


def defined_terms(question: str) -> list[str]:
    """The term a 'what is X?' question asks about, and the other name it gives in brackets:
    ['idp'] for 'What is an IDP?', ['additional learning provision', 'alp'] for 'What is
    Additional Learning Provision (ALP)?'; [] for other questions."""
    m = _DEFINITION_QUESTION.match(question)
    if not m:
        return []
    names = [m.group("term"), m.group("also") or ""]
    out = [" ".join(n.lower().split()) for n in names if n.strip()]
    return out if len(out[0].split()) <= 6 else []


def defined_term(question: str) -> str | None:
    """'IDP' for 'What is an IDP?', 'special educational provision' for 'What does special
    educational provision mean?'; None for other questions."""
    terms = defined_terms(question)
    return terms[0] if terms else None


# An interpretation line: '“term” means', '“term” has the meaning', 'term includes', also
# with a short qualifier before the verb ('“term” for a person aged three or over means').
_DEFINITION = re.compile(
    r"[“\"‘']\*?(?P<term>[^“”\"‘’'\n]{1,80}?)\*?[”\"’'](?:\s+[^“”\"\n.;:]{1,60}?)?\s+"
    r"(?:means|has the meaning|includes)\b",
    re.I,
)
# A section of legislation named for the term it defines: "s.3 Additional learning provision".
_SECTION_TITLE = re.compile(r"^(?:s|reg|para|art)\.\s?\d+[A-Z]?\s+(?P<term>[^>]{2,80})$", re.I)


def _term_key(term: str) -> str:
    return " ".join(term.lower().replace("’", "'").split())


def definitions_index(nodes: Sequence[TextNode]) -> dict[str, list[int]]:
    """Each term the documents define, to the positions in ``nodes`` of the chunks that
    define it: read once at start-up, so a 'what is X?' question looks X up instead of
    scanning every chunk."""
    index: dict[str, list[int]] = {}
    for position, node in enumerate(nodes):
        if node.metadata.get("amending"):
            continue  # it quotes definitions into another Act ('omit “...” means')
        terms = [m.group("term") for m in _DEFINITION.finditer(node.get_content(MetadataMode.NONE))]
        if node.metadata.get("doc_type") == "legislation":
            leaf = str(node.metadata.get("section", "")).split(" > ")[-1].strip()
            titled = _SECTION_TITLE.match(leaf)
            terms += [titled.group("term")] if titled else []
        for term in terms:
            found = index.setdefault(_term_key(term), [])
            if not found or found[-1] != position:
                found.append(position)
    return index


def provisions_index(nodes: Sequence[TextNode]) -> dict[str, list[int]]:
    """Each numbered provision ('<doc_id>|s.20', '<doc_id>|para 9.40') to the positions of
    the chunks that hold it, in document order: read once per index generation, so a question
    naming a section or paragraph finds it without scanning every chunk."""
    index: dict[str, list[int]] = {}
    for position, node in enumerate(nodes):
        meta = node.metadata
        for key in provision_keys(node.get_content(MetadataMode.NONE), meta):
            index.setdefault(f"{meta.get('doc_id')}|{key}", []).append(position)
    return index


# A question naming a document by kind ('the Equality Act', 'the ALN Code'): a provision
# number in it belongs to that document, so another document's provision is not its answer.
_OTHER_DOCUMENT = re.compile(r"\b(?:act|regulations?|code|framework|order|rules)\b", re.I)


_GUIDANCE_KINDS = ("code", "framework", "guidance")


def _names(meta: dict[str, Any]) -> list[str]:
    """The ways a question may name a document: its citation without the year, or its
    first two or more words ('SEND Code' for 'SEND Code of Practice'); its short name and
    title without the year ('Children and Families Act'); its short forms in capitals
    ('EYFS', 'CFA'); and for statutory guidance the kind of document it is ('the Code')."""
    names: set[str] = set()
    for name_field in ("cite_as", "short_name", "title"):
        value = str(meta.get(name_field) or "")
        names.update(w.lower() for w in re.findall(r"\b[A-Z]{3,}\b", value))
        value = re.split(r"\s+[—(]|,|:", value)[0]
        words = re.sub(r"\b(?:19|20)\d\d\b.*$", "", value).lower().split()
        first = 2 if name_field == "cite_as" else len(words)  # 'SEND Code' for the Code
        names.update(" ".join(words[:n]) for n in range(max(first, 2), len(words) + 1))
    if meta.get("doc_type") == "statutory-guidance":
        words = set(" ".join(names).split())
        names.update(kind for kind in _GUIDANCE_KINDS if kind in words)
    return sorted(names)


@functools.lru_cache(maxsize=4096)
def _name_patterns(
    cite_as: str, short_name: str, title: str, doc_type: str
) -> tuple[tuple[tuple[str, re.Pattern[str]], ...], frozenset[str]]:
    """A document's names (``_names``), each with its pattern, and the kinds of document its
    own names say it is: made once per document, not once per question."""
    meta = {"cite_as": cite_as, "short_name": short_name, "title": title, "doc_type": doc_type}
    own = " ".join((cite_as, short_name, title))
    own_kinds = frozenset(k.lower().rstrip("s") for k in _OTHER_DOCUMENT.findall(own))
    patterns = tuple((name, re.compile(rf"\b{re.escape(name)}\b\s*(\w*)")) for name in _names(meta))
    return patterns, own_kinds


def _names_document(question: str, meta: dict[str, Any]) -> bool:
    """Whether the question names this document. A name followed by another kind of
    document does not count: 'SEND' names the SEND Regulations, 'SEND Code' does not."""
    lowered = question.lower()
    patterns, own_kinds = _name_patterns(
        *(str(meta.get(f) or "") for f in ("cite_as", "short_name", "title", "doc_type"))
    )
    for name, pattern in patterns:
        if name not in lowered:
            continue
        for m in pattern.finditer(lowered):
            after = m.group(1)
            if not (_OTHER_DOCUMENT.fullmatch(after) and after.rstrip("s") not in own_kinds):
                return True
    return False


@dataclass(frozen=True)
class NamedChunk:
    """A chunk of a provision the question names by number, and the subsection it names."""

    node: TextNode
    subsection: str = ""


@dataclass(frozen=True)
class ProvisionsAsked:
    """What a question asking for provisions by number found: the chunks holding them, and
    the provisions the named document lacks, as cited ('ALN Act 2018 s.999')."""

    chunks: list[NamedChunk] = field(default_factory=list)
    absent: tuple[str, ...] = ()


# the kind of document that numbers its provisions as sections and regulations, and as paragraphs
_HOLDER_TYPE = {False: "legislation", True: "statutory-guidance"}


def _spellings(key: str) -> list[str]:
    """A provision's key, then the same number as the other kind of legislative provision:
    people say 'section 12 of the Regulations' for regulation 12."""
    if key.startswith("s."):
        return [key, "reg." + key.removeprefix("s.")]
    if key.startswith("reg."):
        return [key, "s." + key.removeprefix("reg.")]
    return [key]


def _cited_provision(meta: dict[str, Any], provision: AskedProvision) -> str:
    """'ALN Act 2018 s.999', 'SEND Code of Practice 2015, para 99.1': as citations read."""
    name = str(meta.get("cite_as") or meta.get("short_name") or meta.get("title") or "")
    joiner = ", " if provision.key.startswith("para ") else " "
    return f"{name}{joiner}{provision.key}".strip(", ")


def bases_index(
    nodes: Sequence[TextNode],
    documents: dict[str, dict[str, Any]],
    provisions: dict[str, list[int]],
) -> dict[str, list[str]]:
    """Each section of statutory guidance that names its legal basis ('Relevant legislation:
    Section 36 of the Children and Families Act 2014 and Regulations 3 and 4 of the SEND
    Regulations 2014'), as '<doc_id>|<section path>', to the provisions named that the
    corpus holds ('<doc_id>|s.36', keys of ``provisions``). Read once per index generation."""
    legislation = {
        d: doc["meta"]
        for d, doc in documents.items()
        if doc["meta"].get("doc_type") == "legislation"
    }
    index: dict[str, list[str]] = {}
    for node in nodes:
        meta = node.metadata
        if meta.get("doc_type") != "statutory-guidance":
            continue
        section = str(meta.get("section", ""))
        for basis in legal_bases(node.get_content(MetadataMode.NONE)):
            for doc_id, doc_meta in legislation.items():
                key = f"{doc_id}|{basis.key}"
                if key in provisions and _names_document(basis.document, doc_meta):
                    found = index.setdefault(f"{meta.get('doc_id')}|{section}", [])
                    if key not in found:
                        found.append(key)
    return index


@dataclass(frozen=True)
class ChunkMap:
    """Where each chunk sits in the node sequence, so that a chunk is found by id, by place
    (document and chunk number) or by the term it defines without holding every chunk:
    the nodes themselves can then stay on disk (``lexical_cache.LazyNodes``). Built once per
    index generation and saved with the BM25 cache."""

    position_of: dict[str, int]
    by_place: dict[tuple[str, int], int]
    definitions: dict[str, list[int]]
    documents: dict[str, dict[str, Any]]  # doc_id -> {"meta": first chunk's, "passages": n}
    provisions: dict[str, list[int]]  # "<doc_id>|s.20" -> positions (provisions_index)
    bases: dict[str, list[str]]  # "<doc_id>|<section>" -> provisions keys (bases_index)

    @classmethod
    def of(cls, nodes: Sequence[TextNode]) -> ChunkMap:
        position_of: dict[str, int] = {}
        by_place: dict[tuple[str, int], int] = {}
        documents: dict[str, dict[str, Any]] = {}
        for position, node in enumerate(nodes):
            meta = node.metadata
            position_of[node.node_id] = position
            by_place[(str(meta.get("doc_id")), int(meta.get("chunk_index", -1)))] = position
            entry = documents.setdefault(str(meta.get("doc_id", "")), {"meta": meta, "passages": 0})
            entry["passages"] += 1
        provisions = provisions_index(nodes)
        return cls(
            position_of,
            by_place,
            definitions_index(nodes),
            documents,
            provisions,
            bases_index(nodes, documents, provisions),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "ids": sorted(self.position_of, key=self.position_of.__getitem__),
            "places": [[d, i, p] for (d, i), p in self.by_place.items()],
            "definitions": self.definitions,
            "documents": self.documents,
            "provisions": self.provisions,
            "bases": self.bases,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChunkMap:
        return cls(
            position_of={str(node_id): i for i, node_id in enumerate(data["ids"])},
            by_place={(str(d), int(i)): int(p) for d, i, p in data["places"]},
            definitions={str(k): [int(x) for x in v] for k, v in data["definitions"].items()},
            documents=dict(data["documents"]),
            provisions={str(k): [int(x) for x in v] for k, v in data["provisions"].items()},
            bases={str(k): [str(x) for x in v] for k, v in data["bases"].items()},
        )


_PROVISION = re.compile(r"^\s*-\s*\(\d+[A-Z]{0,3}\)")  # "- (2) ...": a subsection starts


def _starts_provision(line: str) -> bool:
    return bool(_PROVISION.match(line))


def _carried(line: str) -> bool:
    """A chunk's first line that repeats the lead-in of a subsection begun in the chunk
    before: not a list item itself, and it introduces items ('... it must—')."""
    text = line.strip()
    return bool(text) and not text.startswith("- ") and text.endswith(("—", "–", ":", "-"))


@dataclass
class _Joined:
    """A passage's lines as chunks beside it are joined to it, with the sentence similarities
    kept in step (``known`` is False once a joined part has none)."""

    lines: list[str]
    sims: list[float]
    known: bool
    changed: bool = False

    def append(self, lines: list[str], sims: list[float] | None) -> None:
        self.lines, self.sims = self.lines + lines, self.sims + (sims or [])
        self.known = self.known and sims is not None
        self.changed = True

    def replace_first(self, sentences: int, lines: list[str], sims: list[float] | None) -> None:
        """``lines`` in place of the first line, which holds ``sentences`` sentences (0: put
        them before it)."""
        kept = self.lines[1:] if sentences else self.lines
        self.lines, self.sims = lines + kept, (sims or []) + self.sims[sentences:]
        self.known = self.known and sims is not None
        self.changed = True


def _concat(first: list[float] | None, second: list[float] | None) -> list[float] | None:
    return first + second if first is not None and second is not None else None


def _subsection_blocks(node: TextNode) -> list[tuple[str, int, list[str]]]:
    """Each subsection that starts in a chunk: (its number, how many sentences come before
    it in the chunk, its lines)."""
    lines = node.get_content(metadata_mode=MetadataMode.NONE).splitlines()
    starts = [i for i, x in enumerate(lines) if subsection_number(x)]
    return [
        (
            subsection_number(lines[i]) or "",
            len(split_sentences("\n".join(lines[:i]))) if i else 0,
            lines[i : next((j for j in starts if j > i), len(lines))],
        )
        for i in starts
    ]


def _defines(lines: list[str]) -> bool:
    """Whether a run of list lines is a list of definitions ("- “EHC plan” means ...")."""
    items = [x.strip()[2:] for x in lines if x.strip().startswith("- ")]
    return bool(items) and sum(map(defines_term, items)) * 2 > len(items)


def _lead_line(lines: list[str], lead_in: str) -> int | None:
    """Where in ``lines`` the subsection whose lead-in is ``lead_in`` starts (the last one)."""
    wanted = lead_in.strip()
    for i in range(len(lines) - 1, -1, -1):
        line = lines[i].strip()
        if line.startswith("- ") and line[2:].strip().endswith(wanted):
            return i
    return None


class _ReadOnly(TransformComponent):
    """The index is only read here. Naming a transformation keeps LlamaIndex from building its
    default SentenceSplitter at start-up, which loads tiktoken's vocabulary (0.7 s cold)."""

    def __call__(self, nodes: Any, **kwargs: Any) -> Any:
        return nodes


class Vocabulary:
    """Stemmed term statistics of the indexed chunks: IDF for weighting question words."""

    def __init__(self, texts: list[str], stats: dict[str, Any] | None = None):
        """From the chunk texts, or from ``stats`` saved earlier (see ``stats()``)."""
        self.stemmer = Stemmer.Stemmer("english")
        self.compounds: frozenset[str] = frozenset()
        if stats is not None:
            self.n_docs, self.df = int(stats["n_docs"]), Counter(stats["df"])
            self.compounds = frozenset(stats.get("compounds", ()))
        else:
            self.n_docs = max(len(texts), 1)
            self.compounds = frozenset(
                "".join(_TOKEN.findall(c)) for t in texts for c in COMPOUND.findall(t.lower())
            )
            df: Counter[str] = Counter()
            for text in texts:
                df.update(set(self.terms(text)))
            self.df = df
        self.max_idf = math.log(1 + self.n_docs)

    def stats(self) -> dict[str, Any]:
        return {"n_docs": self.n_docs, "df": dict(self.df), "compounds": sorted(self.compounds)}

    def terms(self, text: str) -> list[str]:
        """Stemmed content words, and each compound as one word too: a hyphenated compound
        ('step-in', 'co-ordinator', 'pre-school') by its parts and joined ('stepin',
        'coordin', 'preschool'), so that 'coordinator' finds 'co-ordinator' and 'step-in'
        keeps the part a stopword list would drop; and words written apart ('step in',
        'top up') as the compound when the documents write them as one."""
        lower = text.lower()
        words = [w.replace("’", "'") for w in _TOKEN.findall(lower)]
        kept = [w for w in words if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]
        out = self.stemmer.stemWords(kept)
        joined = ["".join(_TOKEN.findall(c)) for c in COMPOUND.findall(lower)]
        joined += self._written_apart(words)
        return out + [t for t in self.stemmer.stemWords(joined) if t not in STOPWORDS]

    def _written_apart(self, words: list[str]) -> list[str]:
        """Runs of two or three words that the documents write as one compound."""
        compounds = self.compounds
        if not compounds:
            return []
        found: list[str] = []
        for size in (2, 3):
            for i in range(len(words) - size + 1):
                run = "".join(words[i : i + size])
                if run in compounds:
                    found.append(run)
        return found

    def idf(self, term: str) -> float:
        return math.log(1 + self.n_docs / (1 + self.df.get(term, 0)))

    def known(self, term: str) -> bool:
        return term in self.df


def _where(scope: Scope) -> dict[str, Any]:
    """The scope as a Chroma metadata filter."""
    parts: list[dict[str, Any]] = []
    if scope.country:
        parts.append({"jurisdiction": scope.country})
    if scope.doc_types:
        parts.append({"doc_type": {"$in": list(scope.doc_types)}})
    return parts[0] if len(parts) == 1 else {"$and": parts}


def _passage(
    nws: NodeWithScore, dense: float | None, sentence_sims: tuple[float, ...] | None = None
) -> Passage:
    node = nws.node
    return Passage(
        chunk_id=node.node_id,
        text=node.get_content(metadata_mode=MetadataMode.NONE),
        metadata=dict(node.metadata),
        score=float(nws.score or 0.0),
        dense_similarity=dense,
        sentence_similarities=sentence_sims,
    )


class Retriever:
    """One retrieval setup: ``retrieve(question, k)`` returns passages, best first."""

    def __init__(
        self,
        settings: RetrievalSettings,
        collection: Any,
        embed_model: BaseEmbedding,
        nodes: Sequence[TextNode],
        sentences: Any | None = None,
        bm25_index: Any | None = None,
        forms: CorpusForms | None = None,
        sentence_vectors: SentenceVectors | None = None,
        chunk_map: ChunkMap | None = None,
    ):
        """``bm25_index``: a bm25s index of ``nodes`` saved earlier (lexical_cache); without
        one, BM25 is built from the nodes (``self.bm25.bm25`` can then be saved).
        ``forms``: ``corpus_forms`` of the nodes saved earlier, else counted now.
        ``sentence_vectors``: the sentence vectors as a mapped file (``sentence_vectors``);
        without it they are asked of the ``sentences`` collection.
        ``chunk_map``: the ``ChunkMap`` of the nodes saved earlier, else made now."""
        self.settings = settings
        self.collection = collection
        self.sentences = sentences
        self.sentence_vectors = sentence_vectors
        self.embed_model = embed_model
        self.nodes = nodes
        self.chunk_map = chunk_map if chunk_map is not None else ChunkMap.of(nodes)
        self.definitions = self.chunk_map.definitions
        self.forms = (
            forms
            if forms is not None
            else corpus_forms([n.get_content(metadata_mode=MetadataMode.NONE) for n in nodes])
        )
        self.spellings = self.forms.spellings
        self._bm25_wide: BM25Retriever | None = None
        candidate_k = max(settings.candidate_k, settings.top_k)
        vector_store = ChromaVectorStore(chroma_collection=collection)
        index = VectorStoreIndex.from_vector_store(
            vector_store, embed_model=embed_model, transformations=[_ReadOnly()]
        )
        self.dense = index.as_retriever(similarity_top_k=candidate_k)
        if bm25_index is not None:
            self.bm25 = BM25Retriever(
                existing_bm25=bm25_index,
                similarity_top_k=min(candidate_k, len(nodes)),
                stemmer=Stemmer.Stemmer("english"),
            )
        else:
            self.bm25 = BM25Retriever.from_defaults(
                nodes=nodes,
                similarity_top_k=min(candidate_k, len(nodes)),
                stemmer=Stemmer.Stemmer("english"),
                language="english",
            )
            self.bm25.bm25.corpus = self.bm25.corpus  # so the index can be shared and saved
        if settings.mode == "hybrid":
            self.retriever = QueryFusionRetriever(
                [self.dense, self.bm25],
                mode=settings.fusion,
                retriever_weights=[1.0 - settings.bm25_weight, settings.bm25_weight],
                num_queries=1,  # no LLM query rewriting
                use_async=False,
                similarity_top_k=candidate_k,
                llm=MockLLM(),
            )
        elif settings.mode == "dense":
            self.retriever = self.dense
        else:
            self.retriever = self.bm25

    def embed_query(self, question: str) -> list[float]:
        """The question's vector, its abbreviations written out in place as the documents
        write them ('EHCP' -> 'EHC plan (EHCP)'): MiniLM does not know the field's short forms.
        Synonyms
        and equivalents are added for BM25 only: appended to the vector's text they pull it
        towards title-like passages."""
        return self.embed_model.get_query_embedding(spell_out(question, self.spellings))

    def retrieve(
        self,
        question: str,
        k: int | None = None,
        query_embedding: list[float] | None = None,
        scope: Scope | None = None,
    ) -> list[Passage]:
        """The k best passages for the question, each with its dense cosine similarity;
        only passages of documents ``scope`` admits, when one is given."""
        k = k or self.settings.top_k
        if query_embedding is None and self.settings.mode != "bm25":
            query_embedding = self.embed_query(question)
        bundle = QueryBundle(
            query_str=expand(question, self.forms.equivalents, self.forms.abbreviations),
            embedding=query_embedding,
        )
        results = self.retriever.retrieve(bundle)
        if scope is not None and not scope.everything:
            admitted = [r for r in results if scope.admits(r.node.metadata)]
            results = admitted if len(admitted) >= k else self._in_scope(bundle, results, scope)
        defining = self.defining_chunks(question)
        definition_ids = {n.node_id for n in defining}
        named = self.named_provisions(question, scope)
        named_rank = {c.node.node_id: i for i, c in enumerate(named)}
        named_sub = {c.node.node_id: c.subsection for c in named}
        results = self._with_definitions(
            results, defining + [c.node for c in named if c.node.node_id not in definition_ids]
        )
        results = self._with_neighbours(results)
        legal = asks_what_the_law_says(question)
        if scope is not None and not scope.everything:
            results = [r for r in results if scope.admits(r.node.metadata)]
        if not results:
            return []
        q = unit_vector(query_embedding or self.embed_query(question))
        ids = [r.node.node_id for r in results]
        dense = self.dense_similarities(ids, q)
        per_sentence = self.sentence_similarities(ids, q)
        if self.settings.rerank and per_sentence:
            top = max(float(r.score or 0.0) for r in results) or 1.0

            def rerank_score(r: NodeWithScore) -> float:
                sims = per_sentence.get(r.node.node_id) or (0.0,)
                score = (
                    self.settings.rerank_best_sentence * max(sims)
                    + self.settings.rerank_passage * dense.get(r.node.node_id, 0.0)
                    + self.settings.rerank_fused * float(r.score or 0.0) / top
                )
                if r.node.metadata.get("amending"):
                    score *= self.settings.amending_weight
                if r.node.node_id in definition_ids:
                    score += self.settings.definition_bonus
                if legal and r.node.metadata.get("doc_type") == "legislation":
                    score += self.settings.law_bonus
                return score

            results = sorted(results, key=rerank_score, reverse=True)
        if named_rank:  # asked for by number: those chunks first, in the order named
            results = sorted(results, key=lambda r: named_rank.get(r.node.node_id, len(named)))
        basis_for: dict[str, str] = {}
        if legal and not named_rank:
            results, basis_for = self._with_legal_basis(results, q, dense, per_sentence, question)
        passages = [
            _passage(r, dense.get(r.node.node_id), per_sentence.get(r.node.node_id))
            for r in results[:k]
        ]
        passages = [
            replace(p, named=named_sub[p.chunk_id]) if p.chunk_id in named_sub else p
            for p in passages
        ]
        passages = [
            replace(p, basis_for=basis_for[p.chunk_id]) if p.chunk_id in basis_for else p
            for p in passages
        ]
        return [self.whole_provisions(p, q) for p in passages]

    def as_passages(self, nodes: Sequence[TextNode], query_embedding: list[float]) -> list[Passage]:
        """These chunks as the answerer receives retrieved ones: each with its dense and
        per-sentence similarity to the question and its provisions made whole. For measuring
        the answerer on passages chosen another way (``evals.ceiling``)."""
        q = unit_vector(query_embedding)
        ids = [n.node_id for n in nodes]
        dense = self.dense_similarities(ids, q) if ids else {}
        per_sentence = self.sentence_similarities(ids, q)
        return [
            self.whole_provisions(
                _passage(
                    NodeWithScore(node=n, score=1.0),
                    dense.get(n.node_id),
                    per_sentence.get(n.node_id),
                ),
                q,
            )
            for n in nodes
        ]

    def legal_basis(self, meta: dict[str, Any]) -> list[str]:
        """The provisions (``ChunkMap.provisions`` keys) a passage of statutory guidance rests
        on: those its section names as its relevant legislation, or the nearest section above
        it that names some."""
        parts = str(meta.get("section", "")).split(" > ")
        for n in range(len(parts), 0, -1):
            found = self.chunk_map.bases.get(f"{meta.get('doc_id')}|{' > '.join(parts[:n])}")
            if found:
                return found
        return []

    def _with_legal_basis(
        self,
        results: list[NodeWithScore],
        q: np.ndarray,
        dense: dict[str, float],
        per_sentence: dict[str, tuple[float, ...]],
        question: str,
    ) -> tuple[list[NodeWithScore], dict[str, str]]:
        """For a question asking what the law requires, unless a provision already comes first:
        the first of the best few passages that is statutory guidance naming its legal basis
        brings the chunk of those provisions closest to the question (the re-rank's blend of
        its best sentence and the whole chunk; of those stating a figure of the kind asked, when
        the question asks for one and any does), put just before it (moved up if it was
        already further down). Returns the results and {provision chunk: guidance chunk};
        ``dense`` and ``per_sentence`` gain the provision's similarities."""
        for r in results[: self.settings.basis_of_top]:
            if r.node.metadata.get("doc_type") == "legislation":
                return results, {}  # a provision already comes first
            if r.node.metadata.get("doc_type") != "statutory-guidance":
                continue
            nodes = {
                node.node_id: node
                for key in self.legal_basis(r.node.metadata)
                for node in (
                    self.nodes[i]
                    for i in self.chunk_map.provisions[key][: self.settings.provision_limit]
                )
            }
            if not nodes:
                continue
            # asked for a figure (how long, how much), a provision stating one answers it
            ids = [
                c for c, node in nodes.items() if missing_answer_type(question, node.text) is None
            ] or list(nodes)
            sims = self.sentence_similarities(ids, q)
            near = self.dense_similarities(ids, q)
            closeness = {  # the re-rank's blend of the two, without the fused score
                c: self.settings.rerank_best_sentence * max(sims.get(c) or (0.0,))
                + self.settings.rerank_passage * near.get(c, 0.0)
                for c in ids
            }
            best = max(ids, key=closeness.__getitem__)
            if best not in sims:  # no sentence vectors to judge it by
                return results, {}
            per_sentence[best] = sims[best]
            dense[best] = near[best]
            ranked = [x.node.node_id for x in results]
            if best in ranked and ranked.index(best) < ranked.index(r.node.node_id):
                return results, {best: r.node.node_id}  # already before the guidance
            rest = [x for x in results if x.node.node_id != best]
            at = rest.index(r)
            moved = NodeWithScore(node=nodes[best], score=r.score)
            return rest[:at] + [moved] + rest[at:], {best: r.node.node_id}
        return results, {}

    def whole_provisions(self, passage: Passage, q: np.ndarray) -> Passage:
        """A chunk of legislation with the provisions it shares with the chunks beside it made
        whole: a subsection too long for one chunk is cut between its items, and the next
        chunk repeats only its lead-in. The items of that subsection in the chunks before (or
        after) join the passage, with their sentence similarities, so the answer can quote the
        provision whole; the rest of each neighbour stays out. Then the subsections of the
        chunk after that this one depends on, and the rules in the chunk before that an
        exception here belongs to, join it marked as joined (``Passage.joined``)."""
        if passage.metadata.get("doc_type") != "legislation":
            return passage
        text = _Joined(
            passage.text.splitlines(),
            list(passage.sentence_similarities or ()),
            passage.sentence_similarities is not None,
        )
        self._lead_in_before(text, passage.metadata, q)
        after = self._items_after(text, passage.metadata, q)
        joined_from = self._dependants_after(text, after, q) if after is not None else None
        joined_until = self._rules_before(text, passage.metadata, q)
        if joined_from is not None and joined_until is not None:
            joined_from += joined_until
        if not text.changed:
            return passage
        return replace(
            passage,
            text="\n".join(text.lines),
            sentence_similarities=tuple(text.sims) if text.known else None,
            joined_from=joined_from,
            joined_until=joined_until,
        )

    def _lead_in_before(self, text: _Joined, meta: dict[str, Any], q: np.ndarray) -> None:
        """A chunk opening with a repeated lead-in ("(2) Where the local authority ... it
        must—"): back through the chunks that repeat it to the one where the subsection
        starts, up to ``provision_chunks``; their items replace the repeated lead-in. Nothing
        changes unless the start is found. A list of definitions is not walked past the chunk
        before: each definition stands alone."""
        if not text.lines or not _carried(text.lines[0]):
            return
        lead_in = text.lines[0]
        extra: list[str] = []
        extra_sims: list[float] | None = []
        for _ in range(self.settings.provision_chunks):
            before = self._neighbour(meta, -1)
            if before is None:
                return
            prior = before.get_content(metadata_mode=MetadataMode.NONE).splitlines()
            start = _lead_line(prior, lead_in)
            if start is None and not (
                prior and prior[0].strip() == lead_in.strip() and not _defines(prior[1:])
            ):
                return  # not the same subsection, or a list of definitions
            part = prior[start:] if start is not None else prior[1:]
            extra = part + extra
            extra_sims = _concat(
                self._tail_similarities(before, part, q, from_end=True), extra_sims
            )
            if start is not None:
                text.replace_first(len(split_sentences(lead_in)), extra, extra_sims)
                return
            meta = before.metadata

    def _items_after(self, text: _Joined, meta: dict[str, Any], q: np.ndarray) -> TextNode | None:
        """The items of this chunk's last subsection that the chunks after it carry under its
        repeated lead-in, up to ``provision_chunks`` chunks and to the first that starts
        another subsection (not past the next chunk for a list of definitions). Returns the
        last chunk read, where the subsections after this one's are."""
        after = self._neighbour(meta, 1)
        for step in range(self.settings.provision_chunks):
            if after is None:
                return None
            following = after.get_content(metadata_mode=MetadataMode.NONE).splitlines()
            lead = (
                _lead_line(text.lines, following[0])
                if following and _carried(following[0])
                else None
            )
            if lead is None or any(_starts_provision(x) for x in text.lines[lead + 1 :]):
                return after
            end = next(
                (i for i, line in enumerate(following[1:], 1) if _starts_provision(line)),
                len(following),
            )
            extra = following[1:end]
            if step and _defines(extra):
                return after  # a list of definitions: each stands alone
            if extra:
                skip = len(split_sentences(following[0]))
                text.append(extra, self._tail_similarities(after, extra, q, skip=skip))
            if end < len(following):
                return after  # the subsection ends here: its other subsections come next
            following_node = self._neighbour(after.metadata, 1)
            if following_node is None:
                return after
            after = following_node
        return after

    def _dependants_after(self, text: _Joined, after: TextNode, q: np.ndarray) -> int | None:
        """The subsections of the chunk after that one of this passage's depends on: the
        exceptions a rule here is subject to ("unless subsection (4) applies") or that are made
        to it ("(3) ... need not comply with the time limit referred to in paragraph (2)"),
        and a later one that says what a term here is. They join at the end; returns where
        (the sentence index), or None when none joins."""
        own = [n for n in map(subsection_number, text.lines) if n]
        wanted = [
            n
            for line in text.lines
            for n in subject_to(line) + exception_to(line) + defined_later(line)
            if n not in own
        ]
        joined_from: int | None = None
        for number, skip, block in _subsection_blocks(after):
            if number in own or not (
                number in wanted or set(exception_to("\n".join(block))) & set(own)
            ):
                continue
            if joined_from is None:
                joined_from = len(split_sentences("\n".join(text.lines)))
            text.append(block, self._tail_similarities(after, block, q, skip=skip))
            own.append(number)
        return joined_from

    def _rules_before(self, text: _Joined, meta: dict[str, Any], q: np.ndarray) -> int | None:
        """The rules in the chunk before that an exception here belongs to: the rule names it
        ("(1) ... must decide ..., unless any of the circumstances in subsection (2) apply")
        or it names the rule ("(4) Subsection (3) does not apply"). "(2) The circumstances
        are—" read without its rule says nothing. They join at the start; returns how many
        sentences they are, or None when none joins."""
        before = self._neighbour(meta, -1)
        if before is None or not text.lines or not _starts_provision(text.lines[0]):
            return None
        own = [n for n in map(subsection_number, text.lines) if n]
        named = {n for line in text.lines for n in exception_to(line)}
        prefix: list[str] = []
        prefix_sims: list[float] | None = []
        for number, skip, block in _subsection_blocks(before):
            if number in own or not (
                number in named or set(subject_to("\n".join(block))) & set(own)
            ):
                continue
            prefix += block
            prefix_sims = _concat(prefix_sims, self._tail_similarities(before, block, q, skip=skip))
        if not prefix:
            return None
        text.replace_first(0, prefix, prefix_sims)
        return len(split_sentences("\n".join(prefix)))

    def _neighbour(self, meta: dict[str, Any], step: int) -> TextNode | None:
        """The chunk ``step`` places away in the same document, if it is in the same section."""
        place = (str(meta.get("doc_id")), int(meta.get("chunk_index", -9)) + step)
        position = self.chunk_map.by_place.get(place)
        node = self.nodes[position] if position is not None else None
        if node is None or node.metadata.get("section") != meta.get("section"):
            return None
        return node

    def _tail_similarities(
        self,
        node: TextNode,
        lines: list[str],
        q: np.ndarray,
        from_end: bool = False,
        skip: int = 0,
    ) -> list[float] | None:
        """The stored sentence similarities of ``lines``, a run of the node's own lines: its
        last sentences (``from_end``) or those after its first ``skip``."""
        n = len(split_sentences("\n".join(lines)))
        found = self.sentence_similarities([node.node_id], q).get(node.node_id)
        if found is None:
            return None
        out = list(found[-n:]) if from_end else list(found[skip : skip + n])
        return out if len(out) == n else None

    def _in_scope(
        self, bundle: QueryBundle, results: list[NodeWithScore], scope: Scope
    ) -> list[NodeWithScore]:
        """The fused candidates that the scope admits, topped up with the best admitted
        chunks by BM25 and by meaning (the fused list alone may hold few of them)."""
        kept = [r for r in results if scope.admits(r.node.metadata)]
        have = {r.node.node_id for r in kept}
        wide = self.settings.candidate_k * self.settings.scope_widen
        extra: list[NodeWithScore] = []
        if self.settings.mode != "bm25" and bundle.embedding is not None:
            for node_id, distance in self._dense_in_scope(bundle.embedding, scope, wide):
                node = self.node_by_id(node_id)
                if node is not None:  # cosine distance -> similarity
                    extra.append(NodeWithScore(node=node, score=1.0 - distance))
        if self.settings.mode != "dense":
            extra += [
                r for r in self.bm25_wide(wide).retrieve(bundle) if scope.admits(r.node.metadata)
            ][: self.settings.candidate_k]
        top = max((float(r.score or 0.0) for r in kept + extra), default=1.0) or 1.0
        for r in extra:
            if r.node.node_id not in have:
                have.add(r.node.node_id)
                kept.append(NodeWithScore(node=r.node, score=float(r.score or 0.0) / top))
        return kept

    def _dense_in_scope(
        self, embedding: list[float], scope: Scope, wide: int
    ) -> list[tuple[str, float]]:
        """The candidate_k chunks nearest in meaning that the scope admits, as (id, cosine
        distance). The ``wide`` nearest of all are asked for and filtered here: a Chroma query
        filtered by metadata searches the admitted chunks one by one (0.2 s at 100,000
        chunks, where the plain search takes milliseconds). Only when too few of them are
        admitted (a narrow scope) is the filtered query made."""
        vector = [list(map(float, embedding))]
        k = self.settings.candidate_k
        found = self.collection.query(
            query_embeddings=vector,
            n_results=min(wide, len(self.nodes)),
            include=["distances", "metadatas"],
        )
        admitted = [
            (node_id, distance)
            for node_id, distance, meta in zip(
                found["ids"][0], found["distances"][0], found["metadatas"][0], strict=True
            )
            if scope.admits(meta or {})
        ]
        if len(admitted) >= min(k, len(self.nodes)):
            return admitted[:k]
        found = self.collection.query(
            query_embeddings=vector, n_results=k, where=_where(scope), include=["distances"]
        )
        return list(zip(found["ids"][0], found["distances"][0], strict=True))

    def bm25_wide(self, k: int) -> BM25Retriever:
        """A BM25 retriever over the same index returning ``k`` results (for scoped search)."""
        if self._bm25_wide is None or self._bm25_wide.similarity_top_k != k:
            self._bm25_wide = BM25Retriever(  # the same index, asked for more results
                existing_bm25=self.bm25.bm25,
                similarity_top_k=min(k, len(self.nodes)),
                stemmer=Stemmer.Stemmer("english"),
            )
        return self._bm25_wide

    def node_by_id(self, node_id: str) -> TextNode | None:
        position = self.chunk_map.position_of.get(node_id)
        return self.nodes[position] if position is not None else None

    def _with_neighbours(self, results: list[NodeWithScore]) -> list[NodeWithScore]:
        """Add the chunks before and after the best candidates when they belong to the same
        section: a section cut into several chunks is matched by one of them while its
        answer sits in the next; the sentence-level re-rank then picks the one that answers."""
        n = self.settings.neighbour_of_top
        if not n:
            return results
        have = {r.node.node_id for r in results}
        extra: list[NodeWithScore] = []
        for r in results[:n]:
            meta = r.node.metadata
            for step in (-1, 1):
                node = self._neighbour(meta, step)
                if node is not None and node.node_id not in have:
                    have.add(node.node_id)
                    extra.append(
                        NodeWithScore(
                            node=node, score=float(r.score or 0.0) * self.settings.neighbour_weight
                        )
                    )
        return results + extra

    def defining_chunks(self, question: str) -> list[TextNode]:
        """For 'what is X?' / 'what does X mean?', the chunks that define X ('“X” means ...',
        the interpretation sections), under any of its names; none for other questions."""
        terms = defined_terms(question)
        if not terms:
            return []
        positions: set[int] = set()
        for form in [f for term in terms for f in (term, *expansions(term))]:
            key = _term_key(form)
            positions.update(self.definitions.get(key, []), self.definitions.get(key + "s", []))
        return [self.nodes[i] for i in sorted(positions)[: self.settings.definition_limit]]

    def countries_named(self, question: str) -> frozenset[str]:
        """The countries of the statutes and statutory guidance the question names ('the
        Children and Families Act': England). Only those: their names are their own, where a
        practice document's short name can be an ordinary word ('STEP')."""
        return frozenset(
            str(doc["meta"].get("jurisdiction"))
            for doc in self.chunk_map.documents.values()
            if doc["meta"].get("jurisdiction")
            and doc["meta"].get("doc_type") in ("legislation", "statutory-guidance")
            and _names_document(question, doc["meta"])
        )

    def named_provisions(self, question: str, scope: Scope | None = None) -> list[NamedChunk]:
        """The chunks of the sections, regulations or paragraphs the question names ('What
        does section 20 of the ALN Act say?'), of the document it names when several number
        a provision so (the answerer keeps those holding a named subsection); none for other
        questions."""
        return self.provisions_asked(question, scope).chunks

    def provisions_asked(self, question: str, scope: Scope | None = None) -> ProvisionsAsked:
        """The provisions the question names by number: the chunks that hold them, and
        those the named document does not have ('section 999 of the ALN Act')."""
        asked = asked_provisions(question)
        if not asked:
            return ProvisionsAsked()
        documents = self.chunk_map.documents
        admitted = [
            d
            for d, doc in documents.items()
            if scope is None or scope.everything or scope.admits(doc["meta"])
        ]
        chosen: dict[int, str] = {}
        absent: list[str] = []
        for provision in asked:
            kind = _HOLDER_TYPE[provision.key.startswith("para ")]
            fitting = {
                d: doc for d, doc in documents.items() if doc["meta"].get("doc_type") == kind
            }
            # the document named just after the number ('section 20 of the ALN Act and ...'),
            # else any the question names; one outside the scope is not answered from another
            named_docs = [
                d for d, doc in fitting.items() if _names_document(provision.following, doc["meta"])
            ] or [d for d, doc in fitting.items() if _names_document(question, doc["meta"])]
            # a named document's 'regulation 2' may be its section 2; unnamed ones are
            # held to the number's own kind
            holders: dict[str, list[int]] = {}
            for doc_id in admitted:
                for key in _spellings(provision.key) if doc_id in named_docs else [provision.key]:
                    if f"{doc_id}|{key}" in self.chunk_map.provisions:
                        holders[doc_id] = self.chunk_map.provisions[f"{doc_id}|{key}"]
                        break
            named = {d: p for d, p in holders.items() if d in named_docs}
            if named_docs and not named:
                if set(named_docs) <= set(admitted):  # the document named has no such provision
                    absent += [
                        _cited_provision(documents[d]["meta"], provision) for d in named_docs
                    ]
                continue
            if not named and (provision.bare or _OTHER_DOCUMENT.search(question)):
                continue  # '3.30', or 'section 19 of the Equality Act': not these documents'
            for positions in (named or holders).values():
                positions = positions[: self.settings.provision_limit]
                for i in positions:
                    chosen.setdefault(i, provision.subsection)
        return ProvisionsAsked(
            [NamedChunk(self.nodes[i], sub) for i, sub in chosen.items()], tuple(absent)
        )

    def _with_definitions(
        self, results: list[NodeWithScore], defining: list[TextNode]
    ) -> list[NodeWithScore]:
        """The defining chunks added to the candidates, at the best candidate's score."""
        have = {r.node.node_id for r in results}
        top = max((float(r.score or 0.0) for r in results), default=1.0)
        return results + [
            NodeWithScore(node=n, score=top) for n in defining if n.node_id not in have
        ]

    def sentence_similarities(self, chunk_ids: list[str], q: np.ndarray) -> dict:
        """Per chunk, the cosine similarity of each of its sentences to the question."""
        if self.sentence_vectors is not None:
            return self.sentence_vectors.similarities(chunk_ids, q)
        if self.sentences is None or not chunk_ids:
            return {}
        records = self.sentences.get(
            where={"chunk_id": {"$in": chunk_ids}}, include=["embeddings", "metadatas"]
        )
        found: dict[str, dict[int, float]] = {}
        for meta, emb in zip(records["metadatas"], records["embeddings"], strict=True):
            found.setdefault(meta["chunk_id"], {})[int(meta["position"])] = float(
                unit_vector(emb) @ q
            )
        return {cid: tuple(sims[i] for i in sorted(sims)) for cid, sims in found.items()}

    def dense_similarities(self, chunk_ids: list[str], q: np.ndarray) -> dict:
        """Cosine similarity of the question to each chunk, from the stored embeddings."""
        records = self.collection.get(ids=chunk_ids, include=["embeddings"])
        return {
            chunk_id: float(unit_vector(emb) @ q)
            for chunk_id, emb in zip(records["ids"], records["embeddings"], strict=True)
        }


__all__ = ["STOPWORDS", "Retriever", "Vocabulary", "unit_vector"]
