"""Rules that span params sections: does the recipe's graph hold together?

Checked by every stage at start-up (so the first stage `dvc repro` runs stops a broken recipe
with one line before any heavy work) and by `python -m r1.recipe check|apply`. Only the
project's own keys are read here; each stage checks its TRL keys itself.
"""

from __future__ import annotations

from pathlib import Path

from r1.config import ConfigError, load_section
from r1.configs import (
    BenchmarksConfig,
    EvaluateConfig,
    GRPOStageConfig,
    ModelConfig,
    PipelineConfig,
    SFTStageConfig,
)
from r1.trainsets.spec import DISTILLED, DatasetsConfig

TRAINING = {"sft": SFTStageConfig, "grpo": GRPOStageConfig}
# Rewards that judge the shape of the assistant's whole turn, so they must see what the chat
# template prefilled into it (their `prefill` argument).
TURN_SHAPE_REWARDS = ("format", "tag_count", "code_format")


def own_section(params: dict, name: str, cls: type, stage: str | None = None):
    """``params[name]``'s project keys as ``cls`` (TRL's keys are left to the stage)."""
    values = params.get(name) or {}
    if not isinstance(values, dict):
        raise ConfigError(f"params.yaml '{name}' must be a mapping, got {type(values).__name__}")
    own = {k: v for k, v in values.items() if k in cls.__dataclass_fields__}
    return load_section({name: own}, name, stage or name, cls)[0]


def check(params: dict, stage: str = "pipeline") -> PipelineConfig:
    """Raise ConfigError naming the key for the first rule the recipe breaks; ``stage`` is the
    stage that is checking (its name leads the message)."""
    pipeline, _ = load_section({"pipeline": params.get("pipeline") or {}}, "pipeline", stage, PipelineConfig)
    sources, _ = load_section({"datasets": params.get("datasets") or {}}, "datasets", stage, DatasetsConfig)
    for name, cls in TRAINING.items():
        if not pipeline.has(name):
            continue
        cfg = own_section(params, name, cls, stage)
        for i, source in enumerate(cfg.mixture.sources):
            key = f"{name}.dataset_mixture.datasets[{i}].source"
            if source == DISTILLED and not pipeline.has("distill"):
                raise ConfigError(f"params.yaml {key} = '{DISTILLED}', but pipeline.distill is []: "
                                  "this recipe distils nothing; name a source from `datasets`")
            if source != DISTILLED and source not in sources.names:
                raise ConfigError(f"params.yaml {key} = '{source}' is not a source in datasets.paths or "
                                  f"datasets.hub ({sorted(sources.names) or 'none'})")
    if pipeline.has("grpo"):
        grpo = own_section(params, "grpo", GRPOStageConfig, stage)
        if grpo.init_model == "sft" and not pipeline.has("sft"):
            raise ConfigError("params.yaml grpo.init_model = 'sft', but pipeline.sft is []: this recipe "
                              "has no SFT; start GRPO from `base` or add sft to the pipeline")
        check_prefill(params, grpo)
    if pipeline.evaluate:
        from r1.evaluation import checks

        checks.check_models(pipeline.evaluate, checks.load_external_models(params, stage), pipeline.models)
        if "evaluate" in params and "benchmarks" in params:
            evaluate, _ = load_section(params, "evaluate", stage, EvaluateConfig)
            bench, _ = load_section(params, "benchmarks", stage, BenchmarksConfig)
            checks.check_per_benchmark(evaluate, bench)
    return pipeline


def check_prefill(params: dict, grpo: GRPOStageConfig) -> None:
    """A chat template whose generation prompt opens `<think>` (DeepSeek-R1's) leaves it out of
    every completion, so the format rewards score 0 unless their `prefill` says so; a prefill
    the template does not write would wrongly add it. Checked where the template is a file of
    the project (a tokenizer's own template needs the model, which the stage checks)."""
    template = own_section(params, "model", ModelConfig).chat_template if "model" in params else None
    if not template or not Path(template).is_file():
        return
    from r1.chat_template import generation_prefill

    expected = generation_prefill(Path(template).read_text(encoding="utf-8"))
    for name in TURN_SHAPE_REWARDS:
        if name not in grpo.reward_funcs:
            continue
        given = (grpo.reward_kwargs.get(name) or {}).get("prefill", "")
        if given != expected:
            raise ConfigError(f"params.yaml grpo.reward_kwargs.{name}.prefill = {given!r}, but model.chat_template "
                              f"({template}) prefills {expected!r} into the assistant turn: set prefill: "
                              f"{expected!r} so that '{name}' judges the whole turn")
