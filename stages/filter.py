"""Stage `filter`: keep prompts by pass rate, and their correct (or all) generations.

Reads data/generated/train.parquet (one row per prompt with its generations) and params.yaml
`filter`; scores every generation with the verifier of its row (math-verify against the
gold answer, or the code sandbox against the row's tests, with the scorer `code_scorer`
names: the `code` reward's, or the `cf_code` / `ioi_code` reward's for rows in
open-r1/codeforces or open-r1/ioi form), and keeps the prompts whose pass
rate lies in the configured range, with their correct (or all) generations; the rules are
in :mod:`r1.filtering`. Writes data/sources/distilled/train.parquet (the input columns, the
per-generation columns reduced to the kept generations, plus `pass_rate` and `correct`),
data/sources/distilled/r1_run.json and metrics/filter.json (prompts and generations in and kept,
drops by reason, the pass-rate histogram, math verdicts cut short by a timeout).
"""

from __future__ import annotations

import logging
import time

import pyarrow.parquet as pq

from r1 import filtering, rewards, stage
from r1.atomic import atomic_dir
from r1.config import ConfigError, load_section
from r1.configs import FilterConfig
from r1.data import DataError, load, require_columns, require_rows
from r1.runinfo import write_run_info
from r1.sandbox import SandboxUnavailable

log = logging.getLogger("r1.filter")

DATA = "data/generated/train.parquet"
OUT = "data/sources/distilled"  # a training data source like any other (r1.trainsets)


def main(params: dict) -> None:
    cfg, _ = load_section(params, "filter", "filter", FilterConfig)
    start = time.perf_counter()
    ds = load(DATA)
    require_rows(ds, DATA)
    required = ["generations"] + [c for c in (cfg.solution_column, cfg.verification_column) if c]
    needed, optional = filtering.scorer_columns(cfg.code_scorer)
    required += [c for c in needed if c not in required]
    if cfg.drop_truncated:
        required.append("finish_reasons")
    try:
        require_columns(ds, required, DATA)
    except DataError as exc:
        scorer = f"; filter.code_scorer {cfg.code_scorer} reads {list(needed)}" if needed else ""
        raise DataError(
            f"filter: {exc} (the columns come from params.yaml filter.solution_column / "
            f"filter.verification_column; null means the data set has none{scorer})"
        ) from exc

    table = ds.data.table
    columns = {
        c: table.column(c).to_pylist()
        for c in filtering.PER_GENERATION_COLUMNS
        if c in table.column_names
    }
    try:
        filtering.check_lengths(columns)
    except ValueError as exc:
        raise DataError(f"filter: {DATA}: {exc}") from exc
    n = len(ds)
    solutions = table.column(cfg.solution_column).to_pylist() if cfg.solution_column else [None] * n
    verifications = (
        table.column(cfg.verification_column).to_pylist() if cfg.verification_column else [None] * n
    )

    # The columns a competition scorer reads, per row (open-r1/codeforces or open-r1/ioi).
    present = [c for c in needed + optional if c in table.column_names]
    problems = table.select(present).to_pylist() if needed else None

    cut_before = rewards.verdict_counts()
    try:
        kinds, scores = filtering.score_generations(
            columns["generations"], solutions, verifications, cfg, problems
        )
    except SandboxUnavailable as exc:
        raise ConfigError(
            f"stage 'filter': the code rows need the '{cfg.code_provider}' sandbox, which "
            f"cannot run here ({exc}); set params.yaml filter.code_provider"
        ) from exc
    result = filtering.decide(kinds, scores, columns.get("finish_reasons"), cfg)
    cut = {k: n - cut_before[k] for k, n in rewards.verdict_counts().items()}
    result.math_timeouts = cut["timeout"] + cut["hard_timeout"]
    result.math_too_complex = cut["too_complex"]
    if not result.rows:
        raise DataError(
            f"filter: every prompt was dropped ({result.prompts_in} in: {result.drop_summary()}); "
            "widen filter.pass_rate_min/max (or set filter.keep: all, filter.drop_truncated: false)"
        )

    kept = filtering.apply(table, result)
    with atomic_dir(OUT) as out:
        pq.write_table(kept, out / "train.parquet")
        write_run_info(out, "filter", {"filter": cfg})
    metrics = result.metrics()
    stage.write_metrics("filter", metrics)
    log.info(
        "kept %d of %d prompts and %d of %d generations (dropped prompts: %s; generations: %s) in %.1f s",
        metrics["prompts_kept"],
        metrics["prompts_in"],
        metrics["generations_kept"],
        metrics["generations_in"],
        result.drop_summary(),
        metrics["generations_dropped"],
        time.perf_counter() - start,
    )


if __name__ == "__main__":
    stage.run("filter", main)
