"""The same ingest and answers against a real `chroma run` server on loopback."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from servers import free_port, serving

pytestmark = pytest.mark.slow


@pytest.fixture
def chroma_server(tmp_path):
    exe = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
    if not Path(exe).exists():
        pytest.skip("the chroma CLI is not installed")
    port = free_port()
    command = [
        exe,
        "run",
        "--path",
        str(tmp_path / "server-data"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    with serving(command, port, "chroma run", timeout=60):
        yield f"http://127.0.0.1:{port}"


def test_ingest_and_answer_through_a_chroma_server(
    chroma_server, small_corpus, tmp_path, settings_factory, block_network
):
    from assistant.core import build_assistant
    from ingest.pipeline import run_ingest

    settings = settings_factory(
        tmp_path, small_corpus, store={"url": chroma_server, "path": str(tmp_path / "unused")}
    )
    report = run_ingest(settings, progress=False)
    assert sorted(report.added) == ["england-note.txt", "wales-guide.md"]
    assert run_ingest(settings, progress=False).unchanged  # incremental on the server too
    bot = build_assistant(settings)
    passages = bot.retrieve("When do practitioners step back?")
    assert any("step back" in p.text.lower() for p in passages)
    assert not (tmp_path / "unused").exists()  # nothing went to the embedded store
    assert block_network == []


def test_an_unreachable_server_says_what_to_do(small_corpus, tmp_path, settings_factory):
    from assistant.core import build_assistant
    from assistant.errors import BackendError

    settings = settings_factory(
        tmp_path, small_corpus, store={"url": f"http://127.0.0.1:{free_port()}"}
    )
    with pytest.raises(BackendError, match="chroma run"):
        build_assistant(settings)
