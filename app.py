"""The Gradio app: a chat page whose every answer shows the passages it cites.

`python app.py [--settings FILE]` serves http://127.0.0.1:7860 (bound to loopback; Gradio
analytics and Chroma telemetry off). The assistant is built once at start-up and shared by
all users; Gradio's queue answers several at once.
"""

from __future__ import annotations

import argparse
import html
import logging
import re
import sys
from collections import deque
from pathlib import Path
from typing import Any

import assistant  # noqa: F401  (must come first: offline, no telemetry, before gradio loads)
from assistant.access import AccessError, authenticator, hash_password
from assistant.core import Assistant, build_assistant
from assistant.errors import AssistantError, BackendError
from assistant.pinpoint import FORCE_LABELS
from assistant.settings import Settings, add_llm_arguments, llm_overrides, load_settings
from assistant.text import STOPWORDS
from assistant.types import Answer, Scope, Source, Token

logger = logging.getLogger("app")

EXAMPLES = [
    "When do I step in and when do I step back?",  # practitioner
    "What does STEP training involve?",  # practitioner
    "Who must designate an additional learning needs co-ordinator in Wales?",  # ALNCo
    "What qualification must a new SENCO hold?",  # SENCO (England)
    "Give me a case study about transitions from nursery to Reception",  # trainer
    "What challenges did the Ealing training programme face?",  # trainer
]

DOC_TYPE_LABELS = {
    "legislation": "Legislation: states legal duties",
    "statutory-guidance": "Statutory guidance: 'must' is a legal requirement, 'should' must be "
    "considered",
    "practice-guidance": "Practice guidance: good practice, not a legal duty",
    "research": "Research report: evidence, not a legal duty",
    "case-study": "Case study / project report: one area's practice",
    "unspecified": "Type not stated",
}

CSS = """
.src-card { border: 1px solid #d0d7de; border-radius: 8px; padding: 10px 12px; margin: 8px 0; }
.src-card h4 { margin: 0 0 4px 0; }
.src-meta { font-size: 0.85em; color: #57606a; margin-bottom: 6px; }
.badge { display: inline-block; padding: 1px 6px; border-radius: 10px; font-size: 0.8em;
         background: #eef; margin-right: 4px; }
.badge.law { background: #fde2c4; }
.badge.force { background: #e2f0d9; }
.src-text { white-space: pre-wrap; font-size: 0.92em; }
.src-text mark { background: #fff3a3; }
"""


def _marker_links(text: str) -> str:
    """Turn [n] markers into links to the matching source card."""
    return re.sub(r"\[(\d+)\]", r"[[\1]](#src-\1)", text)


def _highlight(text: str, highlights: tuple[str, ...], words: tuple[str, ...] = ()) -> str:
    """The passage as HTML: quoted sentences marked, and the question's own informative
    words in bold wherever they occur (outside tags)."""
    escaped = html.escape(_plain(text))
    for sentence in sorted(set(highlights), key=len, reverse=True):
        needle = html.escape(_plain(sentence))
        if needle and needle in escaped:
            escaped = escaped.replace(needle, f"<mark>{needle}</mark>", 1)
    if words:
        pattern = re.compile(
            r"(?<![\w&])(" + "|".join(re.escape(w) for w in words) + r")(?![\w;])", re.I
        )
        parts = re.split(r"(<[^>]+>)", escaped)
        escaped = "".join(p if p.startswith("<") else pattern.sub(r"<b>\1</b>", p) for p in parts)
    return escaped


def question_words(question: str) -> tuple[str, ...]:
    """The question's informative words (no stopwords, at least 4 letters)."""
    words = re.findall(r"[A-Za-z][A-Za-z'’-]{3,}", question or "")
    return tuple(dict.fromkeys(w for w in words if w.lower() not in STOPWORDS))


def source_card(source: Source, words: tuple[str, ...] = ()) -> str:
    """One cited passage as an HTML card with its document, section, country and type."""
    label = DOC_TYPE_LABELS.get(source.doc_type, source.doc_type)
    law = " law" if source.doc_type in ("legislation", "statutory-guidance") else ""
    page = f" · page {source.page}" if source.page else ""
    forces = [FORCE_LABELS.get(f, "") for f in dict.fromkeys(source.forces)]
    force_badges = "".join(
        f'<span class="badge force">{html.escape(f)}</span>' for f in forces if f
    )
    heading = source.cite or source.title
    subtitle = f"{html.escape(source.title)}<br>" if heading != source.title else ""
    return (
        f'<div class="src-card" id="src-{source.n}">'
        f"<h4>[{source.n}] {html.escape(heading)}</h4>"
        f'<div class="src-meta">{subtitle}{html.escape(source.section)}{page}<br>'
        f'<span class="badge">{html.escape(source.jurisdiction)}</span>'
        f'<span class="badge{law}">{html.escape(label)}</span>{force_badges}</div>'
        f'<div class="src-text">{_highlight(source.text, source.highlights, words)}</div></div>'
    )


