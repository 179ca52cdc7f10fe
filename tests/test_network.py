"""Nothing leaves the machine: ingest and answering work with every non-loopback socket blocked."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_ingest_and_answer_with_the_network_blocked(
    block_network, tmp_path, small_corpus, settings_factory
):
    from assistant.core import build_assistant
    from ingest.pipeline import run_ingest

    settings = settings_factory(tmp_path, small_corpus, backend="sentence-transformers")
    report = run_ingest(settings, progress=False)
    assert report.added and not report.failed
    bot = build_assistant(settings)
    answer = bot.ask("When do practitioners step back?")
    assert "step back" in " ".join(s.text for s in answer.sources).lower()
    assert block_network == [], f"tried to reach {block_network}"


def test_the_guard_really_blocks(block_network):
    import socket

    with pytest.raises(RuntimeError, match="attempted"):
        socket.create_connection(("203.0.113.1", 80), timeout=1)
