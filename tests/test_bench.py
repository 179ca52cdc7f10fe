"""The benchmark's synthetic scale index (timings themselves are never tested)."""

from __future__ import annotations

from assistant.core import build_assistant
from evals.bench import synthetic_store
from ingest.pipeline import run_ingest


def test_a_synthetic_index_holds_k_copies_of_the_real_one_and_answers(fake_settings, tmp_path):
    run_ingest(fake_settings, progress=False)
    real = build_assistant(fake_settings)
    scaled = synthetic_store(fake_settings, 3, tmp_path / "x3")
    bot = build_assistant(scaled)
    assert len(bot.nodes) == 3 * len(real.nodes)
    assert len({n.metadata["doc_id"] for n in bot.nodes}) == 3 * len(
        {n.metadata["doc_id"] for n in real.nodes}
    )
    sentences = bot.retriever.sentences
    assert sentences is not None and sentences.count() == 3 * real.retriever.sentences.count()
    answer = bot.ask("When do practitioners step back?")
    assert answer.sources and answer.sources[0].doc_id.startswith("copy")


def test_a_fresh_ingest_is_measured_in_its_own_process_and_the_plot_is_drawn(
    fake_settings, tmp_path
):
    from evals.bench import fresh_ingest, plot

    row = fresh_ingest(fake_settings, tmp_path, "fake")
    assert row["ingest_chunks_per_s"] > 0 and row["ingest_texts_per_s"] > row["ingest_chunks_per_s"]
    rows = [
        {"backend": "onnx", "chunks": n, "warm_p50_ms": 50.0, "warm_p95_ms": 80.0, "app_rss_mb": m}
        for n, m in ((1700, 400), (17000, 900))
    ]
    plot(rows, tmp_path / "bench.png")
    assert (tmp_path / "bench.png").stat().st_size > 1000


def test_the_synthetic_index_is_built_in_a_child_so_the_bench_stays_small(fake_settings, tmp_path):
    # a child's peak RSS (wait4) starts from its parent's at the fork: the bench must not
    # grow by building stores itself
    from evals.bench import _profile, _synthetic_in_child

    run_ingest(fake_settings, progress=False)
    profile = _profile(fake_settings, tmp_path, "fake")
    folder = tmp_path / "x2"
    folder.mkdir()
    scaled = _synthetic_in_child(fake_settings, profile, 2, folder)
    assert scaled.store.path == folder / "chroma"
    bot = build_assistant(scaled)
    assert len(bot.nodes) == 2 * len(build_assistant(fake_settings).nodes)


def test_the_bench_measures_answers_through_a_chroma_server_serving_the_same_store(
    fake_settings, tmp_path
):
    import shutil
    import sys
    from pathlib import Path

    import pytest

    from evals.bench import server_row

    if not Path(sys.executable).with_name("chroma").exists() and not shutil.which("chroma"):
        pytest.skip("the chroma CLI is not installed")
    run_ingest(fake_settings, progress=False)
    build_assistant(fake_settings)  # the first start saves the lexical cache the server row reads
    row = server_row(fake_settings, fake_settings.store.path, 1, questions=3, backend="fake")
    assert row["store"] == "server" and row["backend"] == "fake"
    assert row["chunks"] == len(build_assistant(fake_settings).nodes)
    assert row["server_rss_mb"] > 0 and row["app_rss_mb"] > 0 and row["cold_ask_s"] > 0
