"""Stage `dataset`: materialise one external training data source as data/sources/NAME.

    python stages/dataset.py --name NAME

dvc.yaml runs it once per entry of `datasets.paths` (stage `dataset-path@NAME`, whose dep is
the local file or folder itself, so DVC hashes its content) and of `datasets.hub` (stage
`dataset-hub@NAME`: `datasets.load_dataset(id, config, split=..., revision=...)`, the revision
pinned in params). Either way the rows are written to data/sources/NAME/train.parquet with
r1_run.json, atomically, so the training data stages read exactly what DVC hashed.
"""

from __future__ import annotations

import argparse
import logging

from r1 import stage
from r1.atomic import atomic_dir
from r1.config import ConfigError, load_section
from r1.data import DataError, load, require_rows
from r1.runinfo import write_run_info
from r1.trainsets.spec import SOURCES_DIR, DatasetsConfig

log = logging.getLogger("r1.dataset")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", required=True, help="a source in datasets.paths or datasets.hub")
    return parser.parse_args(argv)


def main(params: dict, argv=None) -> None:
    args = parse_args(argv)
    cfg, _ = load_section(params, "datasets", "dataset", DatasetsConfig)
    if args.name not in cfg.names:
        raise ConfigError(f"stage 'dataset': --name {args.name} is in neither datasets.paths nor datasets.hub "
                          f"(paths: {sorted(cfg.paths)}, hub: {sorted(cfg.hub)})")
    spec = cfg.source(args.name)
    from r1.evaluation import environment

    environment.configure(offline=spec["kind"] == "path")  # Hub caches under the project
    if spec["kind"] == "path":
        where = f"datasets.paths.{args.name}"
        ds = load(spec["path"], split=spec["split"])
    else:
        where = f"datasets.hub.{args.name}"
        log.info("downloading %s (config %s, split %s) at revision %s", spec["id"], spec["config"],
                 spec["split"], spec["revision"])
        try:
            ds = load(spec["id"], config=spec["config"], split=spec["split"], revision=spec["revision"])
        except DataError:
            raise
        except Exception as exc:  # offline, unknown repo or config, gated: one clear line
            raise ConfigError(f"stage 'dataset': {where}: cannot load '{spec['id']}' "
                              f"(config {spec['config']}, split {spec['split']}, revision {spec['revision']}): "
                              f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}") from None
    require_rows(ds, where)
    with atomic_dir(f"{SOURCES_DIR}/{args.name}") as out:
        ds.to_parquet(str(out / "train.parquet"))
        write_run_info(out, "dataset", {"dataset": {"name": args.name, **spec, "rows": len(ds),
                                                    "columns": ds.column_names}})
    log.info("source %s: %d rows, columns %s", args.name, len(ds), ds.column_names)


if __name__ == "__main__":
    stage.run("dataset", main)
