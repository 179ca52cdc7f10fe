"""How the app turns answers and chat history into what the browser shows (fast)."""

from __future__ import annotations

import app
from assistant.types import Answer, Source


def test_follow_ups_read_the_plain_text_of_earlier_questions_in_any_message_format():
    history = [
        {"role": "user", "content": [{"type": "text", "text": "Who must designate an ALNCo?"}]},
        {"role": "assistant", "content": "The governing body. [1]"},
        {"role": "user", "content": {"type": "text", "text": "And in a nursery?"}},
        {"role": "user", "content": "plain string"},
    ]
    assert app._past_questions(history) == [
        "Who must designate an ALNCo?",
        "And in a nursery?",
        "plain string",
    ]


def test_document_text_is_shown_as_text_never_as_markup_or_links():
    source = Source(1, "d", "Doc", "Sec", "text", 0.5)
    answer = Answer(
        "q", "See ![x](http://evil.test/a.png) and <img src=x> here. [1]", [source], "answered"
    )
    body, _ = app.render(answer)
    assert "](http" not in body and "<img" not in body.replace("\\<img", "")  # escaped: text
    assert "[[1]](#src-1-1)" in body


def test_a_partial_or_refused_answer_shows_its_status_and_where_to_get_advice():
    answer = Answer(
        "q",
        "I couldn't find this in the guidance documents.",
        [],
        "not_found",
        advice="Where to get advice (not from the documents): SNAP Cymru.",
    )
    body, panel = app.render(answer)
    assert body.startswith("**Not found**") and "SNAP Cymru" in body
    assert "No passages" in panel


def test_the_question_words_are_highlighted_in_the_cited_passage():
    source = Source(
        1,
        "d",
        "Doc",
        "Sec",
        "The governing body must designate a person.",
        0.5,
        highlights=("The governing body must designate a person.",),
    )
    answer = Answer(
        "Who must designate an ALNCo?",
        "The governing body must designate a person. [1]",
        [source],
        "answered",
    )
    _, panel = app.render(answer)
    assert "<mark>" in panel and "<b>designate</b>" in panel


def test_markdown_emphasis_in_the_acts_is_not_shown_as_asterisks():
    text = "In this section “*independent advocacy services*” means advice. [1]"
    source = Source(1, "d", "Doc", "Sec", text[:-4], 0.5, highlights=(text[:-4],))
    body, panel = app.render(Answer("What are advocacy services?", text, [source], "answered"))
    assert "\\*" not in body  # no escaped asterisks left to show
    assert "“independent advocacy services”" in body
    assert "*" not in panel
