"""`python -m ingest [CORPUS_DIR] [--rebuild]`: bring the index in line with the corpus.

Exit status: 0 all ingested; 1 the index was updated but some files were skipped (named
with the reason); 2 ingest failed and the previous index is unchanged; 130 interrupted.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import assistant  # noqa: F401  (switches the libraries to offline, no telemetry)
from assistant.errors import AssistantError
from assistant.settings import load_settings
from ingest import recipe

EXIT_SKIPPED = 1  # the index is up to date except for the files named as FAILED
EXIT_FAILED = 2  # nothing changed: the previous index is still live


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ingest",
        description="Ingest the corpus folder into the ChromaDB index (unchanged files are skipped).",
    )
    parser.add_argument(
        "corpus_dir", nargs="?", type=Path, help="folder of documents (default: corpus/)"
    )
    parser.add_argument(
        "--rebuild", action="store_true", help="re-read and re-embed every document"
    )
    parser.add_argument("--settings", type=Path, help="YAML settings profile")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    try:
        settings = load_settings(args.settings)
        corpus = Path(args.corpus_dir or settings.corpus_dir)
        started = time.perf_counter()
        same = None if args.rebuild else recipe.unchanged_since_last(settings, corpus)
        if same is not None:  # nothing to do: said without loading LlamaIndex or Chroma
            print(
                f"added 0, updated 0, unchanged {len(same['hashes'])}, removed 0, failed 0; "
                f"{same['chunks']} chunks in the index (0 embedded now) in "
                f"{time.perf_counter() - started:.1f}s"
            )
            return 0
        from ingest.pipeline import run_ingest

        report = run_ingest(settings, corpus, rebuild=args.rebuild, progress=not args.quiet)
    except KeyboardInterrupt:
        print("interrupted: the previous index is unchanged and still usable", file=sys.stderr)
        return 130
    except (AssistantError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as e:  # anything else: say so plainly, the previous index is intact
        logging.getLogger("ingest").exception("ingest failed")
        print(
            f"error: ingest failed ({type(e).__name__}: {e}); the previous index is unchanged",
            file=sys.stderr,
        )
        return EXIT_FAILED
    print(report.summary())
    return EXIT_SKIPPED if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
