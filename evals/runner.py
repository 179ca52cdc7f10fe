"""Run the gold questions through each configuration and score them.

Each configuration is an object with the same interface (``name``, ``build(...)``,
``retrieve(question, k)``, ``ask(question)``), so comparing a new idea is one more entry in
CONFIGS. All but the baseline are ``build_assistant(settings)`` with different settings over
the same index; the baseline is what a newcomer gets from the LlamaIndex quickstart.
"""

from __future__ import annotations

import copy
import logging
import math
import re
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from assistant.core import Assistant, build_assistant, clean_question
from assistant.settings import Settings
from assistant.text import split_sentences
from assistant.types import Answer, Passage
from evals import question_metrics as per_question
from evals.gold import GoldQuestion, fact_form, normalize, states_fact

KS = (1, 3, 5, 10)
_MARKED = re.compile(r"(.+?)\s*\[(\d+)\]")


@dataclass
class Config:
    """A named retrieval/answer setup built with ``build_assistant`` over the shared index."""

    name: str
    description: str
    overrides: dict[str, Any] = field(default_factory=dict)
    _assistant: Assistant | None = None
    _normalized: list[str] | None = None
    _sections: list[str] | None = None

    def build(self, base: Settings, embed_model: Any = None) -> Config:
        data = base.model_dump()
        for section, values in self.overrides.items():
            data[section] = {**data.get(section, {}), **values}
        self._assistant = build_assistant(Settings(**data), embed_model=embed_model)
        self._normalized = None  # a new index: its chunk texts are normalised on first use
        self._sections = None
        return self

    @property
    def assistant(self) -> Assistant:
        assert self._assistant is not None, "call build() first"
        return self._assistant

    def chunk_texts(self) -> list[str]:
        """Every indexed chunk's text."""
        return [n.text for n in self.assistant.nodes]

    def chunk_sections(self) -> list[str]:
        """Every indexed chunk's ``section_key``, in chunk_texts order."""
        return [section_key(n.metadata) for n in self.assistant.nodes]

    def gold_chunks(self, q: GoldQuestion) -> list[int]:
        """The positions (in chunk_texts order) of the chunks that hold the gold evidence."""
        if getattr(self, "_normalized", None) is None:
            self._normalized = [normalize(t) for t in self.chunk_texts()]
        return [i for i, norm in enumerate(self._normalized) if q.evidence_in_normalized(norm)]

    def sections_of(self, chunks: list[int]) -> set[str]:
        """The sections of the chunks at these positions (those that have one)."""
        if getattr(self, "_sections", None) is None:
            self._sections = self.chunk_sections()
        return {self._sections[i] for i in chunks if self._sections[i]}

    def retrieve(self, question: str, k: int) -> list[Passage]:
        return self.assistant.retrieve(question, k)

    def ask(self, question: str) -> Answer:
        return self.assistant.ask(question)


