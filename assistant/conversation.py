"""Follow-up questions rewritten into standalone queries from the chat history.

"what about Wales?" after "What is an EHC plan?" means "what about EHC plans in Wales?".
With an LLM the rewrite is the model's (condense-question prompt); without one, a simple
method carries the previous question's key words over. The glossary then maps England's
terms to Wales's (EHC plan -> individual development plan) when the question names Wales.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from assistant.retrieval import STOPWORDS

logger = logging.getLogger(__name__)

_FOLLOW_UP = re.compile(
    r"^(and|but|also|so|or|what about|how about|what if|and what|what else|in that case|"
    r"same for|is that|does that|do they|is it|are they|does it|can they|why)\b",
    re.I,
)
_PRONOUN = re.compile(r"\b(it|they|them|this|that|these|those|there|its|their|such)\b", re.I)
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_QUESTION_WORDS = {
    "what",
    "who",
    "whom",
    "when",
    "where",
    "why",
    "how",
    "which",
    "does",
    "do",
    "is",
    "are",
    "can",
    "must",
    "should",
    "will",
    "would",
    "tell",
    "me",
}

CONDENSE_PROMPT = (
    "Rewrite the last question so that it can be understood without the conversation. "
    "Reply with the rewritten question only.\n\nConversation:\n{history}\n\n"
    "Last question: {question}\nRewritten question:"
)


def is_follow_up(question: str, vocab: Any) -> bool:
    """Does the question lean on an earlier one ("and in Wales?", "what does it cost?")?"""
    terms = vocab.terms(question)
    return bool(
        _FOLLOW_UP.match(question.strip())
        or len(terms) <= 1
        or (_PRONOUN.search(question) and len(terms) <= 3)
    )


def key_words(question: str) -> list[str]:
    """The previous question's informative words, as written."""
    words = []
    for word in _WORD.findall(question):
        lower = word.lower()
        if lower in STOPWORDS or lower in _QUESTION_WORDS or len(word) < 2:
            continue
        if word not in words:
            words.append(word)
    return words


def standalone_question(
    question: str, history: list[str] | None, vocab: Any, llm: Any = None
) -> str:
    """The question as a standalone query (unchanged when it is not a follow-up)."""
    if not history or not is_follow_up(question, vocab):
        return question
    if llm is not None:
        try:
            convo = "\n".join(f"User: {h}" for h in history[-3:])
            reply = llm.complete(CONDENSE_PROMPT.format(history=convo, question=question))
            rewritten = (
                str(reply.text).strip().splitlines()[0].strip() if str(reply.text).strip() else ""
            )
            if 3 <= len(rewritten) <= 300:
                return rewritten
        except Exception as e:  # the simple method below still works
            logger.warning("LLM rewrite failed (%s); carrying key words instead", e)
    carried = [w for w in key_words(history[-1]) if w.lower() not in question.lower()]
    return f"{question} ({' '.join(carried)})" if carried else question
