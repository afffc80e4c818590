"""Cross-section checks of the `evaluate` params: which models and benchmarks it may name.

Each config class checks its own section; these need two sections at once, so the evaluate
stage, the ad-hoc CLI and `python -m r1.recipe check` call them after loading both.
"""

from __future__ import annotations

from collections.abc import Iterable

from r1.config import ConfigError, load_section
from r1.configs import BenchmarksConfig, EvaluateConfig, ExternalModelsConfig

# The models the pipeline trains or pins today; a recipe may produce fewer.
PIPELINE_MODELS = frozenset({"teacher", "base", "sft", "grpo"})


def check_models(evaluated: Iterable[str], external_cfg: ExternalModelsConfig,
                 pipeline_models: Iterable[str]) -> None:
    """Every name in `pipeline.evaluate` is a model the recipe produces or an external model."""
    pipeline_models = set(pipeline_models)
    known = sorted(pipeline_models) + external_cfg.names()
    for name in evaluated:
        if name not in pipeline_models and name not in external_cfg.names():
            hint = (f" ('{name}' is a pipeline model this recipe does not train: pipeline.{name} is [])"
                    if name in PIPELINE_MODELS else "")
            raise ConfigError(f"params.yaml pipeline.evaluate: unknown model '{name}'{hint}; choose from "
                              f"{', '.join(known)} (pipeline models, then external_models.paths / .hub)")


def check_per_benchmark(evaluate_cfg: EvaluateConfig, bench_cfg: BenchmarksConfig) -> None:
    """`evaluate.per_benchmark` only names benchmarks that `benchmarks.names` lists."""
    extra = [name for name in evaluate_cfg.per_benchmark if name not in bench_cfg.names]
    if extra:
        raise ConfigError(f"params.yaml evaluate.per_benchmark.{extra[0]}: '{extra[0]}' is not in "
                          f"benchmarks.names ({', '.join(bench_cfg.names)}); add it there or remove its entry")


def load_external_models(params: dict, stage: str) -> ExternalModelsConfig:
    """Section `external_models`; a params file without it has none.

    The evaluate stage reads it without listing it as a params dep: what an evaluation scores
    is models/NAME, itself a dep, and listing the section would rerun every evaluation
    whenever a model is added.
    """
    section = {"external_models": params.get("external_models") or {}}
    return load_section(section, "external_models", stage, ExternalModelsConfig)[0]