def sources_html(answer: Answer) -> str:
    if not answer.sources:
        return "<p><em>No passages to show.</em></p>"
    heading = (
        "Nearest passages (they do not answer the question)" if answer.refused else "Cited passages"
    )
    words = question_words(answer.question)
    return f"<h3>{heading}</h3>" + "".join(source_card(s, words) for s in answer.sources)


STATUS_LABELS = {
    "answered": "",
    "partial": "**Partly answered** by the documents.",
    "not_found": "**Not found** in the documents.",
    "out_of_scope": "**Outside what these documents cover.**",
}


_EMPHASIS = re.compile(r"(\*{1,2}|_{2})(\S(?:.*?\S)?)\1")


def _plain(text: str) -> str:
    """Document text without its Markdown emphasis ('“*nursery education*”' in the Acts)."""
    return _EMPHASIS.sub(r"\2", text)


def _as_text(markdown: str) -> str:
    """Quoted document text shown as text: no Markdown or HTML of its own is rendered."""
    markdown = _plain(markdown)
    return re.sub(r"([\\`*_{}<>#|!~])", r"\\\1", markdown).replace("](", "]\\(")


def render(answer: Answer) -> tuple[str, str]:
    """(chat message in Markdown, sources panel HTML) for one answer."""
    body = _as_text(answer.text)
    if not answer.refused:
        body = _marker_links(body)
    label = STATUS_LABELS.get(answer.status, "")
    if label:
        body = f"{label}\n\n{body}"
    if answer.refused and answer.sources:
        body += "\n\nThe nearest passages are listed under Sources, so you can check for yourself."
    if answer.notice:
        body += "\n\n*" + _as_text(answer.notice) + "*"
    if answer.advice:
        body += "\n\n*" + _as_text(answer.advice).replace("\n", "*\n\n*") + "*"
    return body, sources_html(answer)


def documents_html(bot: Assistant) -> str:
    """The loaded documents: title, country, type, version, passages, licence."""
    docs: dict[str, dict[str, Any]] = {}
    for node in bot.nodes:
        meta = node.metadata
        entry = docs.setdefault(str(meta.get("doc_id", "")), {"meta": meta, "passages": 0})
        entry["passages"] += 1
    rows = []
    for entry in sorted(docs.values(), key=lambda e: str(e["meta"].get("title", ""))):
        meta = entry["meta"]
        version = meta.get("source_version") or meta.get("retrieved") or ""
        cells = [
            meta.get("cite_as") or meta.get("title", ""),
            meta.get("jurisdiction", ""),
            DOC_TYPE_LABELS.get(str(meta.get("doc_type")), meta.get("doc_type", "")),
            version,
            entry["passages"],
            meta.get("licence", ""),
        ]
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    head = "".join(
        f"<th>{h}</th>" for h in ("Document", "Country", "Type", "Version", "Passages", "Licence")
    )
    return f'<table class="docs"><tr>{head}</tr>{"".join(rows)}</table>'


