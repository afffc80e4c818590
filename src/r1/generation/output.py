"""The stage's outputs: the generated table (one row per prompt) and its metrics."""

from __future__ import annotations

import logging
import statistics
from collections import Counter
from typing import Any

import pyarrow as pa

from r1.generation import llm_common

log = logging.getLogger("r1.generation")

# Explicit types, so an all-null or empty column never changes the schema (and the hash).
OUTPUT_TYPES = {
    "prompt": pa.string(),
    "generations": pa.list_(pa.string()),
    "finish_reasons": pa.list_(pa.string()),
    "prompt_tokens": pa.int64(),
    "completion_tokens": pa.list_(pa.int64()),
    "model_name": pa.string(),
}
assert tuple(OUTPUT_TYPES) == llm_common.OUTPUT_COLUMNS


def build_table(ds, rows: dict[int, dict[str, Any]]) -> pa.Table:
    """Every input column of ``ds`` (its own arrow types), then the generated columns."""
    table = ds.flatten_indices().data.table if ds._indices is not None else ds.data.table
    clash = [c for c in OUTPUT_TYPES if c in table.column_names]
    if clash:
        log.warning("input column(s) %s are replaced by the generated column(s) of the same name", clash)
        table = table.drop_columns(clash)
    ordered = [rows[i] for i in range(len(ds))]
    for name, typ in OUTPUT_TYPES.items():
        table = table.append_column(pa.field(name, typ), pa.array([r[name] for r in ordered], type=typ))
    # The `datasets` features stored in the input's schema metadata no longer describe the
    # table; readers would trust them, so drop them.
    return table.replace_schema_metadata(None)


def metrics(rows: dict[int, dict[str, Any]], resumed: int) -> dict[str, Any]:
    """Counts and token statistics for `metrics/generate.json` (no wall time: metrics are
    results, compared across runs by `dvc metrics diff`; the stage logs its duration)."""
    completion = [t for r in rows.values() for t in r["completion_tokens"] if t is not None]
    prompt = [r["prompt_tokens"] for r in rows.values() if r["prompt_tokens"] is not None]
    reasons = Counter(f for r in rows.values() for f in r["finish_reasons"])
    return {
        "prompts": len(rows),
        "generations": sum(len(r["generations"]) for r in rows.values()),
        "mean_completion_tokens": round(statistics.fmean(completion), 3) if completion else 0.0,
        "max_completion_tokens": max(completion, default=0),
        "mean_prompt_tokens": round(statistics.fmean(prompt), 3) if prompt else 0.0,
        "finish_reasons": dict(sorted(reasons.items())),
        "invalid_utf8_generations": sum(r[llm_common.INVALID_UTF8_COLUMN] for r in rows.values()),
        "resumed_prompts": resumed,
    }
