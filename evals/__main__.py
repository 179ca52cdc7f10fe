"""`python -m evals`: score the gold questions for each configuration and write a report.

By default the corpus is ingested afresh into a temporary index (so the run is reproducible
from a clean clone and the ingest time is measured); `--index existing` uses the app's index.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

import assistant  # noqa: F401  (offline, no telemetry)
from assistant.errors import AssistantError
from assistant.settings import add_llm_arguments, llm_overrides, load_settings
from evals.gold import TYPINGS, as_typed, doc_types, load_gold, load_splits, validate
from evals.report import check_thresholds, table, write_report
from evals.runner import (
    CONFIGS,
    breakdown,
    make_configs,
    run_config,
    score_answers_file,
    summarize,
    with_temporary_store,
)

DEFAULT_CONFIGS = "baseline,dense,bm25,hybrid-rrf,hybrid,shipped"


def by_split(rows: list[dict], name: str, ks: tuple[int, ...]) -> dict[str, dict]:
    """Metrics of one configuration per gold split: 'shipped@test', 'shipped@dev'."""
    out = {}
    for split in sorted({r["split"] for r in rows}, key=lambda s: (s != "test", s)):
        out[f"{name}@{split}"] = summarize([r for r in rows if r["split"] == split], ks)
    return out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["feedback"]:  # `python -m evals feedback`: export the app's ratings
        from evals.feedback import main as feedback_main

        return feedback_main(argv[1:])
    if argv[:1] == ["compare"]:  # `python -m evals compare BEFORE AFTER`: more than noise?
        from evals.compare import main as compare_main

        return compare_main(argv[1:])
    parser = argparse.ArgumentParser(
        prog="python -m evals",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--config",
        default=DEFAULT_CONFIGS,
        help=f"comma-separated, from {sorted(CONFIGS)} (default: all)",
    )
    parser.add_argument("--only", help="comma-separated question ids")
    parser.add_argument("--k", type=int, default=10, help="largest k for Recall@k (default 10)")
    parser.add_argument(
        "--answers",
        type=Path,
        help="score this file of `python -m assistant ask --jsonl` output instead",
    )
    parser.add_argument(
        "--index",
        choices=["fresh", "existing"],
        default="fresh",
        help="ingest into a temporary index (default) or use the app's index",
    )
    parser.add_argument("--gold", type=Path, help="one gold file instead of the splits")
    parser.add_argument(
        "--split",
        default="dev,test",
        help="gold splits to run: dev (tuned on), test (held out; gated), or both",
    )
    parser.add_argument(
        "--typed",
        choices=TYPINGS,
        default="as-written",
        help="ask each question as written (default), all in lower case as quick typing on a "
        "phone leaves it, or with one slip (two letters swapped in its longest word): the "
        "answers should hardly change",
    )
    parser.add_argument("--settings", type=Path, help="YAML settings profile")
    parser.add_argument("--out", type=Path, default=Path("evals/results"))
    parser.add_argument("--no-check", action="store_true", help="do not gate on thresholds.yaml")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    add_llm_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    settings = load_settings(args.settings, **llm_overrides(args))
    try:
        gold = load_gold(args.gold) if args.gold else load_splits(args.split)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    problems = validate(gold, settings.corpus_dir)
    if problems:
        print("error: the gold set is invalid:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 2
    if args.only:
        wanted = set(args.only.split(","))
        gold = [q for q in gold if q.id in wanted]
        if not gold:
            print(f"error: no gold question has an id in {sorted(wanted)}", file=sys.stderr)
            return 2
    gold = [as_typed(q, args.typed) for q in gold]
    ks = tuple(k for k in (1, 3, 5, 10, 20, 50) if k <= args.k) or (args.k,)
    out = args.out / time.strftime("%Y%m%d-%H%M%S")
    notes = {"questions": len(gold), "ks": ks, "typed": args.typed}

    if args.answers:
        try:
            rows = score_answers_file(args.answers, gold)
        except (OSError, ValueError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        metrics = by_split(rows, args.answers.stem, ks)
        notes["index"] = f"answers from {args.answers}"
        report = write_report(
            out,
            metrics,
            rows,
            breakdown(rows, "persona"),
            breakdown(rows, "kind"),
            args.answers.stem,
            ks,
            notes,
        )
        print(table(metrics))
        print(f"\nreport: {report}")
        return 0

    with tempfile.TemporaryDirectory(prefix="evals-index-") as tmp:
        if args.index == "fresh":
            from ingest.pipeline import run_ingest

            settings = with_temporary_store(settings, Path(tmp))
            started = time.perf_counter()
            ingest = run_ingest(settings, progress=not args.quiet)
            notes["ingest_seconds"] = round(time.perf_counter() - started, 1)
            notes["index"] = f"fresh ({ingest.chunks} chunks)"
        else:
            notes["index"] = f"existing ({settings.store.url or settings.store.path})"
        try:
            configs = make_configs(args.config.split(","), settings)
        except (AssistantError, ValueError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        rows, metrics = [], {}
        types = doc_types(settings.corpus_dir)
        for config in configs:
            config_rows = run_config(
                config, gold, k_max=max(ks), progress=not args.quiet, doc_types=types
            )
            rows.extend(config_rows)
            metrics.update(by_split(config_rows, config.name, ks))
            if hasattr(config, "ingest_seconds"):
                notes[f"{config.name}_ingest_seconds"] = round(config.ingest_seconds, 1)
    focus = "shipped" if any(r["config"] == "shipped" for r in rows) else rows[0]["config"]
    focus_rows = [r for r in rows if r["config"] == focus]
    notes["by_split_and_doc_type"] = {
        split: breakdown([r for r in focus_rows if r["split"] == split], "doc_type")
        for split in sorted({r["split"] for r in focus_rows}, key=lambda s: (s != "test", s))
    }
    report = write_report(
        out,
        metrics,
        rows,
        breakdown(focus_rows, "persona"),
        breakdown(focus_rows, "kind"),
        focus,
        ks,
        notes,
    )
    print(table(metrics))
    print(f"\nreport: {report}")
    failures = [] if args.no_check or args.only else check_thresholds(metrics)
    for failure in failures:
        print(f"QUALITY GATE: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
