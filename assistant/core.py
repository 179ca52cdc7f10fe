"""The composition root: ``build_assistant(settings).ask(question)``.

The app, the CLIs and the evaluation suite all come through here; none of them build
LlamaIndex objects themselves.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.schema import MetadataMode

from assistant import store
from assistant.answer import EMPTY_QUESTION, REFUSAL
from assistant.backends import make_answerer, make_chroma_client, make_embed_model
from assistant.conversation import standalone_question
from assistant.errors import IndexMissingError
from assistant.retrieval import Retriever, Vocabulary
from assistant.settings import Settings
from assistant.types import Answer, Passage

logger = logging.getLogger(__name__)


def clean_question(question: Any, max_chars: int) -> str:
    """Untrusted text in, a single-line question of bounded length out."""
    text = "" if question is None else str(question)
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    text = " ".join(text.split())
    return text[:max_chars]


class Assistant:
    """Answers questions from the live index; picks up a re-ingest without a restart."""

    def __init__(self, settings: Settings, embed_model: BaseEmbedding, client: Any):
        self.settings = settings
        self.embed_model = embed_model
        self.client = client
        self._lock = threading.Lock()
        self._checked_at = 0.0
        self.collection_name = ""
        self._load()

    def _load(self) -> None:
        prefix = self.settings.store.collection_prefix
        location = self.settings.store.url or str(self.settings.store.path)
        collection = store.get_active_collection(self.client, prefix, location)
        nodes = store.load_nodes(collection)
        if not nodes:
            raise IndexMissingError(
                f"The index in {location} is empty: add documents to corpus/ and run `python -m ingest`."
            )
        self.nodes = nodes
        self.vocab = Vocabulary([n.get_content(MetadataMode.EMBED) for n in nodes])
        sentences = store.get_sentence_collection(self.client, collection.name)
        self.retriever = Retriever(
            self.settings.retrieval, collection, self.embed_model, nodes, sentences
        )
        self.answerer = make_answerer(
            self.settings.answer, self.embed_model, self.vocab, self.settings.llm
        )
        self.collection_name = collection.name
        logger.info("loaded %d chunks from %s", len(nodes), collection.name)

    def refresh_if_stale(self) -> None:
        """Reload when ingest has switched the live collection since we loaded."""
        now = time.monotonic()
        if now - self._checked_at < self.settings.store.refresh_seconds:
            return
        self._checked_at = now
        self._reload_if_switched()

    def _reload_if_switched(self) -> None:
        active = store.active_collection_name(self.client, self.settings.store.collection_prefix)
        if active and active != self.collection_name:
            with self._lock:
                if active != self.collection_name:
                    self._load()

    def _retrieve_with_reload(self, query: str) -> tuple[Retriever, list[float], list[Passage]]:
        """Retrieve; if ingest deleted the generation we hold meanwhile, reload once and retry."""
        for attempt in (1, 2):
            retriever = self.retriever
            try:
                embedding = retriever.embed_query(query)
                return retriever, embedding, retriever.retrieve(query, query_embedding=embedding)
            except Exception as e:
                if attempt == 2 or not store.is_missing_collection(e):
                    raise
                logger.info(
                    "index %s was replaced during a question: reloading", self.collection_name
                )
                self._reload_if_switched()
        raise AssertionError("unreachable")

    def retrieve(self, question: str, k: int | None = None) -> list[Passage]:
        """The passages the answerer would see, best first."""
        question = clean_question(question, self.settings.answer.max_question_chars)
        if not question:
            return []
        self.refresh_if_stale()
        for attempt in (1, 2):
            try:
                return self.retriever.retrieve(question, k)
            except Exception as e:
                if attempt == 2 or not store.is_missing_collection(e):
                    raise
                self._reload_if_switched()
        return []

    def ask(self, question: Any, history: list[str] | None = None) -> Answer:
        """Answer a question with cited sources, or refuse and show the nearest passages.

        ``history`` holds the earlier questions of the conversation, oldest first; a
        follow-up ("what about Wales?") is rewritten into a standalone query from it.
        """
        answer = None
        for kind, value in self.stream(question, history):
            if kind == "final":
                answer = value
        assert answer is not None
        return answer

    def stream(self, question: Any, history: list[str] | None = None):
        """Yields ("token", text) while a generative backend writes, then ("final", Answer)."""
        started = time.perf_counter()
        text = clean_question(question, self.settings.answer.max_question_chars)
        if not any(ch.isalnum() for ch in text):
            yield (
                "final",
                Answer(
                    str(question or ""),
                    EMPTY_QUESTION,
                    [],
                    True,
                    {"total": 0.0},
                    reason="empty question",
                ),
            )
            return
        self.refresh_if_stale()
        answerer = self.answerer
        past = [clean_question(h, self.settings.answer.max_question_chars) for h in history or []]
        query = standalone_question(
            text, [h for h in past if h], self.vocab, getattr(answerer, "llm", None)
        )
        _, embedding, passages = self._retrieve_with_reload(query)
        answerer = self.answerer  # the one matching the generation retrieval used
        retrieved = time.perf_counter()
        final = None
        stream = getattr(answerer, "stream", None)
        if stream is None:
            final = answerer.answer(query, passages, embedding)
        else:
            for kind, value in stream(query, passages, embedding):
                if kind == "token":
                    yield "token", value
                else:
                    final = value
        body, sources, refused, reason, diagnostics = final
        done = time.perf_counter()
        timings = {
            "retrieve": (retrieved - started) * 1000,
            "answer": (done - retrieved) * 1000,
            "total": (done - started) * 1000,
        }
        if refused:
            logger.info("refused %r: %s", text[:80], reason)
        checker = None
        if getattr(answerer, "generative", False):
            checker = {
                k: diagnostics[k]
                for k in (
                    "llm_called",
                    "generated_sentences",
                    "kept_sentences",
                    "unsupported_dropped",
                    "invalid_citations_removed",
                    "fallback",
                    "llm_error",
                )
                if k in diagnostics
            }
        yield (
            "final",
            Answer(
                text,
                body,
                sources,
                refused,
                timings,
                reason=reason,
                diagnostics=diagnostics,
                query=query,
                checker=checker,
            ),
        )


def build_assistant(settings: Settings, embed_model: BaseEmbedding | None = None) -> Assistant:
    """Wire the backends named in settings into an Assistant over the live index."""
    client = make_chroma_client(settings.store)
    embed_model = embed_model or make_embed_model(settings.embedding)
    return Assistant(settings, embed_model, client)


__all__ = ["REFUSAL", "Assistant", "build_assistant", "clean_question"]
