"""The ONNX backend is the same MiniLM as sentence-transformers, without torch at query time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.backends import make_embed_model
from assistant.settings import load_settings
from assistant.text import split_sentences

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


def _corpus_sentences(n: int) -> list[str]:
    texts = []
    for path in sorted((ROOT / "corpus").glob("*.md")) + sorted((ROOT / "corpus").glob("*.txt")):
        texts += [
            t for t, _ in split_sentences(path.read_text(encoding="utf-8")) if len(t.split()) >= 3
        ]
    rng = np.random.default_rng(0)
    return [texts[i] for i in rng.choice(len(texts), n, replace=False)]


def test_onnx_vectors_match_sentence_transformers_on_1000_corpus_sentences():
    base = load_settings().embedding
    torch_model = make_embed_model(base.model_copy(update={"backend": "sentence-transformers"}))
    onnx_model = make_embed_model(base.model_copy(update={"backend": "onnx"}))
    texts = _corpus_sentences(1000) + ["When do I step back?", "IDP", "x" * 3000]
    a = np.array(torch_model.get_text_embedding_batch(texts))
    b = np.array(onnx_model.get_text_embedding_batch(texts))
    cosine = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert cosine.min() >= 0.999, f"lowest cosine {cosine.min():.6f}"
    q = np.array(onnx_model.get_query_embedding("When do I step back?"))
    assert abs(np.linalg.norm(q) - 1.0) < 1e-5


def test_a_cold_question_with_the_onnx_backend_never_imports_torch(real_settings, tmp_path):
    from servers import profile_for

    settings = real_settings.model_copy(
        update={"embedding": real_settings.embedding.model_copy(update={"backend": "onnx"})}
    )
    profile = profile_for(settings, tmp_path / "profile.yaml")
    code = (
        "import sys, json\n"
        "from assistant.__main__ import main\n"
        f"rc = main(['ask', 'When do I step back?', '--json', '--settings', {profile!r}])\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & "
        "{'torch', 'transformers', 'sentence_transformers'})\n"
        "print('IMPORTED', json.dumps(heavy))\n"
        "sys.exit(rc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    answer = json.loads(out[: out.rindex("IMPORTED")])
    assert answer["status"] == "answered" and answer["citations"]
    assert json.loads(out.rsplit("IMPORTED", 1)[1]) == []
