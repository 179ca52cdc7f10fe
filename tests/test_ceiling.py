"""The answerer's ceiling: the gold passage handed to it first, as if retrieval were perfect."""

from __future__ import annotations

import pytest

from evals.ceiling import CeilingRow, report, summarize
from evals.gold import load_gold


def _row(
    i: int, split: str, real: bool, shipped: bool, first: bool, refused: bool, facts: bool = False
) -> CeilingRow:
    return CeilingRow(f"x{i}", split, real, True, shipped, first, refused, facts)


def test_the_ceiling_shares_add_up_and_real_questions_are_reported_apart():
    rows = [
        _row(1, "dev", True, False, True, False),
        _row(2, "dev", True, False, False, True),
        _row(3, "dev", False, True, True, False),
        _row(4, "dev", False, False, False, False, facts=True),
        _row(5, "test", True, True, True, False),
    ]
    out = report(rows)
    assert list(out) == [
        "test",
        "test, real questions",
        "test, written questions",
        "dev",
        "dev, real questions",
        "dev, written questions",
    ]
    dev = out["dev"]
    assert dev["questions"] == 4
    assert (dev["cited_shipped"], dev["cited_gold_first"]) == (0.25, 0.5)
    assert (
        dev["cited_gold_first"]
        + dev["refused_gold_first"]
        + dev["quoted_other_passages_gold_first"]
        == 1.0
    )
    assert dev["other_passages_every_key_fact_gold_first"] == 0.25  # x4: facts, not the gold
    assert out["dev, real questions"]["cited_gold_first"] == 0.5
    assert summarize([]) == {"questions": 0}


@pytest.mark.slow
def test_a_gold_passage_handed_to_the_answerer_first_is_quoted(real_settings):
    from evals.ceiling import ceiling_row
    from evals.runner import make_configs

    # Wales: charging for ALP (ALN Act s.49). At stop 30 the shipped answer quotes other
    # passages although the gold ranks third; handed to the answerer first, it is quoted
    (q,) = [q for q in load_gold() if q.id == "q041"]
    (config,) = make_configs(["shipped"], real_settings)
    row = ceiling_row(config, q)
    assert row.gold_found
    assert row.gold_first_cited and not row.gold_first_refused
