"""`python -m assistant ask "question" [--json]` and `python -m assistant ask --jsonl < questions`."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import assistant  # noqa: F401  (offline, no telemetry)
from assistant.errors import AssistantError
from assistant.pinpoint import DOC_TYPES
from assistant.settings import add_llm_arguments, llm_overrides, load_settings
from assistant.types import Answer, Scope, Token


def format_text(answer: Answer) -> str:
    """The answer and its numbered sources, for a terminal."""
    status = {
        "partial": "[partly answered] ",
        "not_found": "[not found] ",
        "out_of_scope": "[outside these documents] ",
    }.get(answer.status, "")
    lines = [status + answer.text, ""]
    if answer.sources:
        lines.append("Nearest passages:" if answer.refused else "Sources:")
    for s in answer.sources:
        page = f", p.{s.page}" if s.page else ""
        lines.append(
            f"[{s.n}] {s.cite or s.title} — {s.section}{page} ({s.jurisdiction}, {s.doc_type})"
        )
    if answer.notice:
        lines += ["", answer.notice]
    if answer.advice:
        lines += ["", answer.advice]
    return "\n".join(lines)


def _scope(country: str | None, doc_types: Any) -> Scope:
    """A Scope from CLI or JSON values ('wales', 'legislation,statutory-guidance')."""
    if isinstance(doc_types, str):
        doc_types = [t for t in doc_types.split(",") if t.strip()]
    types = tuple(str(t).strip().lower() for t in doc_types or ())
    unknown = [t for t in types if t not in DOC_TYPES]
    if unknown:
        raise ValueError(f"unknown document type {unknown}; choose from {sorted(DOC_TYPES)}")
    name = (country or "").strip().capitalize() or None
    if name not in (None, "Wales", "England"):
        raise ValueError(f"unknown country {country!r}: choose Wales or England")
    return Scope(name, types)


def _answer_jsonl(bot, lines, out, default: Scope | None = None) -> int:
    """Answer every valid {"id", "question"} line (read as bytes, so one bad byte loses one
    line, not the batch); report each invalid line on stderr. Exit 1 if any was invalid."""
    invalid = 0
    for number, raw in enumerate(lines, start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            print(
                f"error: line {number} is not UTF-8 (byte at offset {e.start}); skipped",
                file=sys.stderr,
            )
            invalid += 1
            continue
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict):
                raise ValueError("not an object")
        except ValueError as e:
            print(f"error: line {number} is not a JSON object ({e}); skipped", file=sys.stderr)
            invalid += 1
            continue
        try:
            scope = (
                _scope(item.get("country"), item.get("doc_types"))
                if "country" in item or "doc_types" in item
                else default
            )
        except ValueError as e:
            print(f"error: line {number}: {e}; skipped", file=sys.stderr)
            invalid += 1
            continue
        answer = bot.ask(item.get("question", ""), scope=scope)
        out.write(json.dumps(answer.to_json(item.get("id")), ensure_ascii=False) + "\n")
        out.flush()
    if invalid:
        print(f"{invalid} invalid line(s) skipped; the others were answered", file=sys.stderr)
    return 1 if invalid else 0


def _pack(args) -> int:
    from assistant.core import build_assistant
    from assistant.pack import build_pack, pack_markdown, write_pack_docx

    settings = load_settings(args.settings)
    try:
        bot = build_assistant(settings)
        made = build_pack(bot, args.topic, settings.pack)
    except (AssistantError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.out is None:
        print(pack_markdown(made))
    elif args.out.suffix.lower() == ".docx":
        write_pack_docx(made, args.out)
        print(f"wrote {args.out}")
    elif args.out.suffix.lower() in (".md", ".markdown", ".txt"):
        args.out.write_text(pack_markdown(made), encoding="utf-8")
        print(f"wrote {args.out}")
    else:
        print(f"error: --out must end in .docx or .md, not {args.out.suffix!r}", file=sys.stderr)
        return 2
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m assistant", description="Ask the guidance documents."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("ask", help="answer a question with cited sources")
    ask.add_argument("question", nargs="?", help="the question (omit with --jsonl)")
    mode = ask.add_mutually_exclusive_group()
    mode.add_argument("--json", action="store_true", help="print one JSON object")
    mode.add_argument(
        "--jsonl",
        action="store_true",
        help='read {"id", "question"} lines on stdin, write one JSON object per line',
    )
    ask.add_argument("--settings", type=Path, help="YAML settings profile")
    ask.add_argument(
        "--stream",
        action="store_true",
        help="print a generated answer as it is written (then the checked answer)",
    )
    ask.add_argument(
        "--country",
        choices=["Wales", "England", "wales", "england"],
        help="answer only from this country's documents",
    )
    ask.add_argument(
        "--doc-type",
        metavar="TYPES",
        help="answer only from these document types, comma-separated: "
        "legislation, statutory-guidance, practice-guidance, research, case-study",
    )
    add_llm_arguments(ask)
    pack = sub.add_parser(
        "pack",
        help="make a trainer pack for a topic: the law per country, guidance, a case "
        "study, discussion prompts and a quiz, every point cited",
    )
    pack.add_argument("topic", help='the session topic, e.g. "stepping back"')
    pack.add_argument(
        "--out", type=Path, help="write the pack here (.docx or .md); default: Markdown on stdout"
    )
    pack.add_argument("--settings", type=Path, help="YAML settings profile")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "pack":
        return _pack(args)

    if not args.jsonl and args.question is None:
        parser.error("give a question, or --jsonl to read questions from stdin")
    try:
        from assistant.core import build_assistant

        bot = build_assistant(load_settings(args.settings, **llm_overrides(args)))
    except AssistantError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    try:
        scope = _scope(args.country, args.doc_type)
    except ValueError as e:
        parser.error(str(e))
    if args.jsonl:
        return _answer_jsonl(bot, sys.stdin.buffer, sys.stdout, scope)
    if args.stream and not args.json:
        answer = None
        for event in bot.stream(args.question, scope=scope):
            if isinstance(event, Token):
                print(event.text, end="", flush=True)
            else:
                answer = event
        if answer.checker:
            print(
                f"\n\n--- checked ({answer.checker.get('unsupported_dropped', 0)} unsupported "
                "sentence(s) dropped) ---",
                flush=True,
            )
        print(format_text(answer))
        return 0
    answer = bot.ask(args.question, scope=scope)
    if answer.checker and answer.checker.get("fallback"):
        print(f"note: {answer.reason}", file=sys.stderr)
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False, indent=2))
    else:
        print(format_text(answer))
    return 0


def exit_now(code: int) -> NoReturn:
    """End the process without the interpreter's teardown. Freeing LlamaIndex's and Chroma's
    module graphs one object at a time took 0.7-1.0 s of a 4 s cold `ask` here, after the
    answer was printed. Output is flushed and logging shut down first, and nothing is left
    unwritten at this point: the index is only read, and files are closed where written."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):
            pass  # the reader went away (`| head`), or the stream was closed
    logging.shutdown()
    os._exit(code)


def run() -> NoReturn:
    """The command line: main(), then a quick exit. A reader that stops reading early
    (`python -m assistant ask ... | head -3`) ends the command quietly, not with a traceback."""
    try:
        code = main()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing left to flush
        code = 1
    exit_now(code)


if __name__ == "__main__":
    run()
