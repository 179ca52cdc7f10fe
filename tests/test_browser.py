"""The chat page in a real browser (Debian's Chromium, driven by Playwright), on loopback."""

from __future__ import annotations

import shutil

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


@pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium: `apt-get install chromium` (.ci/run installs it)"
)
def test_a_question_typed_in_the_browser_shows_a_cited_answer_and_its_source(
    real_assistant, real_settings, tmp_path
):
    from playwright.sync_api import sync_playwright

    import app

    demo = app.build_app(real_assistant, real_settings)
    port = free_port()
    demo.launch(
        server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, css=app.CSS
    )
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/", wait_until="networkidle")
            page.get_by_label("Your question").fill(
                "What must practitioners complete after the Step-back course?"
            )
            page.get_by_role("button", name="Ask", exact=True).click()
            card = page.locator("#src-1")
            card.wait_for(timeout=30_000)
            assert "Learner’s Voice Case study" in card.inner_text()
            assert page.locator("#src-1 mark").count() >= 1
            link = page.locator('a[href="#src-1"]').first
            link.wait_for(timeout=10_000)
            assert link.inner_text().strip() == "[1]"
            page.screenshot(path=str(tmp_path / "answer.png"), full_page=True)
            browser.close()
    finally:
        demo.close()
