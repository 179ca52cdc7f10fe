"""Paired comparison of two eval runs: is a change more than noise?

    python -m evals compare BEFORE AFTER [--split dev] [--config shipped] [--kind real]
    python -m evals compare RUN RUN --configs baseline,shipped   (two configs of one run)

BEFORE and AFTER are runs of `python -m evals` (a run folder holding questions.jsonl, or the
file itself). Questions are paired by config and id, and for each split this prints every
per-question metric before and after, the difference with a 95% paired bootstrap interval,
how many questions got better and how many worse, and an exact sign-test p-value over the
questions that changed. A difference whose interval holds 0 is reported as noise.

With a hundred questions one question is about 0.01, and a change that moves two or three of
them either way is what chance gives; this says so in numbers instead of by eye. The
questions that changed are listed by id and text for dev; for test only their number is
shown unless --list-test is given, so that comparing two candidates on test does not turn
into reading test questions.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from evals import question_metrics as per_question
from evals.question_metrics import Row, Value


def _retrieved(value: Value) -> Value:
    """A retrieval metric, for rows that record retrieval only."""
    return lambda row: value(row) if per_question.retrieval_scored(row) else None


# name -> (per-question value, None where it does not apply; whether higher is better)
METRICS: dict[str, tuple[Value, bool]] = {
    "recall@1": (_retrieved(per_question.recall_at(1)), True),
    "recall@5": (_retrieved(per_question.recall_at(5)), True),
    "mrr@10": (_retrieved(per_question.reciprocal_rank), True),
    "cited": (per_question.cited, True),
    "answered_when_answerable": (per_question.answered, True),
    "refused_when_unanswerable": (per_question.refused, True),
    "key_facts": (per_question.key_facts, True),
    # the mean length of the answers given in both runs (the report's figure is the median)
    "words": (per_question.words, False),
}


@dataclass(frozen=True)
class Difference:
    """One metric on one split, before and after, over the questions it applies to in both."""

    metric: str
    n: int
    before: float
    after: float
    low: float  # 95% paired bootstrap interval of after - before
    high: float
    better: int  # questions where the metric moved the good way
    worse: int
    p_value: float  # exact two-sided sign test over the questions that changed
    changed: tuple[str, ...]  # ids of the questions that changed, best-first order kept

    @property
    def delta(self) -> float:
        return self.after - self.before

    @property
    def verdict(self) -> str:
        if self.low <= 0.0 <= self.high:
            return "noise"
        higher_is_better = METRICS[self.metric][1]
        return "better" if (self.delta > 0) == higher_is_better else "worse"


def sign_test(better: int, worse: int) -> float:
    """Exact two-sided binomial p-value of this many wins against losses at even odds."""
    n = better + worse
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(0, min(better, worse) + 1)) / 2**n
    return min(1.0, 2 * tail)


def bootstrap_interval(
    deltas: np.ndarray, resamples: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """95% percentile interval of the mean of ``deltas`` (paired per question)."""
    if len(deltas) == 0:
        return (0.0, 0.0)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(deltas), size=(resamples, len(deltas)))
    means = deltas[picks].mean(axis=1)
    return (float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5)))


def compare_rows(
    before: list[Row], after: list[Row], resamples: int = 2000
) -> dict[str, list[Difference]]:
    """Per split, one Difference per metric over the questions present in both runs."""
    after_by_key = {(r["config"], r["id"]): r for r in after}
    pairs = [
        (r, after_by_key[(r["config"], r["id"])])
        for r in before
        if (r["config"], r["id"]) in after_by_key
    ]
    out: dict[str, list[Difference]] = {}
    for split in sorted({b.get("split", "") for b, _ in pairs}):
        in_split = [(b, a) for b, a in pairs if b.get("split", "") == split]
        diffs: list[Difference] = []
        for name, (value, higher_is_better) in METRICS.items():
            kept = [
                (b["id"], vb, va)
                for b, a in in_split
                if (vb := value(b)) is not None and (va := value(a)) is not None
            ]
            if not kept:
                continue
            was = np.array([x[1] for x in kept], dtype=float)
            now = np.array([x[2] for x in kept], dtype=float)
            deltas = now - was
            good = deltas > 0 if higher_is_better else deltas < 0
            bad = deltas < 0 if higher_is_better else deltas > 0
            low, high = bootstrap_interval(deltas, resamples)
            diffs.append(
                Difference(
                    metric=name,
                    n=len(kept),
                    before=float(was.mean()),
                    after=float(now.mean()),
                    low=low,
                    high=high,
                    better=int(good.sum()),
                    worse=int(bad.sum()),
                    p_value=sign_test(int(good.sum()), int(bad.sum())),
                    changed=tuple(
                        x[0] for x, moved in zip(kept, deltas != 0, strict=True) if moved
                    ),
                )
            )
        out[split] = diffs
    return out


def read_rows(path: Path) -> list[Row]:
    """The per-question rows of a run folder (its questions.jsonl) or of the file itself."""
    file = path / "questions.jsonl" if path.is_dir() else path
    if not file.is_file():
        raise ValueError(
            f"{path} is not a run of `python -m evals` (no questions.jsonl there): give the "
            "run folder printed after 'report:' or its questions.jsonl"
        )
    rows = []
    for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as e:
            raise ValueError(f"{file}:{number}: not a JSON line ({e.msg})") from e
    return rows


def _fmt(x: float, metric: str) -> str:
    return f"{x:.1f}" if metric == "words" else f"{x:.3f}"


def render(
    diffs: dict[str, list[Difference]],
    questions: dict[str, str],
    list_test: bool = False,
) -> str:
    lines: list[str] = []
    for split, rows in diffs.items():
        lines += [
            f"## {split or 'all'}",
            "",
            "| metric | n | before | after | Δ | 95% interval | better | worse | p | verdict |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for d in rows:
            lines.append(
                f"| {d.metric} | {d.n} | {_fmt(d.before, d.metric)} | {_fmt(d.after, d.metric)} "
                f"| {d.delta:+.3f} | [{d.low:+.3f}, {d.high:+.3f}] | {d.better} | {d.worse} "
                f"| {d.p_value:.2f} | {d.verdict} |"
            )
        changed = sorted({q for d in rows if d.metric != "words" for q in d.changed})
        lines.append("")
        if split == "test" and not list_test:
            lines.append(f"{len(changed)} test questions changed (ids hidden: --list-test).")
        else:
            lines.append(f"{len(changed)} questions changed:")
            lines += [f"- {q}: {questions.get(q, '')[:100]}" for q in changed]
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m evals compare",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("before", type=Path, help="run folder (or questions.jsonl) before")
    parser.add_argument("after", type=Path, help="run folder (or questions.jsonl) after")
    parser.add_argument("--config", help="compare only this configuration (default: all)")
    parser.add_argument(
        "--configs",
        help="BEFORE_CONFIG,AFTER_CONFIG: pair this config of BEFORE with that one of AFTER "
        "(e.g. baseline,shipped on one run)",
    )
    parser.add_argument("--split", help="compare only this split (dev or test)")
    parser.add_argument("--kind", help="compare only questions of this kind (e.g. real)")
    parser.add_argument("--list-test", action="store_true", help="list changed test questions")
    parser.add_argument("--resamples", type=int, default=2000, help="bootstrap resamples")
    args = parser.parse_args(argv)
    try:
        before, after = read_rows(args.before), read_rows(args.after)
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    def keep(rows: list[Row]) -> list[Row]:
        return [
            r
            for r in rows
            if (not args.config or r["config"] == args.config)
            and (not args.split or r.get("split") == args.split)
            and (not args.kind or r.get("kind") == args.kind)
        ]

    if args.configs:
        names = args.configs.split(",")
        if len(names) != 2:
            print("error: --configs takes two names: BEFORE_CONFIG,AFTER_CONFIG", file=sys.stderr)
            return 2
        pair = " vs ".join(names)
        before = [{**r, "config": pair} for r in before if r["config"] == names[0]]
        after = [{**r, "config": pair} for r in after if r["config"] == names[1]]
    before, after = keep(before), keep(after)
    diffs = compare_rows(before, after, args.resamples)
    if not diffs:
        print(
            "error: the two runs share no question (same config and id): check --config and "
            "--split, or that both runs used the same gold set",
            file=sys.stderr,
        )
        return 2
    unpaired = len(
        {(r["config"], r["id"]) for r in before} ^ {(r["config"], r["id"]) for r in after}
    )
    if unpaired:
        print(f"note: {unpaired} questions are in only one of the runs and were left out\n")
    print(render(diffs, {r["id"]: r.get("question", "") for r in before}, args.list_test))
    return 0


if __name__ == "__main__":
    sys.exit(main())
