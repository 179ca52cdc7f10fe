"""`python -m evals.bench` (`make bench`): how fast, and how big, at the real corpus and larger.

One table, everything measured in the same run, each figure in its own child process (so a
cold start is really cold and peak memory is that process's own, from `wait4`):

- cold `python -m assistant ask` end to end;
- start-up to first answer, then warm answers p50 / p95 over the test split's questions, and
  that process's peak RSS (what the app holds);
- an unchanged re-ingest, end to end (real corpus only);
- with ``--server``, the same cold answer and warm run against a `chroma run` server serving
  that scale's store (``ASSISTANT_STORE__URL``), and the server's own peak RSS.

Scales: 1 is the app's own index (the real corpus); k > 1 is a synthetic index of k copies of
it, each chunk and sentence vector a real one with a little noise (renormalised) and its text
unchanged, under new document ids: it measures how search, BM25 and memory grow with the store
without spending hours embedding. Each embedding backend is measured, with ratios against
`sentence-transformers` (torch). Timings are reported, never gated. JSON under evals/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import assistant  # noqa: F401  (offline, no telemetry)
from assistant.settings import Settings, load_settings

QUESTION = "When do I step back?"


def _run(args: list[str], env: dict[str, str] | None = None) -> tuple[float, int, str]:
    """(wall seconds, peak RSS in MB, stdout) of one child process."""
    start = time.perf_counter()
    with tempfile.TemporaryFile(mode="w+") as err:
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=err, text=True, env=env)
        out = proc.stdout.read() if proc.stdout else ""
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            tail = " | ".join(err.read().strip().splitlines()[-3:])
            raise RuntimeError(f"{' '.join(args[:5])} failed with {proc.returncode}: {tail}")
    return wall, int(usage.ru_maxrss / 1024), out


def _profile(settings: Settings, folder: Path, backend: str, tag: str = "") -> str:
    import yaml

    data = json.loads(settings.model_dump_json())
    data["embedding"]["backend"] = backend
    path = folder / f"profile-{backend}{tag}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return str(path)


def warm_worker(profile: str, n: int) -> dict[str, Any]:
    """In a child: start-up to first answer, then n warm answers."""
    from assistant.core import build_assistant
    from evals.gold import load_splits

    start = time.perf_counter()
    bot = build_assistant(load_settings(profile))
    bot.ask(QUESTION)
    first = time.perf_counter() - start
    times = []
    for q in load_splits("test")[:n]:
        t = time.perf_counter()
        bot.ask(q.question)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return {
        "startup_to_first_answer_s": round(first, 2),
        "warm_p50_ms": round(statistics.median(times), 1),
        "warm_p95_ms": round(times[max(0, int(0.95 * len(times)) - 1)], 1),
        "chunks": len(bot.nodes),
    }


def fresh_ingest(settings: Settings, folder: Path, backend: str) -> dict[str, Any]:
    """A first ingest of the real corpus into an empty store (a child process): chunks per
    second, counting each chunk with its sentence vectors, and that process's peak RSS."""
    from assistant import store
    from assistant.backends import make_chroma_client

    target = settings.model_copy(
        update={"store": settings.store.model_copy(update={"path": folder / backend, "url": None})}
    )
    wall, rss, _ = _run(
        [sys.executable, "-m", "ingest", "--quiet", "--settings", _profile(target, folder, backend)]
    )
    client = make_chroma_client(target.store)
    chunks = store.get_active_collection(client, target.store.collection_prefix)
    sentences = store.get_sentence_collection(client, chunks.name)
    n_chunks, n_sentences = chunks.count(), sentences.count() if sentences else 0
    return {
        "ingest_s": round(wall, 1),
        "ingest_chunks_per_s": round(n_chunks / wall, 1),
        "ingest_texts_per_s": round((n_chunks + n_sentences) / wall, 1),
        "ingest_rss_mb": rss,
    }


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    """Warm latency and app memory against the number of chunks, one line per backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in rows if "error" not in r]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))

    def line(r: dict[str, Any]) -> str:
        return r["backend"] + (f" ({r['store']})" if r.get("store") else "")

    for name in sorted({line(r) for r in rows}):
        mine = sorted((r for r in rows if line(r) == name), key=lambda r: r["chunks"])
        x = [r["chunks"] for r in mine]
        left.plot(x, [r["warm_p50_ms"] for r in mine], marker="o", label=f"{name} p50")
        left.plot(x, [r["warm_p95_ms"] for r in mine], marker="x", ls="--", label=f"{name} p95")
        right.plot(x, [r["app_rss_mb"] for r in mine], marker="o", label=name)
    left.set(xscale="log", xlabel="chunks", ylabel="warm answer (ms)", title="Latency")
    right.set(xscale="log", xlabel="chunks", ylabel="peak RSS (MB)", title="App memory")
    left.legend(fontsize=8)
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def synthetic_store(settings: Settings, copies: int, folder: Path) -> Settings:
    """A store of ``copies`` noisy copies of the live index (texts kept, vectors jittered)."""
    import numpy as np

    from assistant import store
    from assistant.backends import make_chroma_client

    source = make_chroma_client(settings.store)
    live = store.get_active_collection(source, settings.store.collection_prefix)
    sentences = store.get_sentence_collection(source, live.name)
    target_settings = settings.model_copy(
        update={"store": settings.store.model_copy(update={"path": folder / "chroma", "url": None})}
    )
    target = make_chroma_client(target_settings.store)
    chunks_out = store.create_collection(target, settings.store.collection_prefix, settings.store)
    sentences_out = store.create_sentence_collection(target, chunks_out.name)
    rng = np.random.default_rng(0)

    def jitter(vectors: Any) -> list[list[float]]:
        v = np.asarray(vectors, dtype=np.float32)
        v = v + rng.normal(0, 0.02, v.shape).astype(np.float32)
        return (v / np.linalg.norm(v, axis=1, keepdims=True)).tolist()

    def relabel(meta: dict[str, Any], tag: str, node_id: str) -> dict[str, Any]:
        """A chunk's metadata as another document's: the flat fields and the node JSON that
        LlamaIndex rebuilds the node from."""
        out = dict(meta, doc_id=tag + meta["doc_id"])
        if "_node_content" in out:
            content = json.loads(out["_node_content"])
            content["id_"] = node_id
            content.setdefault("metadata", {})["doc_id"] = out["doc_id"]
            out["_node_content"] = json.dumps(content)
        return out

    records = live.get(include=["embeddings", "documents", "metadatas"])
    sent = sentences.get(include=["embeddings", "documents", "metadatas"]) if sentences else None

    def add(collection: Any, ids: list[str], docs: list[str], metas: list, vectors: list) -> None:
        for s in range(0, len(ids), 2000):  # Chroma takes a bounded batch per call
            collection.add(
                ids=ids[s : s + 2000],
                documents=docs[s : s + 2000],
                metadatas=metas[s : s + 2000],
                embeddings=vectors[s : s + 2000],
            )

    for k in range(copies):
        tag = f"copy{k:03d}-"
        ids = [tag + i for i in records["ids"]]
        metas = [relabel(m, tag, i) for m, i in zip(records["metadatas"], ids, strict=True)]
        add(chunks_out, ids, records["documents"], metas, jitter(records["embeddings"]))
        if sent is not None:
            smetas = [
                dict(m, chunk_id=tag + m["chunk_id"], doc_id=tag + m["doc_id"])
                for m in sent["metadatas"]
            ]
            sids = [tag + i for i in sent["ids"]]
            add(sentences_out, sids, sent["documents"], smetas, jitter(sent["embeddings"]))
    store.switch_active(target, settings.store.collection_prefix, chunks_out.name)
    return target_settings


COMPLETE = "complete.json"  # written beside a synthetic store once it is whole


def _synthetic_in_child(
    base: Settings, profile: Path | str | None, copies: int, folder: Path
) -> Settings:
    """``synthetic_store`` run in a child process, and the settings that point at it. The
    bench itself must stay small: on Linux a child's peak RSS, as wait4 reports it, starts
    from its parent's RSS at the fork, so a bench that had built a 17,000-chunk store itself
    reported about 945 MB for every process it then started, whatever they used."""
    command = [sys.executable, "-m", "evals.bench", "--make-store", str(copies)]
    command += ["--store-folder", str(folder)] + (["--settings", str(profile)] if profile else [])
    marker = folder / COMPLETE
    if marker.is_file() and json.loads(marker.read_text()).get("copies") == copies:
        print(f"reusing the {copies}x store in {folder}", file=sys.stderr)
    else:
        _run(command)
        marker.write_text(json.dumps({"copies": copies}))
    return base.model_copy(
        update={"store": base.store.model_copy(update={"path": folder / "chroma", "url": None})}
    )


def _peak_rss_mb(pid: int) -> int:
    """A running process's peak RSS so far (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    return 0


