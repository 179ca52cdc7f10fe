"""Thumbs up / down on answers, stored in SQLite under .data/ for review.

One row per rating: the question, the answer text, its citations (JSON), the rating, an
optional reason and comment, the settings version and the time, and nothing else (no user
name, no address, no session). The app shows a fixed notice not to type a child's personal
details. `python -m evals feedback` turns the rated questions into candidate gold entries.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.types import Answer

REASONS = (
    "wrong country",
    "wrong or missing citation",
    "did not answer",
    "out of date",
    "other",
)
NOTICE = "Please do not type a child's name or any other personal details in questions or comments."

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created TEXT NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    status TEXT NOT NULL,
    citations TEXT NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    reason TEXT NOT NULL DEFAULT '',
    comment TEXT NOT NULL DEFAULT '',
    settings_version TEXT NOT NULL
)
"""


def settings_version(settings: Any) -> str:
    """A short, stable hash of the settings an answer was made with."""
    dumped = json.dumps(settings.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(dumped.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Rating:
    id: int
    created: str
    question: str
    answer: str
    status: str
    citations: list[dict[str, Any]]
    rating: str
    reason: str
    comment: str
    settings_version: str


class FeedbackStore:
    """A small SQLite table; safe to call from Gradio's worker threads."""

    def __init__(self, path: Path, max_comment_chars: int = 2000):
        self.path = Path(path)
        self.max_comment_chars = max_comment_chars
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10)

    def record(self, answer: Answer, liked: bool, version: str) -> int:
        """Store a rating of ``answer``; returns its row id (to add a reason to later)."""
        citations = [
            {k: c[k] for k in ("n", "doc_id", "cite", "pinpoint", "section", "jurisdiction")}
            | {"quotes": [q["text"] for q in c["quotes"]]}
            for c in (s.to_citation() for s in answer.sources)
        ]
        with self._lock, self._connect() as db:
            cur = db.execute(
                "INSERT INTO feedback (created, question, answer, status, citations, rating,"
                " settings_version) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    answer.question,
                    answer.text,
                    answer.status,
                    json.dumps(citations, ensure_ascii=False),
                    "up" if liked else "down",
                    version,
                ),
            )
            return int(cur.lastrowid)

    def annotate(self, row_id: int, reason: str, comment: str) -> None:
        """Add the reason (one of REASONS) and a comment to a stored rating."""
        if reason and reason not in REASONS:
            raise ValueError(f"unknown reason {reason!r}: choose one of {', '.join(REASONS)}")
        with self._lock, self._connect() as db:
            db.execute(
                "UPDATE feedback SET reason = ?, comment = ? WHERE id = ?",
                (reason or "", (comment or "")[: self.max_comment_chars], row_id),
            )

    def ratings(self) -> list[Rating]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT id, created, question, answer, status, citations, rating, reason,"
                " comment, settings_version FROM feedback ORDER BY id"
            ).fetchall()
        return [Rating(*r[:5], json.loads(r[5]), *r[6:]) for r in rows]


__all__ = ["NOTICE", "REASONS", "FeedbackStore", "Rating", "settings_version"]
