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
import uuid
from collections import deque
from pathlib import Path
from typing import Any

import assistant  # noqa: F401  (must come first: offline, no telemetry, before gradio loads)
from assistant.access import AccessError, authenticator, hash_password
from assistant.answer import EMPTY_QUESTION
from assistant.core import Assistant, build_assistant
from assistant.errors import AssistantError, BackendError
from assistant.export import STATUS_WORDS, answer_markdown, conversation_markdown, write_docx
from assistant.feedback import NOTICE, REASONS, FeedbackStore, settings_version
from assistant.pack import build_pack, pack_markdown, write_pack_docx
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


def _marker_links(text: str, turn: int) -> str:
    """Turn [n] markers into links to that answer's source card (answers are numbered from 1,
    so [1] of the third answer opens #src-3-1, not the first answer's passage)."""
    return re.sub(r"\[(\d+)\]", rf"[[\1]](#src-{turn}-\1)", text)


def _highlight(text: str, highlights: tuple[str, ...], words: tuple[str, ...] = ()) -> str:
    """The passage as HTML: quoted sentences marked, and the question's own informative
    words in bold wherever they occur (outside tags)."""
    escaped = html.escape(_unlisted(_plain(text)))
    for sentence in sorted(set(highlights), key=len, reverse=True):
        needle = html.escape(_unlisted(_plain(sentence)))
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


def source_card(source: Source, words: tuple[str, ...] = (), turn: int = 1) -> str:
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
        f'<div class="src-card" id="src-{turn}-{source.n}">'
        f"<h4>[{source.n}] {html.escape(heading)}</h4>"
        f'<div class="src-meta">{subtitle}{html.escape(source.section)}{page}<br>'
        f'<span class="badge">{html.escape(source.jurisdiction)}</span>'
        f'<span class="badge{law}">{html.escape(label)}</span>{force_badges}</div>'
        f'<div class="src-text">{_highlight(source.text, source.highlights, words)}</div></div>'
    )


def sources_html(answer: Answer, turn: int = 1) -> str:
    """One answer's passages, under a heading that names the answer."""
    heading = (
        "Nearest passages (they do not answer the question)" if answer.refused else "Cited passages"
    )
    title = html.escape(answer.question[:120])
    head = f'<h3>Answer {turn}: {title}</h3><p class="src-meta">{heading}</p>'
    if not answer.sources:
        return f'<section class="turn" id="turn-{turn}">{head}<p><em>No passages to show.</em></p></section>'
    words = question_words(answer.question)
    cards = "".join(source_card(s, words, turn) for s in answer.sources)
    return f'<section class="turn" id="turn-{turn}">{head}{cards}</section>'


EMPTY_PANEL = "<p><em>Sources appear here.</em></p>"


def panel_html(answers: list[Answer]) -> str:
    """Every answer's own passages, the newest first: the [n] links of an earlier answer
    still open that answer's passages."""
    if not answers:
        return EMPTY_PANEL
    return "".join(sources_html(a, i) for i, a in reversed(list(enumerate(answers, 1))))


# the same fixed words as the exports, in bold in the chat
STATUS_LABELS = {status: f"**{words}**" if words else "" for status, words in STATUS_WORDS.items()}


_EMPHASIS = re.compile(r"(\*{1,2}|_{2})(\S(?:.*?\S)?)\1")


def _unlisted(text: str) -> str:
    """Text without the '- ' list markers the loaders keep at line starts: on screen each
    line stays a line ('(4) ...', '(a) ...'), with no bullet or stray '◦' of its own."""
    return re.sub(r"(?m)^[ \t]*[-•◦▪]\s+", "", text)


def _plain(text: str) -> str:
    """Document text without its Markdown emphasis ('“*nursery education*”' in the Acts)."""
    return _EMPHASIS.sub(r"\2", text)


def _as_text(markdown: str) -> str:
    """Quoted document text shown as text: no Markdown or HTML of its own is rendered."""
    markdown = _plain(markdown)
    return re.sub(r"([\\`*_{}<>#|!~])", r"\\\1", markdown).replace("](", "]\\(")


# the legal force of a quoted sentence, as a short label after its [n] in the chat
FORCE_TAGS = {
    "duty": "duty",
    "prohibition": "duty: must not",
    "power": "power",
    "statutory-requirement": "requirement",
    "statutory-guidance": "have regard",
    "practice": "practice",
    "research": "research",
    "case-study": "case study",
}
_MARKER = re.compile(r"\[(\d+)\]")


