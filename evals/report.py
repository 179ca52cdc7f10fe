"""The report of one evaluation run: tables, the weakest question kinds, and plots."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

HEADLINE = [
    "recall@1",
    "recall@5",
    "mrr@10",
    "ndcg@10",
    "cited",
    "citation_precision",
    "citation_support",
    "answered_when_answerable",
    "refused_when_unanswerable",
    "key_facts",
    "median_words",
    "status_partial",
    "partial_right",
    "answers_with_bare_items",
    "p50_ms",
    "p95_ms",
    "generated_dropped",
    "llm_fallback",
]
THRESHOLDS = Path(__file__).with_name("thresholds.yaml")


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}" if value <= 1.0 else f"{value:.0f}"
    return str(value)


def table(
    metrics: dict[str, dict[str, Any]], columns: list[str] = HEADLINE, first: str = "config"
) -> str:
    lines = [f"| {first} | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for name, m in metrics.items():
        lines.append(f"| {name} | " + " | ".join(_fmt(m.get(c)) for c in columns) + " |")
    return "\n".join(lines)


def check_thresholds(metrics: dict[str, dict[str, Any]], path: Path = THRESHOLDS) -> list[str]:
    """Metrics below their floor (or above a ``{max: N}`` ceiling), as readable lines (empty
    when all pass)."""
    floors = yaml.safe_load(path.read_text()) or {}
    failures = []
    for config, limits in floors.items():
        if config not in metrics:
            continue
        for metric, limit in limits.items():
            value = metrics[config].get(metric)
            if isinstance(limit, dict):
                if value is None or value > limit["max"]:
                    failures.append(
                        f"{config}: {metric} = {_fmt(value)} is above its ceiling {limit['max']}"
                    )
            elif value is None or value < limit:
                failures.append(f"{config}: {metric} = {_fmt(value)} is below its floor {limit}")
    return failures


def weakest_kinds(rows: list[dict[str, Any]], by_kind: dict[str, dict[str, Any]], n: int = 3):
    """The n kinds with the lowest success (cited for answerable kinds, refused otherwise),
    each with one failing question."""
    scored = []
    for kind, m in by_kind.items():
        success = m["cited"] if m["answerable"] else m["refused_when_unanswerable"]
        if success is not None:
            scored.append((success, kind))
    out = []
    for success, kind in sorted(scored)[:n]:
        failures = [
            r
            for r in rows
            if r["kind"] == kind
            and (
                (r["answerable"] and not r.get("cited_gold"))
                or (not r["answerable"] and not r["refused"])
            )
        ]
        out.append((kind, success, failures[0] if failures else None))
    return out


def write_plots(
    out: Path,
    metrics: dict[str, dict[str, Any]],
    by_kind: dict[str, dict[str, Any]],
    ks: tuple[int, ...],
    focus: str,
) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, m in metrics.items():
        ys = [m.get(f"recall@{k}") for k in ks]
        if all(y is not None for y in ys):
            ax.plot(ks, ys, marker="o", label=name)
    ax.set_xlabel("k (passages retrieved)")
    ax.set_ylabel("Recall@k (gold quote in a passage)")
    ax.set_ylim(0, 1.02)
    ax.set_xticks(list(ks))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("Recall@k per configuration")
    fig.tight_layout()
    fig.savefig(out / "recall_at_k.png", dpi=110)
    plt.close(fig)
    written.append("recall_at_k.png")

    kinds = list(by_kind)
    values = [
        by_kind[k]["cited"] if by_kind[k]["answerable"] else by_kind[k]["refused_when_unanswerable"]
        for k in kinds
    ]
    facts = [by_kind[k]["key_facts"] if by_kind[k]["answerable"] else None for k in kinds]
    fig, ax = plt.subplots(figsize=(8, 4))
    xs = range(len(kinds))
    ax.bar(
        [x - 0.2 for x in xs],
        [v or 0 for v in values],
        width=0.4,
        label="cited gold (answerable) / refused (unanswerable)",
    )
    ax.bar([x + 0.2 for x in xs], [f or 0 for f in facts], width=0.4, label="key facts")
    ax.set_xticks(list(xs))
    ax.set_xticklabels([f"{k}\n(n={by_kind[k]['questions']})" for k in kinds], fontsize=7)
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=7)
    ax.set_title(f"{focus}: success by question kind")
    fig.tight_layout()
    fig.savefig(out / "by_kind.png", dpi=110)
    plt.close(fig)
    written.append("by_kind.png")
    return written


def write_report(
    out: Path,
    metrics: dict,
    rows: list[dict],
    by_persona: dict,
    by_kind: dict,
    focus: str,
    ks: tuple[int, ...],
    notes: dict[str, Any],
) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(
        json.dumps(
            {
                "configs": metrics,
                "by_persona": {focus: by_persona},
                "by_kind": {focus: by_kind},
                "notes": notes,
            },
            indent=2,
        )
    )
    with (out / "questions.jsonl").open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    plots = write_plots(out, metrics, by_kind, ks, focus) if by_kind else []
    focus_rows = [r for r in rows if r["config"] == focus]
    lines = [
        f"# Evaluation {out.name}",
        "",
        f"{notes.get('questions')} gold questions; index: {notes.get('index')}; "
        f"ingest {notes.get('ingest_seconds', '-')} s.",
        "",
        "## All configurations",
        "",
        table(metrics),
        "",
        "`@test` rows are the held-out split (never tuned on; gated), `@dev` the split tuned "
        "on. Recall@k, MRR and nDCG: a passage counts when it holds a gold quote. `cited` "
        "(answered with gold cited): answerable questions that were answered AND whose cited "
        "passages hold the gold evidence. "
        "`citation_precision`: cited passages that hold gold evidence. `citation_support`: "
        "answer sentences whose cited passage holds at least 80% of their content words "
        "(lexical; see evals/runner.py for its limits). Latency is warm, one run.",
        "",
    ]
    staged = {name: m["lost"] for name, m in metrics.items() if m.get("lost")}
    if staged:
        from evals.runner import LOSS_STAGES

        lines += [
            "## Where answerable questions are lost",
            "",
            "Each answerable question in one column: what went right, or the first stage "
            "that went wrong (shares of the answerable questions).",
            "",
            table(staged, columns=list(LOSS_STAGES)),
            "",
            *[f"- `{key}`: {text}" for key, text in LOSS_STAGES.items()],
            "",
        ]
    for split, by_type in (notes.get("by_split_and_doc_type") or {}).items():
        lines += [
            f"## {focus} by document type of the gold evidence ({split})",
            "",
            table(by_type, first="doc type"),
            "",
        ]
    if by_persona:
        lines += [
            f"## {focus} by persona",
            "",
            table(by_persona, first="persona"),
            "",
            f"## {focus} by question kind",
            "",
            table(by_kind, first="kind"),
            "",
            "## Weakest kinds",
            "",
        ]
        for kind, success, example in weakest_kinds(focus_rows, by_kind):
            lines.append(f"- **{kind}** ({success:.2f})")
            if example:
                cites = "; ".join(f"[{c['n']}] {c['section'][-60:]}" for c in example["citations"])
                lines.append(f"  - {example['id']}: {example['question']}")
                lines.append(f"  - answer: {example['answer'][:200]!r}; cites: {cites or '-'}")
    lines += ["", *[f"![{p}]({p})" for p in plots], ""]
    report = out / "report.md"
    report.write_text("\n".join(lines), encoding="utf-8")
    return report
