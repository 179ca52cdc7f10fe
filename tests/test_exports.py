"""Copy and export (Markdown, DOCX), feedback in SQLite, and trainer packs."""

from __future__ import annotations

import sqlite3
import sys

import pytest
from servers import profile_for, run_isolated

from assistant.export import answer_markdown, conversation_markdown, plain_markers, write_docx
from assistant.feedback import REASONS, FeedbackStore, settings_version
from assistant.pack import BLANK, _blank
from assistant.settings import load_settings
from assistant.types import Answer, Source


def _answer(question="What qualification must a new SENCO hold?", status="answered") -> Answer:
    source = Source(
        1,
        "send-regulations-2014.md",
        "The Special Educational Needs and Disability Regulations 2014",
        "PART 3 — Duties on schools > reg.49",
        "(4) ... that person holds the qualification ...",
        0.9,
        jurisdiction="England",
        doc_type="legislation",
        highlights=("(4) ... that person holds the qualification ...",),
        pinpoint="reg.49(4)",
        cite="SEND Regulations 2014 reg.49(4)",
        forces=("duty",),
    )
    return Answer(question, "(4) ... that person holds the qualification ... [1]", [source], status)


def test_an_answer_in_markdown_writes_each_source_out_with_its_pinpoint_and_country():
    md = answer_markdown(_answer())
    assert md.startswith("## What qualification must a new SENCO hold?")
    assert "- [1] SEND Regulations 2014 reg.49(4)" in md
    assert "England — legislation" in md
    assert "> (4) ... that person holds the qualification ... (legal duty)" in md


def test_copied_links_become_plain_markers():
    assert plain_markers("holds it [[1]](#src-3-1) and [[2]](#src-3-2)") == "holds it [1] and [2]"


def test_a_refused_answer_says_so_and_calls_its_passages_nearest():
    md = answer_markdown(_answer(status="not_found"))
    assert "Not found in the documents." in md and "Nearest passages" in md


def test_a_conversation_exports_to_docx_that_reads_back_with_its_sources(tmp_path):
    from docx import Document

    answers = [_answer(), _answer("And in Wales?", "not_found")]
    path = write_docx(answers, tmp_path / "c.docx", "Conversation")
    text = "\n".join(p.text for p in Document(str(path)).paragraphs)
    assert "What qualification must a new SENCO hold?" in text and "And in Wales?" in text
    assert "SEND Regulations 2014 reg.49(4)" in text
    assert conversation_markdown(answers, "Conversation").count("### ") == 2


def test_feedback_is_stored_with_its_reason_and_nothing_else(tmp_path):
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    row = store.record(_answer(), liked=False, version="abc123")
    store.annotate(row, "wrong country", "x" * 5000)
    (rating,) = store.ratings()
    assert rating.rating == "down" and rating.reason == "wrong country"
    assert len(rating.comment) == store.max_comment_chars
    assert rating.citations[0]["cite"] == "SEND Regulations 2014 reg.49(4)"
    with sqlite3.connect(tmp_path / "fb.sqlite3") as db:
        columns = [c[1] for c in db.execute("PRAGMA table_info(feedback)")]
    assert columns == [
        "id",
        "created",
        "question",
        "answer",
        "status",
        "citations",
        "rating",
        "reason",
        "comment",
        "settings_version",
    ]


def test_an_unknown_feedback_reason_is_refused_with_the_choices(tmp_path):
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    row = store.record(_answer(), liked=True, version="v")
    with pytest.raises(ValueError, match=REASONS[0]):
        store.annotate(row, "because", "")


def test_the_settings_version_changes_when_a_setting_does():
    a = settings_version(load_settings())
    b = settings_version(load_settings(retrieval={"top_k": 3}))
    assert a != b and len(a) == 12


def test_a_quiz_blanks_a_time_limit_first_then_the_word_that_gives_legal_force():
    gap, word = _blank("The plan must be issued within 20 weeks of the request.", len, set())
    assert word == "20 weeks" and BLANK in gap and "must" in gap
    gap, word = _blank("Schools should tell parents when they make provision.", len, set())
    assert word == "should"


def test_the_feedback_export_turns_ratings_into_candidate_gold_entries(tmp_path):
    import yaml

    from evals.feedback import main

    path = tmp_path / "fb.sqlite3"
    store = FeedbackStore(path)
    store.annotate(store.record(_answer(), liked=False, version="v"), "did not answer", "")
    out = tmp_path / "c.yaml"
    assert main(["--db", str(path), "--out", str(out)]) == 0
    (entry,) = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert entry["question"] == "What qualification must a new SENCO hold?"
    assert entry["review"]["reason"] == "did not answer" and entry["key_facts"] == []
    assert entry["candidate_evidence"][0]["doc"] == "send-regulations-2014.md"


def test_the_feedback_export_without_a_file_says_what_to_do(tmp_path, capsys):
    from evals.feedback import main

    assert main(["--db", str(tmp_path / "none.sqlite3")]) == 2
    assert "rate an answer in the app first" in capsys.readouterr().err


@pytest.mark.slow
def test_the_pack_command_writes_a_docx_whose_points_are_all_cited(real_settings, tmp_path):
    from docx import Document

    out = tmp_path / "pack.docx"
    profile = profile_for(real_settings, tmp_path / "profile.yaml")
    done = run_isolated(
        [
            sys.executable,
            "-m",
            "assistant",
            "pack",
            "annual review of an EHC plan",
            "--out",
            str(out),
            "--settings",
            profile,
        ]
    )
    assert done.returncode == 0, done.stderr[-2000:]
    paragraphs = [p for p in Document(str(out)).paragraphs]
    text = "\n".join(p.text for p in paragraphs)
    for heading in (
        "What the law requires",
        "Key points from guidance",
        "Case study",
        "Discussion prompts",
        "Quiz",
    ):
        assert heading in text
    quiz = text.split("Quiz", 1)[1]
    assert quiz.count("Answer:") >= 1 and BLANK in quiz and "SEND Code of Practice" in quiz


@pytest.mark.slow
def test_the_pack_command_refuses_an_empty_topic(real_settings, tmp_path):
    profile = profile_for(real_settings, tmp_path / "profile.yaml")
    done = run_isolated([sys.executable, "-m", "assistant", "pack", "  ", "--settings", profile])
    assert done.returncode == 2 and "Give a topic" in done.stderr