def _force_of(line: str, sources: dict[int, Source], n: int) -> str:
    """The legal force of the quote on ``line`` cited as [n] (its source's highlight there)."""
    source = sources.get(n)
    if source is None:
        return ""
    text = _MARKER.sub("", line)
    for quote, force in zip(source.highlights, source.forces, strict=False):
        if quote and (quote in text or text.strip(" -") in quote):
            return FORCE_TAGS.get(force, "")
    forces = {FORCE_TAGS.get(f, "") for f in source.forces}
    return forces.pop() if len(forces) == 1 else ""


def _with_force_tags(text: str, answer: Answer) -> str:
    """Each line's [n] followed by the legal force of what it quotes: '[1] ⟦duty⟧' (shown as
    a small label; the brackets are not escaped as Markdown, so they mark our text only)."""
    by_n = {s.n: s for s in answer.sources}
    lines = []
    for line in text.split("\n"):

        def tag(m: re.Match[str], line: str = line) -> str:
            force = _force_of(line, by_n, int(m.group(1)))
            return f"{m.group(0)} ⟦{force}⟧" if force else m.group(0)

        lines.append(_MARKER.sub(tag, line))
    return "\n".join(lines)


def render(answer: Answer, turn: int = 1) -> tuple[str, str]:
    """(chat message in Markdown, that answer's sources as HTML) for answer number ``turn``."""
    text = _unlisted(answer.text)
    if not answer.refused:
        text = _with_force_tags(text, answer)
    body = _as_text(text)
    if not answer.refused:
        body = _marker_links(body, turn)
        body = re.sub(r"⟦([a-z: ]+)⟧", r"<sub>\1</sub>", body)
    label = STATUS_LABELS.get(answer.status, "")
    if label:
        body = f"{label}\n\n{body}"
    if answer.refused and answer.sources:
        body += "\n\nThe nearest passages are listed under Sources, so you can check for yourself."
    if answer.notice:
        body += "\n\n*" + _as_text(answer.notice) + "*"
    if answer.advice:
        body += "\n\n*" + _as_text(answer.advice).replace("\n", "*\n\n*") + "*"
    return body, sources_html(answer, turn)


def documents_html(bot: Assistant) -> str:
    """The loaded documents: title, country, type, version, passages, licence."""
    docs = bot.retriever.chunk_map.documents  # counted once per index, not per page view
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


MAX_QUESTION_NOTE = (
    "*Your question was longer than {limit:,} characters; only the first {limit:,} were used.*"
)


def respond_stream(
    bot: Assistant,
    message: str,
    history: list[dict] | None,
    country: str = "Wales and England",
    types: str = "All documents",
    answers: list[Answer] | None = None,
):
    """Answer one chat turn, streaming a generated answer as it is written; the checked
    answer replaces the draft when it is done. Yields (chat, sources panel, question box,
    answers so far). Never raises to the browser."""
    history = list(history or [])
    answers = list(answers or [])
    message = message or ""
    if not message.strip():
        yield (
            history + [{"role": "assistant", "content": EMPTY_QUESTION}],
            panel_html(answers),
            "",
            answers,
        )
        return
    past = _past_questions(history)
    turn = history + [{"role": "user", "content": html.escape(message)}]
    limit = bot.settings.answer.max_question_chars
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
                    answers,
                )
            else:
                answers.append(event)
                body, _ = render(event, len(answers))
                if len(message) > limit:
                    body = MAX_QUESTION_NOTE.format(limit=limit) + "\n\n" + body
    except Exception:
        logger.exception("failed to answer %r", message[:100])
        body = "Sorry, something went wrong while answering. Please try again or rephrase."
    yield turn + [{"role": "assistant", "content": body}], panel_html(answers), "", answers


def respond(
    bot: Assistant,
    message: str,
    history: list[dict] | None,
    country: str = "Wales and England",
    types: str = "All documents",
    answers: list[Answer] | None = None,
) -> tuple[list[dict], str, str, list[Answer]]:
    """One chat turn, finished (the last thing respond_stream yields)."""
    return deque(respond_stream(bot, message, history, country, types, answers), maxlen=1)[0]


