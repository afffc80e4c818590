"""`make evaluate`: evaluate any model on one benchmark, as open-r1's `make evaluate` does.

    python -m r1.evaluation.adhoc --model MODEL --task BENCHMARK [--parallel data|tensor --num-gpus N]

MODEL is
- a model the pipeline knows (base, sft, grpo, or a name in params `external_models`): this runs
  `dvc repro evaluate@MODEL-BENCHMARK`, so the result is the pipeline's, hashed and cached;
- a Hub id (at `--revision`) or a local model folder: an ad-hoc evaluation outside DVC with the
  evaluate stage's runner and params (`evaluate`, its `per_benchmark` entry, `model`'s loading
  options). Results go to outputs/adhoc/<model>/<benchmark>/ (git-ignored), with metrics.json,
  which `python -m r1.report` shows beside the pipeline's.

The benchmark's rows are the pipeline's materialised copy (data/benchmarks/NAME) when it
exists, else the local file in `benchmarks.paths`, else lighteval's Hub dataset.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import re
import subprocess
import sys
from pathlib import Path

from r1 import benchmarks
from r1.atomic import atomic_dir, write_json_atomic
from r1.config import ConfigError, load_section, read_params
from r1.configs import BenchmarksConfig, EvaluateConfig, ModelConfig
from r1.data import DataError
from r1.evaluation.checks import PIPELINE_MODELS, load_external_models
from r1.evaluation.models import ModelNotFoundError, hub_model, is_local, local_model

log = logging.getLogger("r1.evaluation")

OUT_ROOT = Path("outputs/adhoc")
METRICS_FILE = "metrics.json"
PARALLEL = {"data": "data_parallel_size", "tensor": "tensor_parallel_size"}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m r1.evaluation.adhoc", description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a pipeline or external model's name, a Hub id, or a folder")
    parser.add_argument("--task", required=True, help="a benchmark of r1.benchmarks, e.g. aime24")
    parser.add_argument("--revision", default="main", help="the Hub model's revision (default: main)")
    # Strings, checked by `parallelism`, so that make's empty PARALLEL= / NUM_GPUS= mean "unset".
    parser.add_argument("--parallel", default="", help="data or tensor: vLLM's data_parallel_size or "
                        "tensor_parallel_size = NUM_GPUS (switches to the vllm backend; the transformers "
                        "backend is single-process). Empty: params' evaluate settings")
    parser.add_argument("--num-gpus", default="", help="the number of GPUs for --parallel")
    parser.add_argument("--params", default="params.yaml")
    return parser.parse_args(argv)


def parallelism(parallel: str, num_gpus: str) -> dict:
    """The EvaluateConfig fields PARALLEL and NUM_GPUS set; a ConfigError naming a bad value."""
    if not parallel:
        if num_gpus:
            raise ConfigError(f"NUM_GPUS={num_gpus} needs PARALLEL=data or PARALLEL=tensor")
        return {}
    if parallel not in PARALLEL:
        raise ConfigError(f"PARALLEL={parallel!r} is not allowed: use data or tensor")
    if not re.fullmatch(r"[1-9][0-9]*", num_gpus):
        raise ConfigError(f"NUM_GPUS={num_gpus!r} is not allowed: give a whole number >= 1 with PARALLEL={parallel}")
    return {"backend": "vllm", PARALLEL[parallel]: int(num_gpus)}


def out_dir(model: str, task: str) -> Path:
    """outputs/adhoc/<model as one path component>/<task>."""
    return OUT_ROOT / re.sub(r"[^A-Za-z0-9_.-]+", "_", model.strip("/")) / task


def benchmark_source(task: str, bench_cfg: BenchmarksConfig) -> dict:
    """{task: local file} for build_task, or {} for lighteval's Hub dataset."""
    benchmarks.get(task)  # raises UnknownBenchmarkError naming it
    if Path(benchmarks.materialised(task)).is_file():
        return {task: benchmarks.materialised(task)}
    if task in bench_cfg.paths:
        return {task: bench_cfg.paths[task]}
    return {}


def run_pipeline(model: str, task: str, evaluated: list[str], bench_cfg: BenchmarksConfig, settings: dict) -> int:
    if settings:
        raise ConfigError(f"PARALLEL/NUM_GPUS apply to ad-hoc evaluations; '{model}' is a pipeline model, whose "
                          "evaluation reads evaluate.backend / data_parallel_size / tensor_parallel_size in params.yaml")
    if model not in evaluated:
        raise ConfigError(f"evaluate@{model}-{task} is not a stage: add '{model}' to pipeline.evaluate in params.yaml")
    if task not in bench_cfg.names:
        raise ConfigError(f"evaluate@{model}-{task} is not a stage: add '{task}' to benchmarks.names in params.yaml")
    command = ["dvc", "repro", f"evaluate@{model}-{task}"]
    print("+ " + " ".join(command), flush=True)
    return subprocess.call(command)


def run_adhoc(args, cfg: EvaluateConfig, model_cfg: ModelConfig, bench_cfg: BenchmarksConfig, settings: dict) -> dict:
    paths = benchmark_source(args.task, bench_cfg)
    if is_local(args.model):
        # open-r1's chat_template replacement is the student's: an ad-hoc model keeps its own.
        model = local_model(args.model, args.model, dataclasses.replace(model_cfg, chat_template=None))
    else:
        model = hub_model(args.model, args.revision, model_cfg)
    cfg = dataclasses.replace(cfg.for_benchmark(args.task), **settings)
    from r1.evaluation import environment

    environment.configure(offline=model.local and bool(paths))
    from r1.evaluation import runner  # after `configure`: the Hub libraries read it at import

    with atomic_dir(out_dir(args.model, args.task)) as tmp:
        record = runner.evaluate(model, args.task, cfg, paths, tmp)
        write_json_atomic(tmp / METRICS_FILE, record)
        from r1.runinfo import write_run_info

        write_run_info(tmp, "adhoc-evaluate", {
            "evaluate": cfg, "model": model_cfg,
            "run": {"model": args.model, "revision": model.revision, "benchmark": args.task, "data": paths},
        })
    return record


def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        datefmt="%H:%M:%S", stream=sys.stderr)
    try:
        settings = parallelism(args.parallel, args.num_gpus)
        params = read_params(args.params)
        cfg, _ = load_section(params, "evaluate", "evaluate", EvaluateConfig)
        model_cfg, _ = load_section(params, "model", "evaluate", ModelConfig)
        bench_cfg, _ = load_section(params, "benchmarks", "evaluate", BenchmarksConfig)
        external = load_external_models(params, "evaluate")
        if args.model in PIPELINE_MODELS or args.model in external.names():
            from r1.pipeline_rules import check

            return run_pipeline(args.model, args.task, check(params).evaluate, bench_cfg, settings)
        record = run_adhoc(args, cfg, model_cfg, bench_cfg, settings)
    except (ConfigError, DataError, ModelNotFoundError, benchmarks.UnknownBenchmarkError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from r1.evaluation.results import format_table

    print(format_table([record]))
    print(f"(written to {out_dir(args.model, args.task)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