class ChromaServer:
    """`chroma run` serving an existing store folder on a free loopback port, for the server
    rows; stopped on exit. Its peak RSS is read before it stops."""

    def __init__(self, path: Path):
        self.path = path
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def __enter__(self) -> ChromaServer:
        import socket

        exe = Path(sys.executable).with_name("chroma")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        command = [str(exe), "run", "--path", str(self.path), "--host", "127.0.0.1"]
        self.proc = subprocess.Popen(
            [*command, "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 120
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.proc.kill()
                    raise RuntimeError(f"chroma run --path {self.path} did not start") from None
                time.sleep(0.3)
        self.url = f"http://127.0.0.1:{port}"
        return self

    def peak_rss_mb(self) -> int:
        return _peak_rss_mb(self.proc.pid) if self.proc else 0

    def __exit__(self, *exc: object) -> None:
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def server_row(
    settings: Settings, folder: Path, scale: int, questions: int, backend: str = "onnx"
) -> dict[str, Any]:
    """Cold answer and a warm run against a `chroma run` server serving this scale's
    store; the BM25 and chunk caches come from the store's own lexical folder, as for several
    app processes sharing one server (README)."""
    local = settings.store.path
    with ChromaServer(local) as server:
        served = settings.model_copy(
            update={
                "store": settings.store.model_copy(
                    update={"url": server.url, "lexical_cache_dir": local / "lexical"}
                )
            }
        )
        profile = _profile(served, folder, backend, "-server")
        py = sys.executable
        cold, _, _ = _run([py, "-m", "assistant", "ask", QUESTION, "--settings", profile])
        _, warm_rss, out = _run(
            [py, "-m", "evals.bench", "--worker", profile, "--questions", str(questions)]
        )
        row = {"scale": scale, "backend": backend, "store": "server", "cold_ask_s": round(cold, 2)}
        row |= {**json.loads(out), "app_rss_mb": warm_rss, "server_rss_mb": server.peak_rss_mb()}
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.bench", description=__doc__)
    parser.add_argument("--settings", type=Path, help="YAML settings profile")
    parser.add_argument("--scales", default="1,10", help="copies of the real corpus, e.g. 1,10")
    parser.add_argument("--backends", default="onnx,sentence-transformers")
    parser.add_argument("--questions", type=int, default=30, help="warm answers per run")
    parser.add_argument("--out", type=Path, default=Path("evals/results"))
    parser.add_argument(
        "--no-ingest", action="store_true", help="skip the fresh ingest (minutes per backend)"
    )
    parser.add_argument(
        "--server",
        action="store_true",
        help="also measure each scale through a `chroma run` server (ASSISTANT_STORE__URL)",
    )
    parser.add_argument(
        "--keep",
        type=Path,
        help="keep the synthetic stores in this folder and reuse one already there (a 100,000-"
        "chunk store takes most of an hour to build); default: a temporary folder",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--make-store", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--store-folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(warm_worker(args.worker, args.questions)))
        return 0
    if args.make_store:
        synthetic_store(load_settings(args.settings), args.make_store, args.store_folder)
        return 0

    base = load_settings(args.settings)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        for scale in (int(s) for s in args.scales.split(",")):
            folder = (args.keep or Path(tmp)) / f"x{scale}"
            folder.mkdir(parents=True, exist_ok=True)
            py = sys.executable
            settings = (
                base if scale == 1 else _synthetic_in_child(base, args.settings, scale, folder)
            )
            # one untimed start makes the lexical cache (the first start after an ingest does)
            try:
                _run(
                    [
                        py,
                        "-m",
                        "assistant",
                        "ask",
                        QUESTION,
                        "--settings",
                        _profile(settings, folder, "onnx"),
                    ]
                )
            except RuntimeError as e:  # the scale is reported as failed; the others still run
                rows.append({"scale": scale, "backend": "all", "error": str(e)})
                print(json.dumps(rows[-1]), file=sys.stderr)
                continue
            for backend in backends:
                profile = _profile(settings, folder, backend)
                cold, cold_rss, _ = _run(
                    [py, "-m", "assistant", "ask", QUESTION, "--settings", profile]
                )
                _, warm_rss, out = _run(
                    [
                        py,
                        "-m",
                        "evals.bench",
                        "--worker",
                        profile,
                        "--questions",
                        str(args.questions),
                    ]
                )
                row = {"scale": scale, "backend": backend, "cold_ask_s": round(cold, 2)}
                row |= {"cold_ask_rss_mb": cold_rss, **json.loads(out), "app_rss_mb": warm_rss}
                if scale == 1:
                    reingest, _, _ = _run([py, "-m", "ingest", "--quiet", "--settings", profile])
                    row["unchanged_reingest_s"] = round(reingest, 2)
                    if not args.no_ingest:
                        row |= fresh_ingest(settings, folder, backend)
                rows.append(row)
                print(json.dumps(row), file=sys.stderr)
            if args.server and settings.store.url is None:
                try:
                    rows.append(server_row(settings, folder, scale, args.questions))
                except RuntimeError as e:
                    rows.append(
                        {"scale": scale, "backend": "onnx", "store": "server", "error": str(e)}
                    )
                print(json.dumps(rows[-1]), file=sys.stderr)
    torch_rows = {r["scale"]: r for r in rows if r["backend"] == "sentence-transformers"}
    for r in rows:
        ref = torch_rows.get(r["scale"])
        if ref and r is not ref and "error" not in r and "store" not in r:
            r["cold_ask_vs_torch"] = round(r["cold_ask_s"] / ref["cold_ask_s"], 2)
            r["app_rss_vs_torch"] = round(r["app_rss_mb"] / ref["app_rss_mb"], 2)
            if "ingest_s" in r and "ingest_s" in ref:
                r["ingest_vs_torch"] = round(r["ingest_s"] / ref["ingest_s"], 2)
    keys = [
        "scale",
        "chunks",
        "backend",
        "store",
        "cold_ask_s",
        "cold_ask_vs_torch",
        "startup_to_first_answer_s",
        "warm_p50_ms",
        "warm_p95_ms",
        "app_rss_mb",
        "app_rss_vs_torch",
        "unchanged_reingest_s",
        "ingest_chunks_per_s",
        "ingest_texts_per_s",
        "ingest_vs_torch",
        "ingest_rss_mb",
        "server_rss_mb",
        "error",
    ]
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for r in rows:
        print("| " + " | ".join(str(r.get(k, "")) for k in keys) + " |")
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = args.out / f"bench-{stamp}.json"
    machine = {"cpus": os.cpu_count(), "platform": sys.platform, "python": sys.version.split()[0]}
    path.write_text(
        json.dumps({"date": time.strftime("%Y-%m-%d"), "machine": machine, "rows": rows}, indent=2)
    )
    plot(rows, args.out / f"bench-{stamp}.png")
    print(f"\nresults: {path} (plot beside it)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
