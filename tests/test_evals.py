"""The gold set is valid, and the eval runner scores questions end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.gold import Evidence, GoldQuestion, load_gold, validate

ROOT = Path(__file__).resolve().parents[1]


def test_every_gold_quote_exists_in_its_document_and_ids_are_unique():
    gold = load_gold()
    assert len(gold) >= 30
    assert validate(gold, ROOT / "corpus") == []
    unanswerable = [q for q in gold if not q.answerable]
    assert len(unanswerable) >= 0.2 * len(gold)


def test_the_validator_catches_a_quote_that_is_not_in_the_document():
    bad = [
        GoldQuestion("x1", "Q?", "practitioner", "fact", True,
                     (Evidence("step-early-years-cambridgeshire.txt", "words that are not there"),),
                     ("6 hours",)),
        GoldQuestion("x1", "Q?", "nobody", "fact", True, (), ()),
    ]
    problems = "\n".join(validate(bad, ROOT / "corpus"))
    assert "quote not found" in problems
    assert "duplicate id" in problems
    assert "persona 'nobody'" in problems
    assert "no evidence" in problems


def test_quotes_match_ignoring_whitespace_and_case():
    q = GoldQuestion("x", "Q?", "alnco", "fact", True,
                     (Evidence("d", "The  governing body\nmust designate"),), ("x",))
    assert q.evidence_in("the governing body must   designate a person")


@pytest.mark.slow
def test_the_runner_scores_a_few_questions(real_settings):
    from evals.runner import make_configs, run_config, summarize

    gold = [q for q in load_gold() if q.id in {"q001", "q008", "u004"}]
    (config,) = make_configs(["shipped"], real_settings)
    rows = run_config(config, gold, progress=False)
    metrics = summarize(rows)
    assert metrics["questions"] == 3
    assert metrics["cited"] == 1.0
    assert metrics["refused_when_unanswerable"] == 1.0
    assert rows[0]["first_hit_rank"] is not None
