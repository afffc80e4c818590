"""Recipes: complete params files for real runs, checked and switched to in one command.

    python -m r1.recipe apply recipes/Qwen2.5-1.5B-Instruct/math.yaml
    python -m r1.recipe check params.yaml recipes/**/*.yaml

`apply` validates every section with the same loaders the stages use, then writes the recipe
as params.yaml, so DVC tracks the real values and `dvc repro` reruns what they change. The
old params.yaml is kept as params.yaml.bak.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from r1.config import ConfigError, load_section, read_params
from r1.configs import (
    BenchmarksConfig,
    DecontaminateConfig,
    EmbeddedConfig,
    EvaluateConfig,
    FilterConfig,
    GenerateConfig,
    GRPOStageConfig,
    ModelConfig,
    SFTStageConfig,
)


def validate(params: dict) -> None:
    """Raise ConfigError for the first section a stage would refuse."""
    from trl import GRPOConfig, SFTConfig

    from r1 import rewards
    from r1.evaluation import checks

    load_section(params, "embedded", "embedded", EmbeddedConfig)
    load_section(params, "model", "base", ModelConfig)
    load_section(params, "generate", "generate", GenerateConfig)
    load_section(params, "filter", "filter", FilterConfig)
    load_section(params, "benchmarks", "decontaminate", BenchmarksConfig)
    load_section(params, "decontaminate", "decontaminate", DecontaminateConfig)
    load_section(params, "sft", "sft", SFTStageConfig, SFTConfig)
    grpo, _ = load_section(params, "grpo", "grpo", GRPOStageConfig, GRPOConfig)
    try:
        rewards.validate(grpo.reward_funcs, grpo.reward_kwargs)
    except ValueError as exc:
        raise ConfigError(f"stage 'grpo': {exc}") from exc
    evaluate_cfg, _ = load_section(params, "evaluate", "evaluate", EvaluateConfig)
    bench_cfg, _ = load_section(params, "benchmarks", "evaluate", BenchmarksConfig)
    checks.check_models(evaluate_cfg, checks.load_external_models(params, "evaluate"), checks.PIPELINE_MODELS)
    checks.check_per_benchmark(evaluate_cfg, bench_cfg)
    known = {"embedded", "model", "generate", "filter", "benchmarks", "decontaminate", "sft", "grpo", "evaluate",
             "external_models"}
    unknown = sorted(set(params) - known)
    if unknown:
        raise ConfigError(f"params: unknown section(s) {unknown}; sections are {sorted(known)}")


def apply(recipe: Path, params_path: Path = Path("params.yaml")) -> None:
    validate(read_params(recipe))
    if params_path.exists():
        shutil.copy2(params_path, params_path.with_suffix(".yaml.bak"))
    text = f"# Applied from {recipe} with `python -m r1.recipe apply`.\n" + recipe.read_text(encoding="utf-8")
    from r1.atomic import write_text_atomic

    write_text_atomic(params_path, text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m r1.recipe", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("apply", help="validate a recipe and write it as params.yaml").add_argument("recipe", type=Path)
    sub.add_parser("check", help="validate params files").add_argument("files", type=Path, nargs="+")
    args = parser.parse_args(argv)
    try:
        if args.command == "apply":
            apply(args.recipe)
            print(f"params.yaml now holds {args.recipe}; run `dvc repro` (or `dvc status` to see what reruns)")
        else:
            for f in args.files:
                validate(read_params(f))
                print(f"{f}: ok")
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
