"""`python -m evals`: score the gold questions for each configuration and write a report."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import assistant  # noqa: F401  (offline, no telemetry)
from assistant.errors import AssistantError
from assistant.settings import load_settings
from evals.gold import DEFAULT_GOLD, load_gold, validate
from evals.runner import CONFIGS, make_configs, run_config, summarize

HEADLINE = ["recall@1", "recall@5", "mrr@10", "cited", "answered_when_answerable",
            "refused_when_unanswerable", "key_facts", "median_words", "p50_ms", "p95_ms"]


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}" if value <= 1.0 else f"{value:.0f}"
    return str(value)


def table(metrics: dict[str, dict]) -> str:
    lines = ["| config | " + " | ".join(HEADLINE) + " |",
             "|---" * (len(HEADLINE) + 1) + "|"]
    for name, m in metrics.items():
        lines.append(f"| {name} | " + " | ".join(_fmt(m.get(h)) for h in HEADLINE) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals", description=__doc__)
    parser.add_argument("--config", default="bm25,dense,hybrid,shipped",
                        help=f"comma-separated, from {sorted(CONFIGS)}")
    parser.add_argument("--only", help="comma-separated question ids")
    parser.add_argument("--gold", type=Path, default=DEFAULT_GOLD)
    parser.add_argument("--settings", type=Path, help="YAML settings profile")
    parser.add_argument("--out", type=Path, default=Path("evals/results"))
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    settings = load_settings(args.settings)
    gold = load_gold(args.gold)
    problems = validate(gold, settings.corpus_dir)
    if problems:
        print("error: the gold set is invalid:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 2
    if args.only:
        wanted = set(args.only.split(","))
        gold = [q for q in gold if q.id in wanted]
    try:
        configs = make_configs(args.config.split(","), settings)
    except AssistantError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    all_rows, metrics = [], {}
    for config in configs:
        rows = run_config(config, gold, progress=not args.quiet)
        all_rows.extend(rows)
        metrics[config.name] = summarize(rows)
    out = args.out / time.strftime("%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    with (out / "questions.jsonl").open("w") as f:
        for row in all_rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    report = f"# Evaluation {out.name}\n\n{len(gold)} questions.\n\n{table(metrics)}\n"
    (out / "report.md").write_text(report)
    print(table(metrics))
    print(f"\nreport: {out}/report.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
