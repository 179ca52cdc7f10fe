"""Per-question values of the headline metrics, shared by the report (``runner.summarize``
averages them) and the paired comparison (``compare`` pairs them question by question).

Each function takes one eval row and returns a value, or None where the metric does not
apply (an unanswerable question has no Recall@5; an answerable one is not scored for refusal).
A leaf module (no LlamaIndex or Chroma import): ``evals.compare`` uses it without them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Row = dict[str, Any]
Value = Callable[[Row], float | None]


def retrieval_scored(row: Row) -> bool:
    """Whether the row records retrieval (rows scored from another system's answers do not)."""
    return row.get("first_hit_rank") is not None or bool(row.get("retrieved"))


def recall_at(k: int) -> Value:
    """1 when an answerable question's gold passage is in the top k retrieved, else 0."""

    def value(row: Row) -> float | None:
        if not row["answerable"]:
            return None
        rank = row.get("first_hit_rank")
        return 1.0 if rank and rank <= k else 0.0

    return value


def reciprocal_rank(row: Row) -> float | None:
    """1 / the gold passage's rank within the top 10 (0 outside it), answerable questions."""
    if not row["answerable"]:
        return None
    rank = row.get("first_hit_rank")
    return 1.0 / rank if rank and rank <= 10 else 0.0


def cited(row: Row) -> float | None:
    """Answered with the gold passage among the cited ones."""
    return (1.0 if row.get("cited_gold") else 0.0) if row["answerable"] else None


def answered(row: Row) -> float | None:
    """An answerable question not refused."""
    return (0.0 if row["refused"] else 1.0) if row["answerable"] else None


def refused(row: Row) -> float | None:
    """An unanswerable question refused."""
    return None if row["answerable"] else (1.0 if row["refused"] else 0.0)


def key_facts(row: Row) -> float | None:
    """The share of the question's key facts found in the answer."""
    return row.get("key_fact_coverage") if row["answerable"] else None


def words(row: Row) -> float | None:
    """The length of an answer given (refusals have none)."""
    return None if row["refused"] else float(row["words"])
