"""The resumable store: every finished prompt, saved as soon as its batch is done.

Why not only distilabel's own cache: distilabel 1.5.3 records a batch as done in its batch
manager right away but keeps up to 50 finished rows in an in-memory write buffer, so a run
killed hard (SIGKILL, a node lost, Slurm's time limit) resumes with those rows missing; and it
records a failed batch (filled with Nones) as done, so a rerun would not retry it. Here each
batch of finished prompts is one JSON Lines file written atomically (temporary file, fsync,
rename), keyed by the prompt's row index: a resumed run generates only the rows not in the
store, and because every row has its own seed the result is the same as an uninterrupted run's.
The store lives in a folder named after everything that affects a result (see
`pipeline.fingerprint`), so a changed model, dataset or sampling parameter starts afresh. On a
multi-node Ray cluster it must be on a filesystem every node sees (the repository's).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

from r1.atomic import write_text_atomic
from r1.generation.prompts import INDEX_COLUMN


class RowStore:
    """Finished rows by row index, in ``root/part-*.jsonl``."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def add(self, rows: list[dict[str, Any]]) -> None:
        """Save ``rows`` (each with INDEX_COLUMN) as one file, atomically."""
        if not rows:
            return
        text = "".join(json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n" for r in rows)
        digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]
        first = min(r[INDEX_COLUMN] for r in rows)
        # A name derived from the content: writing the same batch twice is harmless.
        write_text_atomic(self.root / f"part-{first:09d}-{digest}.jsonl", text)

    def load(self) -> dict[int, dict[str, Any]]:
        """Every saved row, by index (a row saved twice is the same row: seeds are per row)."""
        rows: dict[int, dict[str, Any]] = {}
        if not self.root.is_dir():
            return rows
        for path in sorted(self.root.glob("part-*.jsonl")):
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    row = json.loads(line)
                    rows.setdefault(row[INDEX_COLUMN], row)
        return rows

    def clear(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
