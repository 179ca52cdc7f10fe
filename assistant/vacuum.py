"""`python -m assistant.vacuum STORE_DIR`: give back the disk a dropped index generation used.

Chroma deletes a collection's rows but can leave its HNSW folder behind, and SQLite reuses
freed pages but never returns them, so without this every ingest grows the store. Run by
ingest in a child process (never import this into a process that has a Chroma client open:
see store.reclaim_disk). A `chroma run` server manages its own files.
"""

from __future__ import annotations

import shutil
import sqlite3
import sys
import uuid
from pathlib import Path


def _is_uuid(name: str) -> bool:
    try:
        uuid.UUID(name)
    except ValueError:
        return False
    return True


def vacuum(root: Path) -> str:
    db = root / "chroma.sqlite3"
    if not db.is_file():
        return ""
    con = sqlite3.connect(str(db), timeout=30)
    try:
        live = {row[0] for row in con.execute("SELECT id FROM segments")}
        removed = 0
        for folder in root.iterdir():
            if folder.is_dir() and _is_uuid(folder.name) and folder.name not in live:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        try:  # merge the full-text index's segments, which keep deleted rows' entries
            con.execute(
                "INSERT INTO embedding_fulltext_search(embedding_fulltext_search) "
                "VALUES('optimize')"
            )
            con.commit()
        except sqlite3.Error:
            pass
        before = db.stat().st_size
        con.execute("VACUUM")
    finally:
        con.close()
    return (
        f"store compacted: {removed} orphan segment folder(s) removed, "
        f"{before / 1e6:.1f} -> {db.stat().st_size / 1e6:.1f} MB"
    )


if __name__ == "__main__":
    try:
        print(vacuum(Path(sys.argv[1])))
    except sqlite3.Error as e:
        print(
            f"{e} (a reader held the store; it will be compacted at the next ingest)",
            file=sys.stderr,
        )
        sys.exit(1)
