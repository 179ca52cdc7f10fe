"""Run the gold questions through ``build_assistant(...)`` for one or more configurations.

Each configuration is an object with the same interface (``name``, ``retrieve(question, k)``,
``ask(question)``), so comparing a new idea is one more entry in CONFIGS.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from typing import Any

from tqdm import tqdm

from assistant.core import Assistant, build_assistant
from assistant.settings import Settings, load_settings
from assistant.types import Answer, Passage
from evals.gold import GoldQuestion, normalize

KS = (1, 3, 5, 10)


@dataclass
class Config:
    """A named retrieval/answer setup over the same index."""

    name: str
    description: str
    overrides: dict[str, Any] = field(default_factory=dict)
    _assistant: Assistant | None = None

    def build(self, base: Settings, embed_model: Any = None) -> Config:
        data = base.model_dump()
        for section, values in self.overrides.items():
            data[section] = {**data.get(section, {}), **values}
        self._assistant = build_assistant(Settings(**data), embed_model=embed_model)
        return self

    @property
    def assistant(self) -> Assistant:
        assert self._assistant is not None, "call build() first"
        return self._assistant

    def retrieve(self, question: str, k: int) -> list[Passage]:
        return self.assistant.retrieve(question, k)

    def ask(self, question: str) -> Answer:
        return self.assistant.ask(question)


CONFIGS: dict[str, Config] = {
    "dense": Config("dense", "MiniLM only (Chroma)", {"retrieval": {"mode": "dense", "rerank": False}}),
    "bm25": Config("bm25", "BM25 only", {"retrieval": {"mode": "bm25", "rerank": False}}),
    "hybrid": Config("hybrid", "BM25 + MiniLM, reciprocal rank fusion",
                     {"retrieval": {"mode": "hybrid", "rerank": False}}),
    "hybrid-rel": Config("hybrid-rel", "hybrid, relative score fusion, BM25 weight 0.6",
                         {"retrieval": {"mode": "hybrid", "rerank": False, "fusion": "relative_score",
                                        "bm25_weight": 0.6}}),
    "hybrid-dist": Config("hybrid-dist", "hybrid, distribution-based fusion, BM25 weight 0.6",
                          {"retrieval": {"mode": "hybrid", "rerank": False,
                                         "fusion": "dist_based_score", "bm25_weight": 0.6}}),
    "hybrid-rel-rerank": Config("hybrid-rel-rerank", "relative score fusion + sentence re-rank",
                                {"retrieval": {"mode": "hybrid", "rerank": True,
                                               "fusion": "relative_score", "bm25_weight": 0.6}}),
    "hybrid-rerank": Config("hybrid-rerank", "hybrid, re-ranked by best sentence",
                            {"retrieval": {"mode": "hybrid", "rerank": True}}),
    "shipped": Config("shipped", "the configuration the app ships with (settings defaults)", {}),
}


def _rank_of_first_hit(q: GoldQuestion, passages: list[Passage]) -> int | None:
    for rank, p in enumerate(passages, start=1):
        if q.evidence_in(p.text):
            return rank
    return None


def score_answer(q: GoldQuestion, answer: dict[str, Any]) -> dict[str, Any]:
    """Answer-level scores from the JSON contract object (works for outside systems too)."""
    cited = answer.get("citations") or []
    refused = bool(answer.get("refused"))
    text = answer.get("answer") or ""
    row: dict[str, Any] = {
        "refused": refused,
        "words": len(text.split()) if not refused else 0,
        "correct_refusal": (refused == (not q.answerable)),
    }
    if q.answerable:
        row["cited_gold"] = (not refused) and any(q.evidence_in(c.get("text", "")) for c in cited)
        norm = normalize(text)
        found = [f for f in q.key_facts if normalize(f) in norm]
        row["key_fact_coverage"] = len(found) / len(q.key_facts) if q.key_facts else None
        row["missing_facts"] = [f for f in q.key_facts if f not in found]
    return row


def run_config(config: Config, gold: list[GoldQuestion], k_max: int = 10,
               progress: bool = True) -> list[dict[str, Any]]:
    """Per-question rows for one configuration."""
    rows = []
    config.ask("warm-up question about additional learning needs")  # measure warm latency
    for q in tqdm(gold, desc=config.name, unit="q", disable=not progress):
        t0 = time.perf_counter()
        passages = config.retrieve(q.question, k_max)
        retrieve_ms = (time.perf_counter() - t0) * 1000
        answer = config.ask(q.question)
        payload = answer.to_json(q.id)
        row = {
            "id": q.id,
            "config": config.name,
            "persona": q.persona,
            "kind": q.kind,
            "answerable": q.answerable,
            "question": q.question,
            "answer": answer.text,
            "reason": answer.reason,
            "diagnostics": answer.diagnostics,
            "citations": [
                {"n": c["n"], "doc_id": c["doc_id"], "section": c["section"],
                 "has_gold": q.evidence_in(c["text"])}
                for c in payload["citations"]
            ],
            "first_hit_rank": _rank_of_first_hit(q, passages) if q.answerable else None,
            "retrieved": [p.chunk_id for p in passages],
            "retrieve_ms": retrieve_ms,
            "total_ms": answer.timings_ms.get("total", 0.0),
            **score_answer(q, payload),
        }
        rows.append(row)
    return rows


def _mean(values: list[float]) -> float | None:
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Headline metrics over a set of per-question rows."""
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    out: dict[str, Any] = {"questions": len(rows)}
    for k in KS:
        out[f"recall@{k}"] = _mean(
            [1.0 if r["first_hit_rank"] and r["first_hit_rank"] <= k else 0.0 for r in answerable]
        )
    out["mrr@10"] = _mean([1.0 / r["first_hit_rank"] if r["first_hit_rank"] else 0.0
                           for r in answerable])
    out["cited"] = _mean([1.0 if r.get("cited_gold") else 0.0 for r in answerable])
    out["answered_when_answerable"] = _mean([0.0 if r["refused"] else 1.0 for r in answerable])
    out["refused_when_unanswerable"] = _mean([1.0 if r["refused"] else 0.0 for r in unanswerable])
    out["key_facts"] = _mean([r.get("key_fact_coverage") for r in answerable])
    words = [r["words"] for r in rows if not r["refused"]]
    out["median_words"] = statistics.median(words) if words else None
    totals = [r["total_ms"] for r in rows]
    out["p50_ms"] = _pct(totals, 0.5)
    out["p95_ms"] = _pct(totals, 0.95)
    out["retrieve_p50_ms"] = _pct([r["retrieve_ms"] for r in rows], 0.5)
    return out


def make_configs(names: list[str], settings: Settings | None = None) -> list[Config]:
    settings = settings or load_settings()
    from assistant.backends import make_embed_model

    embed_model = make_embed_model(settings.embedding)  # load the model once for all configs
    unknown = [n for n in names if n not in CONFIGS]
    if unknown:
        raise SystemExit(f"unknown config {unknown}; choose from {sorted(CONFIGS)}")
    return [CONFIGS[n].build(settings, embed_model) for n in names]
