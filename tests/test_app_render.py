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
    assert body.startswith("**Not found in the documents.**") and "SNAP Cymru" in body
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


def test_legislation_items_show_as_lines_without_list_bullets():
    text = "- (4) A local authority may— [1]\n- (a) do one thing, [1]\n- (b) do another. [1]"
    passage = "- (4) A local authority may—\n- (a) do one thing,\n- (b) do another."
    source = Source(1, "d", "Act", "s.1", passage, 0.5, highlights=("(a) do one thing,",))
    body, panel = app.render(Answer("q", text, [source], "answered"))
    assert not any(line.startswith("- ") for line in body.splitlines())
    assert body.splitlines()[0].startswith("(4) A local authority may")
    assert "- (" not in panel and "<mark>(a) do one thing,</mark>" in panel


def test_each_answer_links_to_its_own_cards_and_the_panel_keeps_every_answer():
    source = Source(1, "d", "Doc", "Sec", "text", 0.5)
    first = Answer("first?", "One. [1]", [source], "answered")
    second = Answer("second?", "Two. [1]", [source], "answered")
    body, _ = app.render(second, 2)
    assert "(#src-2-1)" in body
    panel = app.panel_html([first, second])
    assert panel.index('id="turn-2"') < panel.index('id="turn-1"')  # newest first
    assert 'id="src-1-1"' in panel and 'id="src-2-1"' in panel


def test_the_like_event_finds_the_answer_of_the_rated_message():
    a, b = Answer("a?", "A", [], "answered"), Answer("b?", "B", [], "answered")
    history = [
        {"role": "user", "content": "a?"},
        {"role": "assistant", "content": "A"},
        {"role": "assistant", "content": app.EMPTY_QUESTION},
        {"role": "user", "content": "b?"},
        {"role": "assistant", "content": "B"},
    ]
    assert app.answer_of_message(history, 1, [a, b]) is a
    assert app.answer_of_message(history, 4, [a, b]) is b
    assert app.answer_of_message(history, 2, [a, b]) is None  # the empty-question note
    assert app.answer_of_message(history, 99, [a, b]) is None


def test_each_quoted_sentence_shows_its_legal_force_after_its_marker():
    source = Source(
        1,
        "a",
        "Act",
        "s.60",
        "(1) The body must designate a co-ordinator.\n(2) It may pay.",
        0.5,
        highlights=("(1) The body must designate a co-ordinator.", "(2) It may pay."),
        forces=("duty", "power"),
    )
    text = "(1) The body must designate a co-ordinator. [1]\n(2) It may pay. [1]"
    body, _ = app.render(Answer("q", text, [source], "answered"))
    first, second = body.splitlines()[:2]
    assert first.endswith("(#src-1-1) <sub>duty</sub>")
    assert second.endswith("(#src-1-1) <sub>power</sub>")


def test_a_brace_in_document_text_is_never_turned_into_a_label():
    source = Source(
        1, "a", "Doc", "s", "x", 0.5, highlights=("Use {curly} text.",), forces=("practice",)
    )
    body, _ = app.render(Answer("q", "Use {curly} text. [1]", [source], "answered"))
    assert "<sub>curly</sub>" not in body and "<sub>practice</sub>" in body
