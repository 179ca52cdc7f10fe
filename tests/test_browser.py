"""The chat page in a real browser (Debian's Chromium, driven by Playwright), on loopback.

One app is served for the module (the real index, the real model); each test opens its own
page, as a new user would. Screenshots go to tests/screenshots/ (the README shows two of them).
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from servers import free_port

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).parent / "screenshots"
ROOT = Path(__file__).resolve().parents[1]

needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium: `apt-get install chromium` (`make test` installs it)"
)


@pytest.fixture(scope="module")
def served(real_assistant, real_settings, tmp_path_factory):
    """The app on a free loopback port, its feedback and exports in a temporary folder."""
    import app

    folder = tmp_path_factory.mktemp("app")
    settings = real_settings.model_copy(
        update={
            "app": real_settings.app.model_copy(
                update={
                    "feedback_path": folder / "feedback.sqlite3",
                    "exports_dir": folder / "exports",
                }
            )
        }
    )
    demo = app.build_app(real_assistant, settings)
    port = free_port()
    demo.launch(
        server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, css=app.CSS
    )
    yield f"http://127.0.0.1:{port}/", settings
    demo.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _open(browser, url, width=1366, height=900):
    page = browser.new_page(viewport={"width": width, "height": height}, accept_downloads=True)
    page.goto(url, wait_until="load")
    page.get_by_label("Your question", exact=True).wait_for(timeout=30_000)
    return page


def _ask(page, question: str, turn: int):
    page.get_by_label("Your question", exact=True).fill(question)
    page.get_by_role("button", name="Ask", exact=True).click()
    page.locator(f"#turn-{turn}").wait_for(timeout=60_000)
    return page.locator(f"#turn-{turn}")


@needs_chromium
def test_a_question_typed_in_the_browser_shows_a_cited_answer_and_its_source(served, browser):
    url, _ = served
    page = _open(browser, url)
    turn = _ask(page, "What must practitioners complete after the Step-back course?", 1)
    card = page.locator("#src-1-1")
    assert "Learner’s Voice Case study" in card.inner_text()
    assert page.locator("#src-1-1 mark").count() >= 1
    link = page.locator('a[href="#src-1-1"]').first
    assert link.inner_text().strip() == "[1]"
    assert "Answer 1" in turn.inner_text()
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "desktop-answer.png"), full_page=True)
    page.close()


@needs_chromium
def test_a_follow_up_in_the_browser_is_answered_from_the_other_countrys_documents(served, browser):
    url, _ = served
    page = _open(browser, url)
    _ask(page, "What is an EHC plan?", 1)
    second = _ask(page, "what about Wales?", 2)
    text = second.inner_text().lower()
    assert "individual development plan" in text
    assert "wales" in text
    page.close()


@needs_chromium
def test_each_answer_keeps_its_own_sources_after_three_turns(served, browser):
    url, _ = served
    page = _open(browser, url)
    questions = [
        "What must practitioners complete after the Step-back course?",
        "What qualification must a new SENCO hold?",
        "What does STEP training involve?",
    ]
    for i, q in enumerate(questions, 1):
        _ask(page, q, i)
    assert page.locator("section.turn").count() == 3
    first_card = page.locator("#src-1-1").inner_text()
    second_card = page.locator("#src-2-1").inner_text()
    assert "Learner’s Voice" in first_card and "SENCO" in second_card
    # [1] of the first answer still opens the first answer's passage, not the latest one's
    page.locator('a[href="#src-1-1"]').first.click()
    from playwright.sync_api import expect

    expect(page.locator("#src-1-1")).to_be_in_viewport()
    # clearing the chat clears the sources too
    page.locator("#chat").get_by_role("button", name="Clear").click()
    page.wait_for_function("!document.querySelector('#turn-1')", timeout=10_000)
    assert page.locator(".src-card").count() == 0
    page.close()


@needs_chromium
def test_a_country_filter_changes_the_sources_in_the_browser(served, browser):
    url, _ = served
    page = _open(browser, url)
    page.get_by_label("Country").click()
    page.get_by_role("option", name="Wales only").click()
    turn = _ask(page, "Who must have a special educational needs co-ordinator?", 1)
    badges = turn.locator(".badge").all_inner_texts()
    assert "Wales" in badges and "England" not in badges
    page.close()


@needs_chromium
def test_feedback_is_written_to_sqlite_and_exported_as_candidate_gold(served, browser, tmp_path):
    url, settings = served
    page = _open(browser, url)
    _ask(page, "What qualification must a new SENCO hold?", 1)
    page.locator("#chat").get_by_role("button", name="Dislike").first.click()
    page.get_by_label("wrong or missing citation").check()
    page.get_by_label("Comment (optional)").fill("cites the Regulations, I wanted the Code")
    page.get_by_role("button", name="Send feedback").click()
    page.get_by_text("with your reason").wait_for(timeout=10_000)
    with sqlite3.connect(settings.app.feedback_path) as db:
        rows = db.execute(
            "SELECT question, rating, reason, comment, citations FROM feedback"
        ).fetchall()
    assert any(
        r[0] == "What qualification must a new SENCO hold?"
        and r[1] == "down"
        and r[2] == "wrong or missing citation"
        and "wanted the Code" in r[3]
        and "doc_id" in r[4]
        for r in rows
    )
    out = tmp_path / "candidates.yaml"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "evals",
            "feedback",
            "--db",
            str(settings.app.feedback_path),
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    import yaml

    entries = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert any(
        e["question"] == "What qualification must a new SENCO hold?"
        and e["review"]["reason"] == "wrong or missing citation"
        and e["candidate_evidence"]
        for e in entries
    )
    page.close()


@needs_chromium
def test_the_conversation_exports_as_docx_with_its_sources(served, browser, tmp_path):
    from docx import Document

    url, _ = served
    page = _open(browser, url)
    _ask(page, "What qualification must a new SENCO hold?", 1)
    page.get_by_text("Copy or export").click()
    copied = page.locator("#copy-md textarea").input_value()
    assert "### Sources" in copied and "[1]" in copied and "](#src" not in copied
    with page.expect_download(timeout=30_000) as info:
        page.locator("#download-docx").click()
    path = tmp_path / "conversation.docx"
    info.value.save_as(path)
    text = "\n".join(p.text for p in Document(str(path)).paragraphs)
    assert "What qualification must a new SENCO hold?" in text
    assert "SEND Regulations 2014" in text and "England" in text
    page.close()


@needs_chromium
def test_a_trainer_pack_is_made_in_the_browser_with_every_point_cited(served, browser, tmp_path):
    from docx import Document

    url, _ = served
    page = _open(browser, url)
    page.get_by_role("tab", name="Prepare a session").click()
    page.get_by_label("Session topic").fill("stepping back")
    page.get_by_role("button", name="Make pack").click()
    from playwright.sync_api import expect

    expect(page.locator("#pack")).to_contain_text("Quiz", timeout=120_000)
    pack = page.locator("#pack").inner_text()
    assert "What the law requires" in pack and "Quiz" in pack and "Step-back" in pack
    page.screenshot(path=str(SCREENSHOTS / "trainer-pack.png"), full_page=True)
    with page.expect_download(timeout=30_000) as info:
        page.locator("#pack-docx").click()
    path = tmp_path / "pack.docx"
    info.value.save_as(path)
    text = "\n".join(p.text for p in Document(str(path)).paragraphs)
    assert "Session pack: stepping back" in text and "Step-back Cymru" in text
    page.close()


@needs_chromium
def test_hostile_and_empty_input_is_shown_as_text_with_a_clear_message(served, browser):
    url, _ = served
    page = _open(browser, url)
    _ask(page, '<img src=x onerror="window.hacked=1"> what is an IDP?', 1)
    assert page.locator("#chat img[src='x']").count() == 0
    assert "<img src=x" in page.locator("#chat").inner_text()
    assert page.evaluate("window.hacked === undefined")
    _ask(page, "<script>window.hacked=2</script>", 2)
    assert page.evaluate("window.hacked === undefined")
    page.get_by_label("Your question", exact=True).fill("   ")
    page.get_by_role("button", name="Ask", exact=True).click()
    page.get_by_text("Please type a question").first.wait_for(timeout=30_000)
    _ask(page, "What is an IDP? " + "please explain " * 400, 3)
    assert "only the first 1,000 were used" in page.locator("#chat").inner_text()
    page.close()


@needs_chromium
def test_an_example_question_is_asked_when_clicked(served, browser):
    import app

    url, _ = served
    page = _open(browser, url)
    page.get_by_text("Example questions").click()
    page.get_by_text(app.EXAMPLES[3]).click()
    turn = page.locator("#turn-1")
    turn.wait_for(timeout=60_000)
    assert app.EXAMPLES[3] in turn.inner_text()
    page.close()


@needs_chromium
def test_the_page_works_at_mobile_width(served, browser):
    url, _ = served
    page = _open(browser, url, width=390, height=844)
    _ask(page, "What qualification must a new SENCO hold?", 1)
    card = page.locator("#src-1-1")
    assert card.is_visible()
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "mobile-answer.png"), full_page=True)
    page.close()