def answer_of_message(history: list[dict], index: Any, answers: list[Answer]) -> Answer | None:
    """The answer behind chat message ``index`` (Gradio's like event gives the message's
    position): the k-th assistant message that carries an answer is answers[k]."""
    position = index[0] if isinstance(index, list | tuple) else index
    if not isinstance(position, int) or not 0 <= position < len(history):
        return None
    if _plain_text(history[position].get("content")) == EMPTY_QUESTION:
        return None  # the note asking for a question is not an answer
    k = sum(
        1
        for m in history[: position + 1]
        if m.get("role") == "assistant" and _plain_text(m.get("content")) != EMPTY_QUESTION
    )
    return answers[k - 1] if 0 < k <= len(answers) else None


def export_files(answers: list[Answer], folder: Path) -> tuple[str, str]:
    """The conversation as Markdown and DOCX files in ``folder`` (for the download buttons)."""
    folder.mkdir(parents=True, exist_ok=True)
    title = "ALN & SEND guidance assistant: conversation"
    md = folder / "conversation.md"
    md.write_text(conversation_markdown(answers, title), encoding="utf-8")
    docx = write_docx(answers, folder / "conversation.docx", title)
    return str(md), str(docx)


SCROLL_TO_ANSWER = """() => {
  const rows = document.querySelectorAll('#chat .message-row, #chat [data-testid="bot"], #chat .message');
  const last = rows[rows.length - 1];
  if (last) last.scrollIntoView({block: 'start'});
}"""


