"""Fixtures: settings on tmp_path, small corpora, a guard that blocks the network, and one
real index (packaged MiniLM + real ChromaDB) over the project corpus shared by slow tests."""

from __future__ import annotations

import ipaddress
import shutil
import socket
from pathlib import Path

import pytest

import assistant  # noqa: F401  (offline env switches before anything else loads)
from assistant.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"


def make_settings(tmp_path: Path, corpus: Path, backend: str = "fake", **overrides) -> Settings:
    store = {"path": str(tmp_path / "chroma"), **overrides.pop("store", {})}
    return load_settings(
        corpus_dir=str(corpus), embedding={"backend": backend}, store=store, **overrides
    )


@pytest.fixture
def settings_factory():
    return make_settings


@pytest.fixture
def small_corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "wales-guide.md").write_text(
        "---\ntitle: Wales guide\njurisdiction: Wales\ndoc_type: practice-guidance\n---\n"
        "# Wales guide\n\n## Stepping back\n\nPractitioners step back when the learner can "
        "manage the task independently.\n\n## Training\n\nThe course covers:\n\n"
        "- observing the learner\n- planning support\n- reviewing progress\n",
        encoding="utf-8",
    )
    (corpus / "england-note.txt").write_text(
        "England note\n\nFunding\n\nSettings apply to the inclusion fund for children with "
        "special educational needs.\n\nTransitions\n\nTransition meetings happen in the summer "
        "term before school starts.\n",
        encoding="utf-8",
    )
    return corpus


@pytest.fixture
def fake_settings(tmp_path: Path, small_corpus: Path) -> Settings:
    return make_settings(tmp_path, small_corpus)


class NetworkBlocked(RuntimeError):
    pass


def _is_loopback(address) -> bool:
    if isinstance(address, tuple):
        host = address[0]
    else:  # a unix socket path
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


@pytest.fixture
def block_network(monkeypatch):
    """Any attempt to connect beyond loopback fails the test loudly."""
    attempts: list = []
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def guarded_connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
            attempts.append(address)
            raise NetworkBlocked(f"network access attempted: {address}")
        return real_connect(self, address)

    def guarded_connect_ex(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
            attempts.append(address)
            raise NetworkBlocked(f"network access attempted: {address}")
        return real_connect_ex(self, address)

    real_getaddrinfo = socket.getaddrinfo

    def guarded_getaddrinfo(host, *args, **kwargs):
        if host not in (None, "localhost", "127.0.0.1", "::1", "0.0.0.0") and not str(
            host
        ).startswith("127."):
            attempts.append(host)
            raise NetworkBlocked(f"DNS lookup attempted: {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    return attempts


@pytest.fixture(scope="session")
def real_settings(tmp_path_factory) -> Settings:
    """The project corpus ingested once with the real model into a real embedded Chroma.

    For quick local runs, ASSISTANT_TEST_INDEX=.data/chroma reuses an index already built
    from corpus/ (CI never sets it, so CI always ingests afresh)."""
    import os

    from ingest.pipeline import run_ingest

    base = tmp_path_factory.mktemp("real")
    if os.environ.get("ASSISTANT_TEST_INDEX"):
        existing = Path(os.environ["ASSISTANT_TEST_INDEX"]).resolve()
        return make_settings(
            base, CORPUS, backend="sentence-transformers", store={"path": str(existing)}
        )
    corpus = base / "corpus"
    shutil.copytree(CORPUS, corpus)
    settings = make_settings(base, corpus, backend="sentence-transformers")
    report = run_ingest(settings, progress=False)
    assert not report.failed, report.summary()
    return settings


@pytest.fixture(scope="session")
def real_assistant(real_settings):
    from assistant.core import build_assistant

    return build_assistant(real_settings)