class QuickstartBaseline(Config):
    """The LlamaIndex quickstart: SimpleDirectoryReader, default chunking (SentenceSplitter,
    1024 tokens), dense retrieval only, top-2, in memory. No LLM runs here, so its two
    passages go to the same extractive answerer as the shipped setup: the difference
    measured is the reading and ranking of the documents."""

    def build(self, base: Settings, embed_model: Any = None) -> QuickstartBaseline:
        from llama_index.core import SimpleDirectoryReader, VectorStoreIndex

        from assistant.backends import make_answerer, make_embed_model
        from assistant.retrieval import Vocabulary

        embed_model = embed_model or make_embed_model(base.embedding)
        # the quickstart's reader warns that optional file readers are missing: only .md/.txt here
        logging.getLogger("llama_index.core.readers.file.base").setLevel(logging.ERROR)
        started = time.perf_counter()
        documents = SimpleDirectoryReader(
            str(base.corpus_dir),
            required_exts=[".md", ".txt"],
            recursive=True,
            exclude=["SOURCES.md", "README.md"],
        ).load_data()
        self.index = VectorStoreIndex.from_documents(documents, embed_model=embed_model)
        self.ingest_seconds = time.perf_counter() - started
        self.retriever = self.index.as_retriever(similarity_top_k=2)
        self.nodes = list(self.index.docstore.docs.values())
        self.embed_model = embed_model
        self.settings = base
        self.vocab = Vocabulary([n.get_content() for n in self.nodes])
        # the baseline is measured as an extractive answer over its passages: the difference
        # measured is the reading and ranking of the documents, not the LLM
        self.answerer = make_answerer(
            base.answer.model_copy(update={"backend": "extractive"}), embed_model, self.vocab
        )
        self._normalized = None
        self._sections = None
        return self

    def chunk_texts(self) -> list[str]:
        return [n.get_content() for n in self.nodes]

    def chunk_sections(self) -> list[str]:
        return ["" for _ in self.nodes]  # the quickstart's chunks have no sections

    def retrieve(self, question: str, k: int) -> list[Passage]:
        question = clean_question(question, self.settings.answer.max_question_chars)
        if not question:
            return []
        # scored at the k asked for (the quickstart's answer still uses its top-2)
        retriever = self.retriever if k <= 2 else self.index.as_retriever(similarity_top_k=k)
        results = retriever.retrieve(question)[:k]
        return [
            Passage(
                chunk_id=r.node.node_id,
                text=r.node.get_content(),
                metadata={
                    "doc_id": r.node.metadata.get("file_name", ""),
                    "title": r.node.metadata.get("file_name", ""),
                    "section": "",
                },
                score=float(r.score or 0.0),
                dense_similarity=float(r.score or 0.0),
            )
            for r in results
        ]

    def ask(self, question: str) -> Answer:
        started = time.perf_counter()
        text = clean_question(question, self.settings.answer.max_question_chars)
        passages = self.retrieve(text, 2) if text else []
        retrieved = time.perf_counter()
        draft = self.answerer.answer(
            text, passages, self.embed_model.get_query_embedding(text) if text else None
        )
        done = time.perf_counter()
        timings = {
            "retrieve": (retrieved - started) * 1000,
            "answer": (done - retrieved) * 1000,
            "total": (done - started) * 1000,
        }
        return Answer.from_draft(text, draft, timings)


def with_temporary_store(settings: Settings, folder: Path) -> Settings:
    """The settings with an embedded store in ``folder`` (a fresh index for a run)."""
    store = settings.store.model_copy(update={"path": Path(folder) / "chroma", "url": None})
    return settings.model_copy(update={"store": store})


def _fixed(mode: str, fusion: str = "relative_score", rerank: bool = False) -> dict[str, Any]:
    return {"retrieval": {"mode": mode, "fusion": fusion, "rerank": rerank}}


CONFIGS: dict[str, Config] = {
    "baseline": QuickstartBaseline(
        "baseline", "LlamaIndex quickstart: default chunks, dense, top-2"
    ),
    "dense": Config("dense", "structure-aware chunks, MiniLM only", _fixed("dense")),
    "bm25": Config("bm25", "structure-aware chunks, BM25 only", _fixed("bm25")),
    "hybrid-rrf": Config(
        "hybrid-rrf", "BM25 + MiniLM, reciprocal rank fusion", _fixed("hybrid", "reciprocal_rerank")
    ),
    "hybrid": Config(
        "hybrid",
        "BM25 + MiniLM, relative-score fusion (BM25 0.6)",
        _fixed("hybrid", "relative_score"),
    ),
    "shipped": Config("shipped", "the app's settings: hybrid + sentence re-rank", {}),
}


# --------------------------------------------------------------------------- scoring


def _rank_of_first_hit(q: GoldQuestion, passages: list[Passage]) -> int | None:
    for rank, p in enumerate(passages, start=1):
        if q.evidence_in(p.text):
            return rank
    return None


def ndcg(q: GoldQuestion, passages: list[Passage], relevant: int, k: int = 10) -> float:
    """Binary-relevance nDCG@k: a passage is relevant when it holds a gold quote."""
    gains = [1.0 if q.evidence_in(p.text) else 0.0 for p in passages[:k]]
    dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains))
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(max(relevant, 1), k)))
    return dcg / ideal if ideal else 0.0


def _content_words(text: str) -> set[str]:
    from assistant.retrieval import STOPWORDS

    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in STOPWORDS and len(w) > 2}


def citation_support(answer_text: str, citations: list[dict[str, Any]]) -> tuple[int, int]:
    """(supported, total) marked sentences. A sentence is supported when at least 80% of its
    content words appear in the passage it cites. Limits: lexical, so a paraphrase that is
    faithful but reworded counts as unsupported, and a sentence that copies words but
    changes their meaning (a dropped 'not') counts as supported. For the extractive answerer
    every sentence is a quotation, so this mainly guards generated answers and outside systems."""
    passages = {int(c["n"]): c.get("text", "") for c in citations}
    supported = total = 0
    for line in answer_text.splitlines():
        for sentence, n in _MARKED.findall(line):
            total += 1
            words = _content_words(sentence)
            cited = _content_words(passages.get(int(n), ""))
            if words and int(n) in passages and len(words & cited) / len(words) >= 0.8:
                supported += 1
    return supported, total


