"""The gold set is valid, and the eval runner scores questions end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.gold import Evidence, GoldQuestion, load_gold, validate

ROOT = Path(__file__).resolve().parents[1]


def test_every_gold_quote_exists_in_its_document_and_ids_are_unique():
    from evals.gold import load_splits

    gold = load_splits("dev,test")
    assert len(gold) >= 30
    assert validate(gold, ROOT / "corpus") == []
    unanswerable = [q for q in gold if not q.answerable]
    assert len(unanswerable) >= 0.2 * len(gold)


def test_the_validator_catches_a_quote_that_is_not_in_the_document():
    bad = [
        GoldQuestion(
            "x1",
            "Q?",
            "practitioner",
            "fact",
            True,
            (Evidence("step-early-years-cambridgeshire.txt", "words that are not there"),),
            ("6 hours",),
        ),
        GoldQuestion("x1", "Q?", "nobody", "fact", True, (), ()),
    ]
    problems = "\n".join(validate(bad, ROOT / "corpus"))
    assert "quote not found" in problems
    assert "duplicate id" in problems
    assert "persona 'nobody'" in problems
    assert "no evidence" in problems


def test_quotes_match_ignoring_whitespace_and_case():
    q = GoldQuestion(
        "x",
        "Q?",
        "alnco",
        "fact",
        True,
        (Evidence("d", "The  governing body\nmust designate"),),
        ("x",),
    )
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
    assert metrics["lost"]["cited"] == 1.0  # both answerable ones answered with gold cited
    assert [r["loss"] for r in rows if not r["answerable"]] == [None]


def test_each_answerable_question_is_put_at_the_first_stage_that_lost_it():
    from evals.runner import loss_stage

    sec = {"code > 9 EHC plans"}
    assert loss_stage(2, False, True, sec, ["code > 9 EHC plans"]) == "cited"
    assert loss_stage(3, False, False, sec, ["act > s.36"]) == "not_cited"
    assert loss_stage(5, True, False, sec, []) == "refused"
    # the gold chunk is missed but a chunk of its section is retrieved: a sibling
    assert loss_stage(None, False, False, sec, ["act > s.36", "code > 9 EHC plans"]) == "sibling"
    assert loss_stage(8, True, False, sec, ["act > s.36"]) == "ranked_6_10"
    assert loss_stage(None, True, False, sec, ["act > s.36"]) == "not_retrieved"
    assert loss_stage(None, False, False, set(), []) == "not_retrieved"


@pytest.mark.slow
def test_the_shipped_configuration_stays_above_the_floors_on_the_held_out_split(real_settings):
    """The quality gate: the held-out test split on the shipped settings vs thresholds.yaml,
    and no answer to any gold question (dev too) shows a list item without its lead-in."""
    from evals.gold import load_splits
    from evals.report import check_thresholds
    from evals.runner import make_configs, run_config, summarize

    (config,) = make_configs(["shipped"], real_settings)
    metrics = {
        f"shipped@{split}": summarize(run_config(config, load_splits(split), progress=False))
        for split in ("test", "dev")
    }
    failures = check_thresholds(metrics)
    assert failures == [], failures


@pytest.mark.slow
@pytest.mark.parametrize("typing", ["lower", "slip"])
def test_questions_typed_in_lower_case_or_with_a_slip_stay_above_the_floors(real_settings, typing):
    """Robustness: the held-out split typed as quick typing leaves it (all lower case, or
    one pair of letters swapped) still clears the quality floors of thresholds.yaml."""
    from evals.gold import as_typed, load_splits
    from evals.report import check_thresholds
    from evals.runner import make_configs, run_config, summarize

    (config,) = make_configs(["shipped"], real_settings)
    gold = [as_typed(q, typing) for q in load_splits("test")]
    assert any(q.question != p.question for q, p in zip(gold, load_splits("test"), strict=True))
    metrics = {"shipped@test": summarize(run_config(config, gold, progress=False))}
    assert check_thresholds(metrics) == []


def test_a_slip_swaps_two_different_letters_of_the_longest_word():
    from evals.gold import with_a_slip

    assert with_a_slip("How long does an EHC needs assessment take?") == (
        "How long does an EHC needs asssesment take?"
    )
    assert with_a_slip("What is an IDP?") == "What is an IDP?"  # no word of six letters


def test_an_answers_file_from_another_system_can_be_scored(tmp_path):
    import json

    from evals.runner import score_answers_file, summarize

    gold = [q for q in load_gold() if q.id in {"q001", "u004"}]
    lines = [
        {
            "id": "q001",
            "answer": "STEP training requires attendance for 6 hours. [1]",
            "refused": False,
            "citations": [{"n": 1, "text": "STEP training requires attendance for 6 hours and so"}],
            "timings_ms": {"total": 12},
        },
        {
            "id": "u004",
            "answer": "Canberra. [1]",
            "refused": False,
            "citations": [{"n": 1, "text": "Something unrelated"}],
            "timings_ms": {"total": 9},
        },
    ]
    path = tmp_path / "other.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines))
    metrics = summarize(score_answers_file(path, gold))
    assert metrics["cited"] == 1.0 and metrics["key_facts"] == 1.0
    assert metrics["refused_when_unanswerable"] == 0.0
    assert metrics["citation_support"] == 0.5  # "Canberra" is not in its cited passage


def test_every_configuration_builds_with_an_llm_backend(tmp_path, small_corpus, settings_factory):
    """`python -m evals --llm openai-compatible ...` without --config used to crash: the
    baseline was built without the LLM settings."""
    from evals.runner import make_configs
    from ingest.pipeline import run_ingest

    settings = settings_factory(
        tmp_path,
        small_corpus,
        answer={"backend": "openai-compatible"},
        llm={"url": "http://127.0.0.1:9/v1"},  # never contacted while building
    )
    run_ingest(settings, progress=False)
    configs = make_configs(["baseline", "dense", "shipped"], settings)
    assert [c.name for c in configs] == ["baseline", "dense", "shipped"]


def test_the_gate_fails_a_metric_below_its_floor_or_above_its_ceiling(tmp_path):
    from evals.report import check_thresholds

    limits = tmp_path / "thresholds.yaml"
    limits.write_text("shipped@test:\n  cited: 0.5\n  answers_with_bare_items: {max: 0}\n")
    good = {"shipped@test": {"cited": 0.6, "answers_with_bare_items": 0}}
    assert check_thresholds(good, limits) == []
    bad = {"shipped@test": {"cited": 0.4, "answers_with_bare_items": 2}}
    failures = check_thresholds(bad, limits)
    assert len(failures) == 2
    assert "below its floor 0.5" in failures[0] and "above its ceiling 0" in failures[1]


def test_a_key_fact_in_numerals_is_found_where_the_answer_spells_the_number():
    # the Regulations write '6 weeks', the Code 'six weeks': either answer states the fact
    from evals.gold import fact_form, states_fact

    assert states_fact("6 weeks", fact_form("within a maximum of Six weeks from the request"))
    assert states_fact("15 days", fact_form("give them at least fifteen days"))
    assert fact_form("one-off") == "one-off"  # a word that only starts with a number stays
    assert not states_fact("6 weeks", fact_form("within sixteen weeks"))
    assert states_fact("appeal", fact_form("rights of appeals"))
