"""Stage `benchmark`: materialise one benchmark as the rows decontaminate and evaluate read.

    python stages/benchmark.py --name NAME

dvc.yaml runs it once per entry of `benchmarks.paths` (stage `benchmark-file@NAME`, whose dep is
the local file itself, so DVC hashes its content) and of `benchmarks.hub` (stage
`benchmark-hub@NAME`: `datasets.load_dataset` of the registry's Hub id at the pinned revision).

It checks the registry's question and answer columns, turns the answer into text (AIME files
store integers; lighteval's metrics need strings), runs lighteval's prompt function on every
row, and writes data/benchmarks/NAME/rows.parquet and r1_run.json, atomically. A file that
cannot be used stops the stage with one line naming the file, the column and the row.
"""

from __future__ import annotations

import argparse
import logging

from r1 import benchmarks, stage
from r1.atomic import atomic_dir
from r1.config import ConfigError, load_section
from r1.configs import BenchmarksConfig
from r1.runinfo import write_run_info

log = logging.getLogger("r1.benchmark")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", required=True, help="a benchmark in benchmarks.paths or benchmarks.hub")
    return parser.parse_args(argv)


def main(params: dict, argv=None) -> None:
    args = parse_args(argv)
    cfg, _ = load_section(params, "benchmarks", "benchmark", BenchmarksConfig)
    name = args.name
    if name not in cfg.paths and name not in cfg.hub:
        raise ConfigError(f"stage 'benchmark': --name {name} is in neither benchmarks.paths nor benchmarks.hub "
                          f"(paths: {sorted(cfg.paths)}, hub: {sorted(cfg.hub)})")
    from r1.evaluation import environment

    # Hub caches under the project, not ~/.cache; a local file needs no network at all (lighteval
    # is imported below).
    environment.configure(offline=name in cfg.paths)
    if name in cfg.paths:
        source, record = cfg.paths[name], {"path": cfg.paths[name]}
        ds = benchmarks.read_source(name, path=source)
    else:
        bench = benchmarks.get(name)
        source, record = f"{bench.hub_id}@{cfg.hub[name]}", {"hub_id": bench.hub_id, "revision": cfg.hub[name]}
        ds = benchmarks.read_source(name, revision=cfg.hub[name])
    ds = benchmarks.normalise(ds, name, source)

    from r1.evaluation import tasks  # lighteval: imported only once the data is known to be usable

    config, _ = tasks.task_config(name, source if name in cfg.paths else None)
    tasks.check_rows(config, ds, name, source)
    out = benchmarks.materialised(name)
    with atomic_dir(out.rsplit("/", 1)[0]) as tmp:
        ds.to_parquet(str(tmp / benchmarks.ROWS_FILE))
        # Only this benchmark's entry: the stage does not rerun when other benchmarks change.
        write_run_info(tmp, "benchmark", {"benchmark": {"name": name, **record, "rows": len(ds)}})
    log.info("benchmark %s: %d rows from %s written to %s", name, len(ds), source, out)


if __name__ == "__main__":
    stage.run("benchmark", main)
