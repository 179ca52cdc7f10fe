"""`python -m evals compare`: a paired comparison of two eval runs that says whether a change
is more than chance, and keeps test questions out of sight unless asked."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from evals.compare import bootstrap_interval, compare_rows, main, sign_test


def _row(
    qid: str,
    split: str,
    cited: bool,
    rank: int | None = 1,
    answerable: bool = True,
    refused: bool = False,
    words: int = 50,
    kind: str = "fact",
) -> dict:
    return {
        "id": qid,
        "config": "shipped",
        "split": split,
        "kind": kind,
        "question": f"question {qid}?",
        "answerable": answerable,
        "first_hit_rank": rank if answerable else None,
        "cited_gold": cited if answerable else None,
        "refused": refused,
        "words": 0 if refused else words,
        "key_fact_coverage": 1.0 if cited else 0.0,
    }


def _write(folder: Path, rows: list[dict]) -> Path:
    folder.mkdir(parents=True)
    (folder / "questions.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return folder


def _metric(diffs, split, name):
    return next(d for d in diffs[split] if d.metric == name)


def test_identical_runs_differ_by_nothing_and_are_called_noise():
    rows = [_row(f"q{i}", "dev", cited=i % 2 == 0, rank=1 + i % 7) for i in range(40)]
    diffs = compare_rows(rows, [dict(r) for r in rows])
    for d in diffs["dev"]:
        assert d.delta == 0 and (d.low, d.high) == (0.0, 0.0)
        assert d.better == d.worse == 0 and d.p_value == 1.0 and d.verdict == "noise"


def test_a_change_that_gains_many_questions_is_better_and_one_question_is_noise():
    before = [_row(f"q{i}", "dev", cited=False, rank=8) for i in range(60)]
    many = [_row(f"q{i}", "dev", cited=i < 30, rank=1 if i < 30 else 8) for i in range(60)]
    one = [_row(f"q{i}", "dev", cited=i == 0, rank=8) for i in range(60)]
    cited = _metric(compare_rows(before, many), "dev", "cited")
    assert (cited.better, cited.worse) == (30, 0)
    assert cited.delta == 0.5 and cited.low > 0 and cited.verdict == "better"
    assert cited.p_value < 1e-6
    assert _metric(compare_rows(before, many), "dev", "recall@1").verdict == "better"
    single = _metric(compare_rows(before, one), "dev", "cited")
    assert (single.better, single.worse) == (1, 0) and single.verdict == "noise"


def test_longer_answers_count_as_worse_and_refusals_are_scored_on_unanswerable_questions():
    before = [_row(f"u{i}", "test", cited=False, answerable=False, refused=True) for i in range(30)]
    before += [_row(f"q{i}", "test", cited=True, words=100) for i in range(30)]
    after = [
        _row(f"u{i}", "test", cited=False, answerable=False, refused=i >= 20) for i in range(30)
    ]
    after += [_row(f"q{i}", "test", cited=True, words=160) for i in range(30)]
    diffs = compare_rows(before, after)
    refused = _metric(diffs, "test", "refused_when_unanswerable")
    assert refused.n == 30 and refused.worse == 20 and refused.verdict == "worse"
    words = _metric(diffs, "test", "words")
    assert words.n == 30 and words.delta == 60 and words.verdict == "worse"


def test_the_sign_test_and_the_bootstrap_give_the_textbook_values():
    assert sign_test(0, 0) == 1.0
    assert abs(sign_test(5, 0) - 0.0625) < 1e-12  # 2 * (1/2)^5
    assert abs(sign_test(9, 1) - 0.021484375) < 1e-12  # 2 * 11/1024
    low, high = bootstrap_interval(np.array([1.0] * 50 + [0.0] * 50))
    assert 0.38 < low < 0.5 < high < 0.62


def test_only_questions_in_both_runs_are_paired(tmp_path, capsys):
    before = _write(tmp_path / "a", [_row("q1", "dev", True), _row("q2", "dev", False)])
    after = _write(tmp_path / "b", [_row("q1", "dev", True), _row("q3", "dev", True)])
    from evals.__main__ import main as evals_main

    assert evals_main(["compare", str(before), str(after)]) == 0
    out = capsys.readouterr().out
    assert "2 questions are in only one of the runs" in out
    assert "| cited | 1 |" in out


def test_changed_test_questions_are_counted_not_shown_unless_asked(tmp_path, capsys):
    before = _write(
        tmp_path / "a",
        [_row(f"t{i}", "test", False, kind="real") for i in range(5)] + [_row("d1", "dev", False)],
    )
    after = _write(
        tmp_path / "b",
        [_row(f"t{i}", "test", i < 2, kind="real") for i in range(5)] + [_row("d1", "dev", True)],
    )
    assert main([str(before), str(after / "questions.jsonl")]) == 0
    out = capsys.readouterr().out
    assert "2 test questions changed (ids hidden" in out and "question t0?" not in out
    assert "- d1: question d1?" in out
    assert main([str(before), str(after), "--list-test", "--kind", "real"]) == 0
    out = capsys.readouterr().out
    assert "- t0: question t0?" in out and "## dev" not in out


def test_a_path_that_is_not_a_run_is_refused_with_what_to_give_instead(tmp_path, capsys):
    assert main([str(tmp_path), str(tmp_path)]) == 2
    assert "not a run of `python -m evals`" in capsys.readouterr().err
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n")
    assert main([str(bad), str(bad)]) == 2
    assert "bad.jsonl:1: not a JSON line" in capsys.readouterr().err


def test_two_configurations_of_one_run_can_be_compared(tmp_path, capsys):
    rows = [_row(f"q{i}", "dev", cited=False, rank=9) for i in range(20)]
    rows += [{**_row(f"q{i}", "dev", cited=True), "config": "baseline-x"} for i in range(20)]
    run = _write(tmp_path / "run", rows)
    assert main([str(run), str(run), "--configs", "shipped,baseline-x"]) == 0
    out = capsys.readouterr().out
    assert "| cited | 20 | 0.000 | 1.000 | +1.000 |" in out and "better |" in out
    assert main([str(run), str(run), "--configs", "shipped"]) == 2
    assert "--configs takes two names" in capsys.readouterr().err
