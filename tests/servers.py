"""Helpers for tests that run a real server on loopback (Chroma, llama.cpp, Gradio)."""

from __future__ import annotations

import socket
import subprocess
import time
from contextlib import contextmanager

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(command: list[str], port: int, what: str, timeout: float = 90.0):
    """Start ``command``, wait until it listens on 127.0.0.1:port, stop it afterwards."""
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"{what} did not start within {timeout:.0f} s")
            time.sleep(0.3)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def profile_for(settings, path) -> str:
    """Write ``settings`` as a YAML profile a child process can load with --settings."""
    import json

    import yaml

    data = json.loads(settings.model_dump_json())
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return str(path)


def run_isolated(args: list[str], timeout: float = 300.0) -> subprocess.CompletedProcess:
    """Run a command in its own process, so a native crash (a segfault in llama.cpp, say)
    fails the calling test with its signal instead of killing the whole test run."""
    import signal

    proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if proc.returncode < 0:
        name = signal.Signals(-proc.returncode).name
        pytest.fail(f"{' '.join(args[:4])}... crashed with {name}\n{proc.stderr[-3000:]}")
    return proc
