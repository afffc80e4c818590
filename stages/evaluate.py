"""Stage `evaluate`: score one model on one benchmark with lighteval.

    python stages/evaluate.py --model NAME --benchmark NAME

Reads params sections `evaluate` (the shared settings, with `evaluate.per_benchmark`'s entry for
the benchmark over them), `model` and `benchmarks`, and the benchmark's rows from
data/benchmarks/<benchmark>/ (written by the benchmark stage). `base` is models/base (the `base`
stage's pinned copy of `model.name_or_path`), `sft` is models/sft and `grpo` is models/grpo; an
external model NAME (params `external_models`) is models/NAME, pinned by its model-path@NAME or
model-hub@NAME stage. `model` gives the loading options (torch_dtype, attn_implementation,
trust_remote_code) and, for base, the chat_template that sft trains with.

Outs: outputs/eval/<model>/<benchmark>/ (lighteval's results.json and details.parquet, and
r1_run.json) and metrics/eval/<model>-<benchmark>.json ({benchmark, model, metric, score,
stderr, num_samples, num_generations}; no timestamps, so runs compare byte for byte).

Scoring: math benchmarks use lighteval's math-verify metrics (pass@1); gpqa_diamond its letter
extraction (gpqa_pass@k); lcb_codegeneration lighteval's LiveCodeBench task, which runs the
generated code: a real run on a connected machine only (its test cases are on the Hub).
"""

from __future__ import annotations

import argparse
import logging
import tempfile
from pathlib import Path

from r1 import benchmarks, pipeline_rules, stage
from r1.atomic import atomic_dir
from r1.config import ConfigError, load_section
from r1.configs import BenchmarksConfig, EvaluateConfig, ModelConfig
from r1.data import DataError
from r1.evaluation import environment
from r1.evaluation.checks import load_external_models
from r1.evaluation.models import ModelNotFoundError, resolve
from r1.runinfo import write_run_info

log = logging.getLogger("r1.evaluate")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="teacher, base, sft, grpo or a name in params external_models")
    parser.add_argument("--benchmark", required=True)
    return parser.parse_args(argv)


def check_benchmark(name: str, bench_cfg: BenchmarksConfig) -> None:
    """An unknown benchmark, or one params does not list, is a ConfigError naming it."""
    try:
        benchmarks.get(name)
    except benchmarks.UnknownBenchmarkError as exc:
        raise ConfigError(f"stage 'evaluate': --benchmark: {exc}") from None
    if name not in bench_cfg.names:
        raise ConfigError(
            f"stage 'evaluate': benchmark '{name}' is not in params.yaml benchmarks.names "
            f"({', '.join(bench_cfg.names)}); add it there so decontamination covers it too"
        )


def main(params: dict, argv=None) -> None:
    args = parse_args(argv)
    cfg, _ = load_section(params, "evaluate", "evaluate", EvaluateConfig)
    model_cfg, _ = load_section(params, "model", "evaluate", ModelConfig)
    bench_cfg, _ = load_section(params, "benchmarks", "evaluate", BenchmarksConfig)
    external_cfg = load_external_models(params, "evaluate")
    pipeline_rules.check(params, "evaluate")  # pipeline.evaluate's models and per_benchmark's names
    check_benchmark(args.benchmark, bench_cfg)
    try:
        model = resolve(args.model, model_cfg, external_cfg)
    except (ModelNotFoundError, ValueError) as exc:
        raise ConfigError(f"stage 'evaluate': {exc}") from None
    cfg = cfg.for_benchmark(args.benchmark)

    # The benchmark stage's copy, never benchmarks.paths or the Hub: DVC hashes what is scored.
    try:
        data = {args.benchmark: benchmarks.require_materialised(args.benchmark)}
    except DataError as exc:
        raise ConfigError(f"stage 'evaluate': {exc}") from None
    environment.configure(offline=model.local)
    # imported after `configure`: huggingface_hub and lighteval read the environment at import
    from r1.evaluation import results, runner

    out = Path("outputs/eval") / args.model / args.benchmark
    # Only rank 0 writes (contract rule 5); other ranks of a multi-process launch work in a
    # throwaway folder.
    target = atomic_dir(out) if stage.is_main_process() else tempfile.TemporaryDirectory(prefix="r1-eval-rank-")
    try:
        with target as tmp:
            tmp = Path(tmp)
            record = runner.evaluate(model, args.benchmark, cfg, data, tmp)
            write_run_info(tmp, "evaluate", {
                "evaluate": cfg, "model": model_cfg, "benchmarks": bench_cfg,
                "run": {"model": args.model, "benchmark": args.benchmark, "name_or_path": model.name_or_path},
            })
    except DataError as exc:
        raise ConfigError(f"stage 'evaluate': {exc}") from None
    if not stage.is_main_process():
        return
    path = stage.write_metrics(f"eval/{args.model}-{args.benchmark}", record)
    log.info("wrote %s and %s", out, path)
    results.log_table([record])


if __name__ == "__main__":
    stage.run("evaluate", main)
