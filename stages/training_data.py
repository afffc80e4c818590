"""Stage `training_data`: a training stage's data, mixed from its sources and decontaminated.

    python stages/training_data.py --stage sft|grpo

dvc.yaml runs it as `sft-data@student` and `grpo-data@student`. It reads each source of
`<stage>.dataset_mixture` from data/sources/NAME (the filter's `distilled`, or a `datasets`
entry), maps its columns onto the stage's schema, takes each source's `weight` share of rows
(r1.trainsets.build), and drops every row that shares an n-gram with a benchmark of
`benchmarks.names` (`decontaminate` section). Writes data/train/<stage>/train.parquet,
metrics/<stage>-data.json (rows per source, hits per benchmark) and
reports/decontaminate_<stage>.json (matches a person can read).
"""

from __future__ import annotations

import argparse
import logging

from r1 import benchmarks, stage
from r1.atomic import atomic_dir, write_json_atomic
from r1.config import ConfigError, load_section
from r1.configs import BenchmarksConfig, DecontaminateConfig, GRPOStageConfig, SFTStageConfig
from r1.data import DataError, load, require_rows
from r1.decontam import decontaminate
from r1.decontam.dedup import find_duplicates
from r1.pipeline_rules import own_section
from r1.runinfo import write_run_info
from r1.trainsets import build
from r1.trainsets.spec import DISTILLED, SOURCES_DIR, DatasetsConfig

log = logging.getLogger("r1.training_data")

STAGE_CONFIGS = {"sft": SFTStageConfig, "grpo": GRPOStageConfig}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", required=True, choices=sorted(STAGE_CONFIGS))
    return parser.parse_args(argv)


def main(params: dict, argv=None) -> None:
    args = parse_args(argv)
    name = args.stage
    cfg = own_section(params, name, STAGE_CONFIGS[name], f"{name}-data")  # TRL keys: the stage's own check
    sources, _ = load_section(params, "datasets", f"{name}-data", DatasetsConfig)
    decon, _ = load_section(params, "decontaminate", f"{name}-data", DecontaminateConfig)
    bench_cfg, _ = load_section(params, "benchmarks", f"{name}-data", BenchmarksConfig)
    parts = []
    for i, member in enumerate(cfg.mixture.members):
        where = f"{name}.dataset_mixture.datasets[{i}]"
        if member.source != DISTILLED and member.source not in sources.names:
            raise ConfigError(f"stage '{name}-data': {where}.source = '{member.source}' is neither "
                              f"'{DISTILLED}' nor a source in datasets.paths/hub ({sorted(sources.names)})")
        path = f"{SOURCES_DIR}/{member.source}/train.parquet"
        ds = load(path)
        require_rows(ds, path)
        ds = build.apply_columns(ds, member, where)
        if name == "sft":
            from datasets import Dataset

            ds = Dataset.from_list(build.to_sft(ds, where, cfg.generations))
        else:
            ds = build.to_grpo(ds, where)
        parts.append((member, ds))
    mixed, counts = build.mix(parts, cfg.mixture, name)

    bench_texts = {b: benchmarks.load_texts(b) for b in bench_cfg.names}
    try:
        # Duplicates are found below on whole examples: the decontaminator's own check looks
        # at the matched texts only, and several answers to one prompt are distinct examples.
        result = decontaminate(build.decontamination_texts(mixed, name, decon.check_completions), bench_texts,
                               ngram_size=decon.ngram_size, normalization=decon.normalization,
                               deduplicate=False, max_examples=decon.max_examples, progress=True)
    except ValueError as exc:  # the library names the problem (no usable benchmark text, ...)
        raise DataError(f"{name}-data: decontamination: {exc}") from exc
    keep = result.keep
    duplicates = 0
    if decon.deduplicate and keep:
        again = set(find_duplicates(build.duplicate_texts(mixed.select(keep), name)))
        duplicates = len(again)
        keep = [row for i, row in enumerate(keep) if i not in again]
    if not keep:
        raise DataError(f"{name}-data: every one of the {len(mixed)} rows was dropped "
                        f"({result.contaminated} contaminated, {duplicates} duplicates); nothing to train on")
    kept = mixed.select(keep)
    with atomic_dir(f"data/train/{name}") as out:
        kept.to_parquet(str(out / "train.parquet"))
        write_run_info(out, "training_data", {"stage": name, "dataset_mixture": cfg.dataset_mixture,
                                              "decontaminate": decon, "benchmarks": bench_cfg})
    write_json_atomic(f"reports/decontaminate_{name}.json", result.examples)
    stage.write_metrics(f"{name}-data", {**result.metrics(), "rows_out": len(kept), "duplicates": duplicates,
                                         "sources": counts, "ngram_size": decon.ngram_size,
                                         "normalization": decon.normalization})
    log.info("%s data: %d rows from %s; kept %d (hits per benchmark: %s, duplicates: %d)",
             name, len(mixed), counts, len(kept), result.hits, duplicates)


if __name__ == "__main__":
    stage.run("training_data", main)
