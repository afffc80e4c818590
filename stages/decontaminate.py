"""Stage `decontaminate`: drop training rows that share an n-gram with any benchmark.

Reads data/filtered (the distilled rows that passed the filter) and every benchmark in `benchmarks.names` (the
same list evaluate scores, as the benchmark stage materialised it in data/benchmarks/<name>), matches word n-grams (`decontaminate.ngram_size`) of each row's
prompt, and optionally its completions, and removes exact and near-exact duplicates.
Writes data/decontaminated/train.parquet, metrics/decontaminate.json (rows in and out, hits
per benchmark) and reports/decontaminate_matches.json (examples a person can read).
"""

from __future__ import annotations

import logging

from r1 import benchmarks, stage
from r1.atomic import atomic_dir, write_json_atomic
from r1.config import load_section
from r1.configs import BenchmarksConfig, DecontaminateConfig
from r1.data import DataError, load, require_columns, require_rows
from r1.decontam import decontaminate
from r1.runinfo import write_run_info

log = logging.getLogger("r1.decontaminate")

DATA = "data/filtered/train.parquet"
OUT = "data/decontaminated"
MATCHES = "reports/decontaminate_matches.json"


def main(params: dict) -> None:
    cfg, _ = load_section(params, "decontaminate", "decontaminate", DecontaminateConfig)
    bench_cfg, _ = load_section(params, "benchmarks", "decontaminate", BenchmarksConfig)
    ds = load(DATA)
    require_rows(ds, DATA)
    require_columns(ds, [cfg.prompt_column] + (["generations"] if cfg.check_completions else []), DATA)

    bench_texts = {name: benchmarks.load_texts(name) for name in bench_cfg.names}
    if cfg.check_completions:
        texts = [[row[cfg.prompt_column], *(row["generations"] or [])] for row in ds]
    else:
        texts = list(ds[cfg.prompt_column])
    try:
        result = decontaminate(texts, bench_texts, ngram_size=cfg.ngram_size, normalization=cfg.normalization,
                               deduplicate=cfg.deduplicate, max_examples=cfg.max_examples, progress=True)
    except ValueError as exc:  # the library names the problem (no usable benchmark text, ...)
        raise DataError(f"decontaminate: {exc}") from exc
    if not result.keep:
        raise DataError(f"decontaminate: every one of the {len(ds)} rows was dropped "
                        f"({result.contaminated} contaminated, {result.duplicates} duplicates); nothing to train on")
    kept = ds.select(result.keep)
    with atomic_dir(OUT) as out:
        kept.to_parquet(str(out / "train.parquet"))
        write_run_info(out, "decontaminate", {"decontaminate": cfg, "benchmarks": bench_cfg})
    write_json_atomic(MATCHES, result.examples)
    stage.write_metrics("decontaminate", {**result.metrics(), "ngram_size": cfg.ngram_size,
                                          "normalization": cfg.normalization})
    log.info("kept %d of %d rows; hits per benchmark: %s; duplicates: %d",
             len(kept), len(ds), result.hits, result.duplicates)


if __name__ == "__main__":
    stage.run("decontaminate", main)