def build_app(bot: Assistant, settings: Settings):
    import gradio as gr

    feedback = FeedbackStore(settings.app.feedback_path)
    version = settings_version(settings)

    with gr.Blocks(title="ALN & SEND guidance assistant") as demo:
        gr.Markdown(
            "## ALN (Wales) & SEND (England) guidance assistant\n"
            "Answers come only from the guidance documents and legislation in the corpus, and "
            "every sentence cites its passage [n]. Check the passage before you rely on it: "
            "**legislation** states legal duties; practice guidance and case studies describe "
            "good practice."
        )
        answers = gr.State([])
        session = gr.State("")
        rated = gr.State(0)
        with gr.Tab("Ask"):
            with gr.Row():
                with gr.Column(scale=3):
                    chat = gr.Chatbot(
                        label="Answers",
                        height=440,
                        elem_id="chat",
                        autoscroll=False,
                        buttons=["copy"],
                        feedback_options=["Like", "Dislike"],
                    )
                    question = gr.Textbox(
                        label="Your question",
                        placeholder="e.g. When do I step back?",
                        lines=1,
                        max_lines=4,
                    )
                    ask = gr.Button("Ask", variant="primary")
                    with gr.Row():
                        country = gr.Dropdown(
                            list(COUNTRIES), value="Wales and England", label="Country"
                        )
                        doc_types = gr.Dropdown(
                            list(TYPE_CHOICES), value="All documents", label="Documents"
                        )
                    with gr.Accordion("Example questions", open=False):
                        examples = gr.Examples(EXAMPLES, inputs=question, label=None)
                    with gr.Group(visible=False) as feedback_form:
                        gr.Markdown("**Thanks. What was wrong or right?** " + NOTICE)
                        reason = gr.Radio(list(REASONS), label="Reason")
                        comment = gr.Textbox(label="Comment (optional)", lines=2, max_lines=6)
                        send = gr.Button("Send feedback")
                    feedback_status = gr.Markdown("", elem_id="feedback-status")
                with gr.Column(scale=2):
                    panel = gr.HTML(EMPTY_PANEL, label="Sources", elem_id="sources")
                    with gr.Accordion("Copy or export", open=False):
                        copy_md = gr.Textbox(
                            label="Last answer as Markdown, with its sources",
                            lines=6,
                            max_lines=20,
                            buttons=["copy"],
                            elem_id="copy-md",
                        )
                        with gr.Row():
                            download_md = gr.DownloadButton(
                                "Download conversation (Markdown)", elem_id="download-md"
                            )
                            download_docx = gr.DownloadButton(
                                "Download conversation (DOCX)", elem_id="download-docx"
                            )
                    with gr.Accordion("Documents in the index", open=False):
                        gr.HTML(documents_html(bot))
        with gr.Tab("Prepare a session"):
            gr.Markdown(
                "A topic in, a session pack out: what the law requires in each country, key "
                "points from guidance, a case study, discussion prompts and a quiz. Every point "
                "is a quote from the documents with its source; only the prompt and quiz "
                "wording is fixed text."
            )
            topic = gr.Textbox(label="Session topic", placeholder="e.g. stepping back")
            make = gr.Button("Make pack", variant="primary")
            pack_view = gr.Markdown("", elem_id="pack")
            with gr.Row():
                pack_md = gr.DownloadButton("Download pack (Markdown)", elem_id="pack-md")
                pack_docx = gr.DownloadButton("Download pack (DOCX)", elem_id="pack-docx")

        def _respond(message, history, country_choice, type_choice, done, sid):
            sid = sid or uuid.uuid4().hex
            pending = None
            for out in respond_stream(bot, message, history, country_choice, type_choice, done):
                if pending is not None:  # a draft being written: the exports stay as they are
                    yield (*pending, sid, gr.skip(), gr.skip(), gr.skip())
                pending = out
            chat_value, panel_value, box, now = pending
            # the finished answer and its exports in one update: a later update would clear
            # the question box again and wipe a question typed meanwhile
            if now:
                md, docx = export_files(now, settings.app.exports_dir / sid)
                yield chat_value, panel_value, box, now, sid, answer_markdown(now[-1]), md, docx
            else:
                yield chat_value, panel_value, box, now, sid, "", None, None

        inputs = [question, chat, country, doc_types, answers, session]
        outputs = [chat, panel, question, answers, session, copy_md, download_md, download_docx]
        # always_last: a question asked while the previous answer is still being finished
        # (its exports written) is answered next, not dropped (Gradio's default drops it)
        for trigger in (ask.click, question.submit):
            trigger(
                _respond,
                inputs,
                outputs,
                api_name="ask" if trigger == ask.click else False,
                trigger_mode="always_last",
            ).then(None, None, None, js=SCROLL_TO_ANSWER)
        # an example question is asked when clicked, not just copied into the box
        examples.load_input_event.then(_respond, inputs, outputs, api_name=False).then(
            None, None, None, js=SCROLL_TO_ANSWER
        )

        def _clear():
            return (
                [],
                EMPTY_PANEL,
                "",
                [],
                "",
                None,
                None,
                gr.update(visible=False),
                "",
            )

        cleared = [chat, panel, question, answers, copy_md, download_md, download_docx]
        cleared += [feedback_form, feedback_status]
        chat.clear(_clear, None, cleared, api_name=False)  # the chat's own "Clear" (bin) button

        def _rate(history, done, data: gr.LikeData):
            answer = answer_of_message(history or [], data.index, done or [])
            if answer is None:
                return 0, gr.update(visible=False), ""
            row = feedback.record(answer, bool(data.liked), version)
            return row, gr.update(visible=True), "Feedback saved."

        _rate.__annotations__["data"] = gr.LikeData  # a real class: Gradio reads the hint
        chat.like(_rate, [chat, answers], [rated, feedback_form, feedback_status], api_name=False)

        def _annotate(row, why, text):
            if not row:
                return gr.update(visible=False), "Rate an answer first (thumbs up or down)."
            feedback.annotate(row, why or "", text or "")
            return gr.update(visible=False), "Feedback saved, with your reason. Thank you."

        send.click(
            _annotate, [rated, reason, comment], [feedback_form, feedback_status], api_name=False
        )

        def _pack(text, sid):
            sid = sid or uuid.uuid4().hex
            try:
                made = build_pack(bot, text, settings.pack)
            except ValueError as e:
                return str(e), None, None, sid
            folder = settings.app.exports_dir / sid
            folder.mkdir(parents=True, exist_ok=True)
            md = folder / "session-pack.md"
            md.write_text(pack_markdown(made), encoding="utf-8")
            docx = write_pack_docx(made, folder / "session-pack.docx")
            return _as_pack_view(pack_markdown(made)), str(md), str(docx), sid

        make.click(
            _pack, [topic, session], [pack_view, pack_md, pack_docx, session], api_name="pack"
        )
        topic.submit(
            _pack, [topic, session], [pack_view, pack_md, pack_docx, session], api_name=False
        )
    demo.queue(default_concurrency_limit=settings.app.concurrency, max_size=settings.app.queue_size)
    return demo


def _as_pack_view(markdown: str) -> str:
    """The pack's Markdown for display: headings and list structure kept, quoted document text
    shown as text (no HTML of its own rendered)."""
    return re.sub(r"<", "&lt;", markdown)


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