def _plain_text(content: Any) -> str:
    """A chat message's text whatever Gradio's message format: a string, a {"text": ...}
    part, or a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text") or content.get("content") or "")
    if isinstance(content, list | tuple):
        return " ".join(_plain_text(part) for part in content).strip()
    return ""


def _past_questions(history: list[dict]) -> list[str]:
    return [_plain_text(m.get("content", "")) for m in history if m.get("role") == "user"]


COUNTRIES = {"Wales and England": None, "Wales only": "Wales", "England only": "England"}
TYPE_CHOICES = {
    "All documents": (),
    "Legislation only": ("legislation",),
    "Legislation and statutory guidance": ("legislation", "statutory-guidance"),
    "Statutory guidance only": ("statutory-guidance",),
    "Practice guidance, research and case studies": ("practice-guidance", "research", "case-study"),
}


def respond_stream(
    bot: Assistant,
    message: str,
    history: list[dict] | None,
    country: str = "Wales and England",
    types: str = "All documents",
):
    """Answer one chat turn, streaming a generated answer as it is written; the checked
    answer replaces the draft when it is done. Never raises to the browser."""
    history = list(history or [])
    past = _past_questions(history)
    turn = history + [{"role": "user", "content": html.escape(message or "")}]
    draft = ""
    try:
        scope = Scope(COUNTRIES.get(country), TYPE_CHOICES.get(types, ()))
        for event in bot.stream(message, past, scope):
            if isinstance(event, Token):
                draft += event.text
                yield (
                    turn
                    + [
                        {
                            "role": "assistant",
                            "content": draft + "\n\n*(draft: checking citations…)*",
                        }
                    ],
                    "<p><em>Checking…</em></p>",
                    "",
                )
            else:
                body, panel = render(event)
    except Exception:
        logger.exception("failed to answer %r", (message or "")[:100])
        body = "Sorry, something went wrong while answering. Please try again or rephrase."
        panel = "<p><em>No passages to show.</em></p>"
    yield turn + [{"role": "assistant", "content": body}], panel, ""


def respond(
    bot: Assistant,
    message: str,
    history: list[dict] | None,
    country: str = "Wales and England",
    types: str = "All documents",
) -> tuple[list[dict], str, str]:
    """One chat turn, finished (the last thing respond_stream yields)."""
    return deque(respond_stream(bot, message, history, country, types), maxlen=1)[0]


def build_app(bot: Assistant, settings: Settings):
    import gradio as gr

    with gr.Blocks(title="ALN & SEND guidance assistant") as demo:
        gr.Markdown(
            "## ALN (Wales) & SEND (England) guidance assistant\n"
            "Answers come only from the guidance documents and legislation in the corpus, and "
            "every sentence cites its passage [n]. Check the passage before you rely on it: "
            "**legislation** states legal duties; practice guidance and case studies describe "
            "good practice."
        )
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(label="Answers", height=480)
                question = gr.Textbox(
                    label="Your question",
                    placeholder="e.g. When do I step back?",
                    lines=1,
                    max_lines=4,
                )
                with gr.Row():
                    ask = gr.Button("Ask", variant="primary")
                    clear = gr.Button("Clear")
                with gr.Row():
                    country = gr.Dropdown(
                        list(COUNTRIES), value="Wales and England", label="Country"
                    )
                    doc_types = gr.Dropdown(
                        list(TYPE_CHOICES), value="All documents", label="Documents"
                    )
                gr.Examples(EXAMPLES, inputs=question, label="Try one")
            with gr.Column(scale=2):
                panel = gr.HTML("<p><em>Sources appear here.</em></p>", label="Sources")
                with gr.Accordion("Documents in the index", open=False):
                    gr.HTML(documents_html(bot))

        def _respond(message, history, country_choice, type_choice):
            yield from respond_stream(bot, message, history, country_choice, type_choice)

        inputs = [question, chat, country, doc_types]
        ask.click(_respond, inputs, [chat, panel, question], api_name="ask")
        question.submit(_respond, inputs, [chat, panel, question], api_name=False)
        clear.click(
            lambda: ([], "<p><em>Sources appear here.</em></p>", ""),
            None,
            [chat, panel, question],
            api_name=False,
        )
    demo.queue(default_concurrency_limit=settings.app.concurrency, max_size=settings.app.queue_size)
    return demo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python app.py", description="Serve the chat app.")
    parser.add_argument("--settings", type=Path, help="YAML settings profile")
    parser.add_argument("--port", type=int, help="port (default from settings: 7860)")
    parser.add_argument(
        "--host", help="address to bind (default 127.0.0.1; any other needs app.users_file)"
    )
    parser.add_argument(
        "--hash-password",
        action="store_true",
        help="read a user name and password, print a users-file line, and exit",
    )
    add_llm_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.hash_password:
        import getpass

        user = input("user name: ").strip()
        print(f"{user}:{hash_password(getpass.getpass('password: '))}")
        return 0
    overrides = llm_overrides(args)
    if args.host:
        overrides["app"] = {"host": args.host}
    settings = load_settings(args.settings, **overrides)
    try:
        auth = authenticator(settings.app.host, settings.app.users_file)
    except AccessError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        bot = build_assistant(settings)
    except BackendError as e:
        if settings.answer.backend == "extractive":
            print(f"error: {e}", file=sys.stderr)
            return 2
        # the LLM cannot be used: serve the extractive answers rather than nothing
        print(f"warning: {e}\nwarning: falling back to the extractive answerer", file=sys.stderr)
        settings = settings.model_copy(
            update={"answer": settings.answer.model_copy(update={"backend": "extractive"})}
        )
        bot = build_assistant(settings)
    except AssistantError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    demo = build_app(bot, settings)
    demo.launch(
        server_name=settings.app.host,
        server_port=args.port or settings.app.port,
        share=False,
        css=CSS,
        auth=auth,
        auth_message="Sign in to the guidance assistant." if auth else None,
        max_file_size=settings.app.max_upload_bytes,  # no uploads: the app takes none
        strict_cors=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
