"""The app's answer function and the served page, on loopback."""

from __future__ import annotations

import threading

import pytest
from servers import free_port

pytestmark = pytest.mark.slow


def test_an_answer_links_its_markers_and_shows_highlighted_sources(real_assistant):
    import app

    history, panel, cleared, answers = app.respond(
        real_assistant, "What must practitioners complete after the Step-back course?", []
    )
    assert len(answers) == 1
    assert cleared == ""
    assert history[0] == {
        "role": "user",
        "content": "What must practitioners complete after the Step-back course?",
    }
    reply = history[1]["content"]
    assert "[[1]](#src-1-1)" in reply
    assert 'id="src-1-1"' in panel and "<mark>" in panel
    assert "Wales" in panel and "Practice guidance" in panel


def test_a_refusal_says_so_and_shows_the_nearest_passages(real_assistant):
    import app

    history, panel, _, _ = app.respond(real_assistant, "How do I bake a sourdough loaf?", [])
    assert "couldn't find this" in history[-1]["content"]
    assert "Nearest passages" in panel


def test_an_internal_error_becomes_a_friendly_message(real_assistant, monkeypatch):
    import app

    def boom(question, history=None, scope=None):
        raise RuntimeError("kaboom")
        yield  # a generator, like Assistant.stream

    monkeypatch.setattr(real_assistant, "stream", boom)
    history, panel, _, _ = app.respond(real_assistant, "anything", [])
    assert "something went wrong" in history[-1]["content"]
    assert "kaboom" not in history[-1]["content"]


def test_the_app_serves_and_answers_on_loopback_only(real_assistant, real_settings, block_network):
    from gradio_client import Client

    import app

    demo = app.build_app(real_assistant, real_settings)
    port = free_port()
    demo.launch(
        server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, share=False, quiet=True
    )
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        results = []

        def ask(q):
            results.append(
                client.predict(q, [], "Wales and England", "All documents", api_name="/ask")
            )

        threads = [
            threading.Thread(target=ask, args=(q,))
            for q in (
                "What is STEP?",
                "Who must designate an additional learning needs co-ordinator?",
            )
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert len(results) == 2
        for history, panel, _, copied, markdown_file, docx_file in results:
            assert history[-1]["role"] == "assistant" and "src-card" in panel
            assert "Sources" in copied and markdown_file and docx_file
    finally:
        demo.close()
    assert block_network == [], f"tried to reach {block_network}"


def test_a_follow_up_uses_the_earlier_question_of_the_same_chat(real_assistant):
    import app

    history, _, _, answers = app.respond(real_assistant, "What is an EHC plan?", [])
    history, panel, _, answers = app.respond(
        real_assistant, "what about Wales?", history, answers=answers
    )
    assert len(answers) == 2
    assert "individual development plan" in panel.lower()
    assert len(history) == 4


def test_a_country_filter_changes_the_sources(real_assistant):
    import app

    question = "Who must have a special educational needs co-ordinator?"
    _, wales, _, _ = app.respond(real_assistant, question, [], "Wales only")
    _, england, _, _ = app.respond(real_assistant, question, [], "England only")
    assert "England</span>" not in wales and "Wales</span>" in wales
    assert "Wales</span>" not in england and "England</span>" in england
