"""`python -m evals feedback`: the app's rated answers as candidate gold entries for review.

Each rating becomes a YAML entry in the gold format with what a reviewer needs to decide: the
question as asked, the rating, reason and comment, and the passages the answer cited (as
candidate evidence quotes). Nothing here is added to a split: a person reviews the entries,
writes the key facts from the documents and puts each one in dev or test.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

import assistant  # noqa: F401  (offline, no telemetry)
from assistant.feedback import FeedbackStore
from assistant.settings import load_settings


def candidates(store: FeedbackStore) -> list[dict]:
    out = []
    for r in store.ratings():
        evidence = [
            {"doc": c["doc_id"], "quote": c["quotes"][0], "cite": c.get("cite", "")}
            for c in r.citations
            if c.get("quotes")
        ]
        out.append(
            {
                "id": f"fb{r.id:04d}",
                "persona": "unknown",
                "kind": "feedback",
                "question": r.question,
                "review": {
                    "rating": r.rating,
                    "reason": r.reason,
                    "comment": r.comment,
                    "status": r.status,
                    "answer": r.answer,
                    "created": r.created,
                    "settings_version": r.settings_version,
                },
                "candidate_evidence": evidence,
                "key_facts": [],
            }
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals feedback", description=__doc__)
    parser.add_argument("--settings", type=Path, help="YAML settings profile")
    parser.add_argument("--db", type=Path, help="feedback SQLite file (default from settings)")
    parser.add_argument("--out", type=Path, help="YAML file to write (default: stdout)")
    args = parser.parse_args(argv)
    path = args.db or load_settings(args.settings).app.feedback_path
    if not path.is_file():
        print(
            f"error: no feedback file at {path}: rate an answer in the app first", file=sys.stderr
        )
        return 2
    entries = candidates(FeedbackStore(path))
    text = (
        "# Candidate gold entries from app feedback: review each, write key facts from the\n"
        "# documents (never the question's words), then move it into dev or test.\n"
        + yaml.safe_dump(entries, sort_keys=False, allow_unicode=True, width=100)
    )
    if args.out:
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {len(entries)} candidate entries to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
