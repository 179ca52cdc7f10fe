"""`python -m evals.ceiling`: how much of the loss is the answerer's, not retrieval's?

For every answerable gold question this answers twice with the shipped answerer: once from
the passages the shipped retriever returns, and once from the same passages with the chunks
that hold the gold quote put first (scored against the question as retrieved chunks are).
The second figure is what "answered with the gold cited" would be if retrieval were perfect:
the ceiling any ranking change can reach with the present answerer and status model. The gap
between the two is retrieval's share of the loss; the gap between the second and 1.0 is the
answerer's (the gold passage handed to it first, and still refused or not quoted).

    python -m evals.ceiling [--split dev,test] [--index existing|fresh]

Only totals are printed (per split, and for the real help-page questions apart), so running
it on test does not turn into reading test answers.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import assistant  # noqa: F401  (offline, no telemetry)
from assistant.core import read_as_typed
from assistant.settings import load_settings
from evals.gold import GoldQuestion, load_splits, states_fact
from evals.runner import Config, make_configs, with_temporary_store


@dataclass(frozen=True)
class CeilingRow:
    """One answerable question answered from the shipped passages and with its gold first."""

    id: str
    split: str
    real: bool
    gold_found: bool  # some indexed chunk holds a gold quote
    shipped_cited: bool
    gold_first_cited: bool
    gold_first_refused: bool
    gold_first_facts: bool  # the gold-first answer states every key fact (whatever it cites)


def _cited(q: GoldQuestion, draft_refused: bool, texts: list[str]) -> bool:
    return not draft_refused and any(q.evidence_in(t) for t in texts)


def ceiling_row(config: Config, q: GoldQuestion) -> CeilingRow:
    """The question answered from the configuration's passages, and from them with its gold
    first (the chunks ``Config.gold_chunks`` finds, as the evals runner scores them)."""
    bot = config.assistant
    retriever = bot.retriever
    query = read_as_typed(q.question, retriever.forms, bot.settings.reading)
    embedding = retriever.embed_query(query)
    k = bot.settings.retrieval.top_k
    shipped = retriever.retrieve(query, k, query_embedding=embedding)
    gold_nodes = [retriever.nodes[i] for i in config.gold_chunks(q)]
    gold = retriever.as_passages(gold_nodes, embedding)
    gold_ids = {p.chunk_id for p in gold}
    first = (gold + [p for p in shipped if p.chunk_id not in gold_ids])[:k]
    a = bot.answerer.answer(query, shipped, embedding)
    b = bot.answerer.answer(query, first, embedding)
    return CeilingRow(
        id=q.id,
        split=q.split,
        real=bool(q.source_url),
        gold_found=bool(gold_nodes),
        shipped_cited=_cited(q, a.refused, [s.text for s in a.sources]),
        gold_first_cited=_cited(q, b.refused, [s.text for s in b.sources]),
        gold_first_refused=b.refused,
        gold_first_facts=not b.refused
        and bool(q.key_facts)
        and all(states_fact(f, b.text) for f in q.key_facts),
    )


def summarize(rows: list[CeilingRow]) -> dict[str, float | int]:
    """Shares of the questions: cited as shipped, cited with the gold first, refused with it."""
    n = len(rows)
    if not n:
        return {"questions": 0}
    return {
        "questions": n,
        "cited_shipped": round(sum(r.shipped_cited for r in rows) / n, 3),
        "cited_gold_first": round(sum(r.gold_first_cited for r in rows) / n, 3),
        "refused_gold_first": round(sum(r.gold_first_refused for r in rows) / n, 3),
        "quoted_other_passages_gold_first": round(
            sum(not r.gold_first_cited and not r.gold_first_refused for r in rows) / n, 3
        ),
        # of those, the answers that still state every key fact: often another passage saying
        # the same (the Code restating a Regulation), which the gold quote does not list
        "other_passages_every_key_fact_gold_first": round(
            sum(
                not r.gold_first_cited and not r.gold_first_refused and r.gold_first_facts
                for r in rows
            )
            / n,
            3,
        ),
    }


def report(rows: list[CeilingRow]) -> dict[str, dict[str, float | int]]:
    out: dict[str, dict[str, float | int]] = {}
    for split in sorted({r.split for r in rows}, key=lambda s: (s != "test", s)):
        mine = [r for r in rows if r.split == split]
        out[split] = summarize(mine)
        out[f"{split}, real questions"] = summarize([r for r in mine if r.real])
        out[f"{split}, written questions"] = summarize([r for r in mine if not r.real])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m evals.ceiling",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--split", default="dev,test", help="dev, test or both (default)")
    parser.add_argument("--index", choices=["fresh", "existing"], default="fresh")
    parser.add_argument("--settings", type=Path, help="YAML settings profile")
    parser.add_argument("--out", type=Path, default=Path("evals/results"))
    args = parser.parse_args(argv)

    settings = load_settings(args.settings)
    gold = [q for q in load_splits(args.split) if q.answerable]
    with tempfile.TemporaryDirectory(prefix="ceiling-") as tmp:
        if args.index == "fresh":
            from ingest.pipeline import run_ingest

            settings = with_temporary_store(settings, Path(tmp))
            run_ingest(settings, progress=False)
        (config,) = make_configs(["shipped"], settings)
        rows = [ceiling_row(config, q) for q in gold]
    result = {"date": time.strftime("%Y-%m-%d"), "by_split": report(rows)}
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"ceiling-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(result, indent=2))
    print(
        "| questions | n | cited as shipped | cited, gold first | refused, gold first "
        "| other passages quoted, gold first | of those, every key fact stated |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, s in result["by_split"].items():
        if s["questions"]:
            print(
                f"| {name} | {s['questions']} | {s['cited_shipped']:.2f} | {s['cited_gold_first']:.2f}"
                f" | {s['refused_gold_first']:.2f} | {s['quoted_other_passages_gold_first']:.2f}"
                f" | {s['other_passages_every_key_fact_gold_first']:.2f} |"
            )
    print(f"\nreport: {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