def score_answer(q: GoldQuestion, answer: dict[str, Any]) -> dict[str, Any]:
    """Answer-level scores from one JSON-contract object (works for outside systems too)."""
    cited = answer.get("citations") or []
    refused = bool(answer.get("refused"))
    text = answer.get("answer") or ""
    supported, marked = citation_support(text, cited) if not refused else (0, 0)
    row: dict[str, Any] = {
        "refused": refused,
        "words": len(_MARKED.sub(r"\1", text).split()) if not refused else 0,
        "correct_refusal": refused == (not q.answerable),
        "sentences": marked,
        "supported_sentences": supported,
        "cited_passages": 0 if refused else len(cited),
        "cited_passages_with_gold": 0
        if refused
        else sum(1 for c in cited if q.evidence_in(c.get("text", ""))),
    }
    row["items_without_lead_in"] = items_without_lead_in(text, cited) if not refused else []
    row["status"] = answer.get("status", "not_found" if refused else "answered")
    if q.answerable:
        row["cited_gold"] = (not refused) and row["cited_passages_with_gold"] > 0
        said = fact_form(text)
        found = [f for f in q.key_facts if states_fact(f, said)]
        row["key_fact_coverage"] = len(found) / len(q.key_facts) if q.key_facts else None
        row["missing_facts"] = [f for f in q.key_facts if f not in found]
    return row


def section_key(metadata: dict[str, Any]) -> str:
    """'doc > section' for a chunk with a section, '' for one without."""
    section = metadata.get("section", "")
    return f"{metadata.get('doc_id', '')} > {section}" if section else ""


# Where an answerable question is lost, in the order the pipeline meets it. The answerer
# quotes from the top ANSWER_POOL passages (max_citations + 2, at least 5, by default).
ANSWER_POOL = 5
LOSS_STAGES = {
    "cited": "answered with the gold passage cited",
    "not_cited": "gold passage in the top 5, answered from other passages",
    "refused": "gold passage in the top 5, refused",
    "sibling": "gold passage not in the top 5, another chunk of its section is",
    "ranked_6_10": "gold passage ranked 6-10, its section not in the top 5",
    "not_retrieved": "gold passage and its section not in the top 10",
}


def loss_stage(
    first_hit_rank: int | None,
    refused: bool,
    cited_gold: bool,
    gold_sections: set[str],
    top_sections: list[str],
) -> str:
    """The LOSS_STAGES key of one answerable question: what went right or first went wrong.
    ``top_sections`` are the sections of the top ANSWER_POOL retrieved passages."""
    if cited_gold:
        return "cited"
    if first_hit_rank is not None and first_hit_rank <= ANSWER_POOL:
        return "refused" if refused else "not_cited"
    if gold_sections & set(top_sections):
        return "sibling"
    if first_hit_rank is not None and first_hit_rank <= 10:
        return "ranked_6_10"
    return "not_retrieved"


