"""Loading data sets from a local path or the Hugging Face Hub, with clear errors.

Local files are read with pyarrow/json directly into an in-memory `datasets.Dataset`, so a
stage writes nothing to `~/.cache` (load_dataset("json", ...) would). Hub ids go through
`datasets.load_dataset`, the real path users take on connected machines.
"""

from __future__ import annotations

import json
from pathlib import Path


class DataError(ValueError):
    """A data set a stage cannot use; the message names the source and the problem."""


_LOCAL_SUFFIXES = (".jsonl", ".json", ".parquet")


def looks_local(source: str) -> bool:
    """A path that exists, or one shaped like a path (so a typo is 'not found', not a Hub call)."""
    return Path(source).exists() or source.startswith((".", "/")) or source.endswith(_LOCAL_SUFFIXES)


def load(source: str, *, config: str | None = None, split: str = "train", revision: str | None = None):
    """A `datasets.Dataset` from a local file/folder or a Hub id."""
    import datasets

    if looks_local(source):
        path = Path(source)
        if not path.exists():
            raise DataError(f"data path does not exist: {source}")
        if path.is_dir():
            if (path / "dataset_info.json").exists() or (path / "state.json").exists():
                ds = datasets.load_from_disk(str(path))
                if isinstance(ds, datasets.DatasetDict):
                    if split not in ds:
                        raise DataError(f"{source}: no split '{split}' (has {', '.join(ds)})")
                    ds = ds[split]
                return ds
            files = sorted(p for p in path.iterdir() if p.suffix in _LOCAL_SUFFIXES)
            if not files:
                raise DataError(f"{source}: a folder with no .jsonl/.json/.parquet files and no saved dataset")
            return datasets.concatenate_datasets([_load_file(p) for p in files])
        return _load_file(path)
    kwargs = {"split": split}
    if revision:
        kwargs["revision"] = revision
    return datasets.load_dataset(source, config, **kwargs)


def _load_file(path: Path):
    import datasets
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        if path.suffix == ".parquet":
            return datasets.Dataset(pq.read_table(path))
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError, pa.ArrowException) as exc:  # e.g. a truncated parquet file
        raise DataError(f"{path}: cannot read: {_one_line(exc)}") from None
    if path.suffix == ".json" and text.lstrip().startswith("["):
        try:
            rows = json.loads(text)
        except json.JSONDecodeError as exc:  # its lineno counts lines of the whole file
            raise DataError(f"{path}: line {exc.lineno}, column {exc.colno}: invalid JSON: {exc.msg}") from None
    else:
        rows = list(_json_lines(path, text))
    return datasets.Dataset.from_list(rows)


def _json_lines(path: Path, text: str):
    """The objects of a JSON Lines text. Parsed line by line, so json's own positions (always
    "line 1") are replaced by the file's real 1-based line number."""
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            cut = " (the file ends mid-line: was it cut off?)" if number == len(lines) and not text.endswith("\n") else ""
            raise DataError(f"{path}: line {number}, column {exc.colno}: invalid JSON: {exc.msg}{cut}") from None
        if not isinstance(row, dict):
            raise DataError(f"{path}: line {number}: expected a JSON object, got {type(row).__name__}")
        yield row


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def require_columns(ds, columns, source: str) -> None:
    missing = [c for c in columns if c not in ds.column_names]
    if missing:
        raise DataError(f"{source}: missing column(s) {missing}; it has {ds.column_names}")


def require_rows(ds, source: str) -> None:
    if len(ds) == 0:
        raise DataError(f"{source}: the data set is empty")


def write_jsonl(rows, path: str | Path) -> None:
    """Stable JSONL (sorted keys, one row a line) so the bytes, and DVC's hash, are reproducible."""
    from r1.atomic import write_text_atomic

    write_text_atomic(path, "".join(json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n" for r in rows))