def run_config(
    config: Config,
    gold: list[GoldQuestion],
    k_max: int = 10,
    progress: bool = True,
    doc_types: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Per-question rows for one configuration (warm: one question is asked first).
    ``doc_types`` maps a document file to its type, for metrics per document type."""
    doc_types = doc_types or {}
    rows = []
    config.ask("What does an additional learning needs co-ordinator do?")
    for q in tqdm(gold, desc=config.name, unit="q", disable=not progress):
        t0 = time.perf_counter()
        passages = config.retrieve(q.question, k_max)
        retrieve_ms = (time.perf_counter() - t0) * 1000
        answer = config.ask(q.question)
        payload = answer.to_json(q.id)
        scores = score_answer(q, payload)
        first_hit = _rank_of_first_hit(q, passages) if q.answerable else None
        gold_chunks = config.gold_chunks(q) if q.answerable else []
        rows.append(
            {
                "id": q.id,
                "config": config.name,
                "split": q.split,
                "doc_type": doc_types.get(q.evidence[0].doc, "none") if q.evidence else "none",
                "persona": q.persona,
                "kind": q.kind,
                "answerable": q.answerable,
                "question": q.question,
                "answer": answer.text,
                "reason": answer.reason,
                "diagnostics": {k: v for k, v in answer.diagnostics.items() if k != "generated"},
                "generated": answer.diagnostics.get("generated"),
                "checker": answer.checker,
                "citations": [
                    {
                        "n": c["n"],
                        "doc_id": c["doc_id"],
                        "section": c["section"],
                        "has_gold": q.evidence_in(c["text"]),
                    }
                    for c in payload["citations"]
                ],
                "first_hit_rank": first_hit,
                "loss": loss_stage(
                    first_hit,
                    bool(scores["refused"]),
                    bool(scores.get("cited_gold")),
                    config.sections_of(gold_chunks),
                    [section_key(p.metadata) for p in passages[:ANSWER_POOL]],
                )
                if q.answerable
                else None,
                "ndcg@10": ndcg(q, passages, len(gold_chunks), 10) if q.answerable else None,
                "retrieved": [
                    {
                        "chunk_id": p.chunk_id,
                        "section": p.metadata.get("section", ""),
                        "has_gold": q.evidence_in(p.text),
                    }
                    for p in passages
                ],
                "retrieve_ms": retrieve_ms,
                "total_ms": answer.timings_ms.get("total", 0.0),
                **scores,
            }
        )
    return rows


def score_answers_file(path: Path, gold: list[GoldQuestion]) -> list[dict[str, Any]]:
    """Rows for the JSON lines of `python -m assistant ask --jsonl` from any build."""
    import json

    by_id = {q.id: q for q in gold}
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        obj = json.loads(line)
        q = by_id.get(str(obj.get("id")))
        if q is None:
            raise ValueError(f"{path}:{number}: id {obj.get('id')!r} is not in the gold set")
        rows.append(
            {
                "id": q.id,
                "config": path.stem,
                "split": q.split,
                "doc_type": "none",
                "persona": q.persona,
                "kind": q.kind,
                "answerable": q.answerable,
                "question": q.question,
                "answer": obj.get("answer", ""),
                "citations": obj.get("citations", []),
                "first_hit_rank": None,
                "ndcg@10": None,
                "retrieve_ms": (obj.get("timings_ms") or {}).get("retrieve", 0.0),
                "total_ms": (obj.get("timings_ms") or {}).get("total", 0.0),
                **score_answer(q, obj),
            }
        )
    return rows


# --------------------------------------------------------------------------- summaries


def _mean(values: list[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def summarize(rows: list[dict[str, Any]], ks: tuple[int, ...] = KS) -> dict[str, Any]:
    """Headline metrics over a set of per-question rows."""
    answerable = [r for r in rows if r["answerable"]]
    has_retrieval = any(per_question.retrieval_scored(r) for r in rows)
    out: dict[str, Any] = {"questions": len(rows), "answerable": len(answerable)}
    for k in ks:
        out[f"recall@{k}"] = (
            _mean([per_question.recall_at(k)(r) for r in rows]) if has_retrieval else None
        )
    out["mrr@10"] = (
        _mean([per_question.reciprocal_rank(r) for r in rows]) if has_retrieval else None
    )
    out["ndcg@10"] = _mean([r.get("ndcg@10") for r in answerable]) if has_retrieval else None
    out["cited"] = _mean([per_question.cited(r) for r in rows])
    cited = sum(r["cited_passages"] for r in rows)
    out["citation_precision"] = (
        (
            sum(r["cited_passages_with_gold"] for r in answerable)
            / max(1, sum(r["cited_passages"] for r in answerable))
        )
        if cited
        else None
    )
    marked = sum(r["sentences"] for r in rows)
    out["citation_support"] = (
        (sum(r["supported_sentences"] for r in rows) / marked) if marked else None
    )
    out["answered_when_answerable"] = _mean([per_question.answered(r) for r in rows])
    out["refused_when_unanswerable"] = _mean([per_question.refused(r) for r in rows])
    out["key_facts"] = _mean([per_question.key_facts(r) for r in rows])
    # per status: how often each was given, and how often a 'partial' was right (the question
    # was answerable and the gold passage was among the quotes)
    for status in ("answered", "partial", "not_found", "out_of_scope"):
        out[f"status_{status}"] = _mean([1.0 if r.get("status") == status else 0.0 for r in rows])
    partials = [r for r in rows if r.get("status") == "partial"]
    out["partial_right"] = (
        _mean([1.0 if r["answerable"] and r.get("cited_gold") else 0.0 for r in partials])
        if partials
        else None
    )
    staged = [r for r in answerable if r.get("loss")]
    out["lost"] = (
        {stage: sum(1 for r in staged if r["loss"] == stage) / len(staged) for stage in LOSS_STAGES}
        if staged
        else None
    )
    out["answers_with_bare_items"] = sum(1 for r in rows if r.get("items_without_lead_in"))
    words = [r["words"] for r in rows if not r["refused"]]
    out["median_words"] = statistics.median(words) if words else None
    totals = [r["total_ms"] for r in rows]
    out["p50_ms"] = percentile(totals, 0.5)
    out["p95_ms"] = percentile(totals, 0.95)
    checked = [r["checker"] for r in rows if r.get("checker") and r["checker"].get("llm_called")]
    if checked:
        generated = sum(c.get("generated_sentences", 0) for c in checked)
        out["llm_answers"] = len(checked)
        out["generated_dropped"] = (
            (sum(c.get("unsupported_dropped", 0) for c in checked) / generated)
            if generated
            else None
        )
        out["llm_fallback"] = sum(c.get("fallback", 0) for c in checked) / len(checked)
    retrievals = [r["retrieve_ms"] for r in rows]
    out["retrieve_p50_ms"] = percentile(retrievals, 0.5)
    out["retrieve_p95_ms"] = percentile(retrievals, 0.95)
    return out


def breakdown(rows: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    """summarize() per value of ``key`` (persona or kind)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(r[key], []).append(r)
    return {name: summarize(group) for name, group in sorted(groups.items())}


def make_configs(names: list[str], settings: Settings) -> list[Config]:
    """Build the named configurations, loading the embedding model once for all."""
    from assistant.backends import make_embed_model

    unknown = [n for n in names if n not in CONFIGS]
    if unknown:
        raise ValueError(f"unknown config {unknown}; choose from {sorted(CONFIGS)}")
    embed_model = make_embed_model(settings.embedding)
    return [copy.copy(CONFIGS[n]).build(settings, embed_model) for n in names]


_ITEM_LINE = re.compile(r"^\s*- (.*?)\s*(?:\[\d+\])?$")
_SUBSECTION = re.compile(r"^\(\d+[A-Z]{0,3}\)")
_LETTERED = re.compile(r"^\((?:[a-z]{1,2}|[ivx]{1,5})\)")


_LEADS = re.compile(r"(:|—|–|-|including|include|includes|following)\s*$", re.I)


def _strip_marker(line: str) -> str:
    line = line.strip()
    line = line[2:] if line.startswith("- ") else line
    return re.sub(r"\s*\[\d+\]\s*$", "", line).strip()


def items_without_lead_in(answer_text: str, citations: list[dict[str, Any]]) -> list[str]:
    """List items shown without the line that introduces their list in the source:
    '(b) ...' without its '(2) ... —', or a bullet without the sentence ending in ':' that
    opens its list. (A subsection '(3) ...' is a provision of its own, not an item; a list
    whose source has no lead-in line has nothing to show.) An answer must never have one."""
    sources = {int(c["n"]): c.get("text", "") for c in citations}
    bad: list[str] = []
    for block in answer_text.split("\n\n"):
        lines = block.splitlines()
        for i, line in enumerate(lines):
            marker = re.search(r"\[(\d+)\]\s*$", line)
            if not line.strip().startswith("- ") or not marker:
                continue
            item = _strip_marker(line)
            if _SUBSECTION.match(item):
                continue
            source = [x for x in sources.get(int(marker.group(1)), "").splitlines() if x.strip()]
            index = next((j for j, x in enumerate(source) if item[:50] in x), None)
            if index is None:
                continue
            lettered = bool(_LETTERED.match(item))
            lead = None
            for j in range(index - 1, -1, -1):
                prev = _strip_marker(source[j])
                if lettered and _LETTERED.match(prev):
                    continue  # a sibling item
                if not lettered and source[j].strip().startswith("- ") and not _LEADS.search(prev):
                    continue  # a sibling bullet
                lead = prev
                break
            if lead is None or (not lettered and not _LEADS.search(lead)):
                continue  # the list has no lead-in line
            shown = re.sub(r"\s*\[\d+\]", "", " ".join(lines[:i]))  # as the reader sees it
            opener = split_sentences(lead)[-1][0]  # the sentence that opens the list
            if opener[-40:] not in shown:
                bad.append(item[:80])
    return bad
