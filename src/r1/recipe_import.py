"""`python -m r1.recipe import OPEN_R1_CONFIG.yaml [-o OUT.yaml]`: an open-r1 recipe as a params file.

open-r1 gives one training script a flat config (TRL's fields, its ScriptArguments and the
model's); this project splits it into sections (pipeline, datasets, model, sft or grpo, ...).
Every key is either mapped (TRL's fields keep TRL's names, under the stage's section), dropped
with the reason (the stage decides it itself), or named as unknown: printed and written as a
comment at the top of the output. The output is checked as `python -m r1.recipe check` does.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import yaml

from r1.configs import GRPOStageConfig, SFTStageConfig
from r1.trainsets.spec import SFT_COLUMNS

MODEL_KEYS = {
    "model_name_or_path": "name_or_path",
    "model_revision": "revision",
    "torch_dtype": "torch_dtype",
    "dtype": "torch_dtype",
    "attn_implementation": "attn_implementation",
    "trust_remote_code": "trust_remote_code",
    "eos_token": "eos_token",
}
# open-r1 (older TRL / transformers) name -> TRL 1.x / transformers 5 name
RENAMED = {
    "warmup_ratio": "warmup_steps",
    "max_seq_length": "max_length",
    "use_liger": "use_liger_kernel",
    "hub_model_revision": "hub_revision",
    "dataset_preprocessing_num_proc": "dataset_num_proc",
}
DROPPED = {
    "output_dir": "the stage writes models/<stage>",
    "overwrite_output_dir": "the stage writes models/<stage>",
    "hub_strategy": "the stage pushes the final model once training succeeded",
    "callbacks": "open-r1's push_to_hub_revision: the stage pushes the final model (hub_revision)",
    "vllm_device": "TRL 1.x has no vllm_device (vllm_mode: colocate or server)",
    "num_processes": "the launcher's setting (R1_TRAIN_LAUNCHER)",
}
# open-r1's reward options -> (reward, its argument here)
REWARD_OPTIONS = {
    "code_language": [("code_format", "language"), ("cf_code", "language")],
    "code_eval_scoring_mode": [("cf_code", "scoring_mode")],
    "cosine_min_value_wrong": [("cosine", "min_value_wrong")],
    "cosine_max_value_wrong": [("cosine", "max_value_wrong")],
    "cosine_min_value_correct": [("cosine", "min_value_correct")],
    "cosine_max_value_correct": [("cosine", "max_value_correct")],
    "cosine_max_len": [("cosine", "max_len")],
    "repetition_n_grams": [("repetition_penalty", "ngram_size")],
    "repetition_max_penalty": [("repetition_penalty", "max_penalty")],
    "max_completion_len": [("soft_overlong_punishment", "max_completion_len")],
    "soft_punish_cache": [("soft_overlong_punishment", "soft_punish_cache")],
}
# open-r1's benchmark names (its evaluation callback) -> this project's (r1.benchmarks)
BENCHMARKS = {
    "aime24": "aime24",
    "aime25": "aime25",
    "math_500": "math_500",
    "gpqa": "gpqa_diamond",
    "gpqa:diamond": "gpqa_diamond",
    "gpqa_diamond": "gpqa_diamond",
    "lcb": "lcb_codegeneration",
    "lcb_v4": "lcb_codegeneration",
}
DATA_KEYS = (
    "dataset_name",
    "dataset_config",
    "dataset_configs",
    "dataset_train_split",
    "dataset_prompt_column",
    "dataset_mixture",
)
CODE_REWARDS = {"code", "binary_code", "cf_code", "ioi_code", "code_format"}
EVALUATE = {
    "backend": "vllm",
    "max_new_tokens": 32768,
    "max_model_length": 32768,
    "temperature": 0.6,
    "top_p": 0.95,
    "batch_size": 8,
    "seed": 0,
    "num_generations": None,
    "tensor_parallel_size": 1,
    "data_parallel_size": 8,
    "gpu_memory_utilization": 0.8,
}


class RecipeImportError(ValueError):
    """The open-r1 config cannot be turned into a recipe (named key, value, what is allowed)."""


@dataclasses.dataclass
class Imported:
    params: dict
    notes: list[str]  # what was dropped or assumed, and why
    unknown: list[str]  # keys not mapped: named for the user
    chat_template: str | None = None


def _fields(cls) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def guess_stage(path: Path, config: dict) -> str:
    parts = set(path.parts)
    if "grpo" in parts or "reward_funcs" in config or "num_generations" in config:
        return "grpo"
    if "sft" in parts:
        return "sft"
    return "sft"


def _source_name(dataset_id: str, config: str | None, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_.-]", "_", dataset_id.split("/")[-1])
    if config and config not in ("default", "all"):
        base += "_" + re.sub(r"[^A-Za-z0-9_.-]", "_", config)
    name, i = base, 2
    while name in taken:
        name, i = f"{base}_{i}", i + 1
    taken.add(name)
    return name


def _datasets(config: dict, stage: str, notes: list[str], unknown: list[str]) -> tuple[dict, dict]:
    """(datasets.hub, the stage's dataset_mixture) from open-r1's dataset keys."""
    prompt = config.get("dataset_prompt_column", "prompt")
    hub, members, taken = {}, [], set()

    def add(dataset_id, cfg, split, weight, columns: list | None, where: str):
        if not isinstance(dataset_id, str) or not dataset_id:
            raise RecipeImportError(
                f"{where}: give a Hub dataset id (e.g. open-r1/OpenR1-Math-220k)"
            )
        name = _source_name(dataset_id, cfg, taken)
        hub[name] = {
            "id": dataset_id,
            "config": cfg or "default",
            "split": split or "train",
            "revision": "main",
        }
        if stage == "grpo":
            mapping = {c: c for c in (columns or []) if c != prompt}
            mapping = {"prompt": prompt, **mapping}
        else:  # sft reads messages (or prompt + completion): keep only those of open-r1's columns
            mapping = {c: c for c in (columns or []) if c in SFT_COLUMNS}
            dropped = sorted(set(columns or []) - set(SFT_COLUMNS))
            if dropped:
                notes.append(f"{where}.columns {dropped}: sft reads only {', '.join(SFT_COLUMNS)}")
        members.append({"source": name, "weight": float(weight), "columns": mapping})

    mixture = config.get("dataset_mixture")
    if mixture is not None:
        if config.get("dataset_name"):
            raise RecipeImportError(
                "dataset_name and dataset_mixture are both set; open-r1 takes one of them"
            )
        if not isinstance(mixture, dict) or not isinstance(mixture.get("datasets"), list):
            raise RecipeImportError("dataset_mixture must be a mapping with a 'datasets' list")
        for i, entry in enumerate(mixture["datasets"]):
            where = f"dataset_mixture.datasets[{i}]"
            extra = sorted(set(entry) - {"id", "config", "split", "columns", "weight"})
            unknown.extend(f"{where}.{k}" for k in extra)
            add(
                entry.get("id"),
                entry.get("config"),
                entry.get("split"),
                entry.get("weight", 1.0),
                entry.get("columns"),
                where,
            )
        extra = sorted(set(mixture) - {"datasets", "seed", "test_split_size"})
        unknown.extend(f"dataset_mixture.{k}" for k in extra)
        seed = mixture.get("seed", 42)
    elif config.get("dataset_name"):
        cfg = config.get("dataset_config")
        configs = config.get("dataset_configs")
        if cfg is None and configs:
            cfg = configs[0]
            if len(configs) > 1:
                notes.append(
                    f"dataset_configs {configs}: only the first ({cfg}) is used; list the others "
                    "as a dataset_mixture"
                )
        add(
            config["dataset_name"],
            cfg,
            config.get("dataset_train_split"),
            1.0,
            None,
            "dataset_name",
        )
        seed = 42
    else:
        raise RecipeImportError(
            "the config names no training data: give dataset_name or dataset_mixture"
        )
    return hub, {"datasets": members, "seed": seed}


def convert(config: dict, path: Path, stage: str | None = None) -> Imported:
    from trl import GRPOConfig, SFTConfig

    if not isinstance(config, dict):
        raise RecipeImportError(f"{path}: an open-r1 recipe is a YAML mapping")
    stage = stage or guess_stage(path, config)
    trainer = GRPOConfig if stage == "grpo" else SFTConfig
    own = _fields(GRPOStageConfig if stage == "grpo" else SFTStageConfig)
    trainer_fields = _fields(trainer)
    notes, unknown = [], []
    if "model_name_or_path" not in config:
        raise RecipeImportError(f"{path}: model_name_or_path is missing")
    model = {MODEL_KEYS[k]: v for k, v in config.items() if k in MODEL_KEYS}
    model.setdefault("revision", "main")
    hub, mixture = _datasets(config, stage, notes, unknown)
    section: dict = {"dataset_mixture": mixture}
    if stage == "grpo":
        section["init_model"] = "base"  # open-r1 runs GRPO from the model it names
    test_split = (config.get("dataset_mixture") or {}).get("test_split_size")
    if test_split:
        section["test_split_size"] = test_split
    reward_kwargs: dict = {}
    benchmarks = None
    for key, value in config.items():
        if key in MODEL_KEYS or key in DATA_KEYS:
            continue
        if key == "chat_template":
            continue  # written to a file by the caller
        if key == "benchmarks":
            names = [BENCHMARKS.get(b) for b in value or []]
            missing = [b for b, n in zip(value or [], names, strict=True) if n is None]
            if missing:
                unknown.append(f"benchmarks {missing} (known: {sorted(BENCHMARKS)})")
            benchmarks = list(dict.fromkeys(n for n in names if n))
        elif key in DROPPED:
            notes.append(f"{key}: dropped ({DROPPED[key]})")
        elif key in REWARD_OPTIONS:
            targets = [
                (r, arg)
                for r, arg in REWARD_OPTIONS[key]
                if r in (config.get("reward_funcs") or [])
            ]
            for reward, arg in targets:
                reward_kwargs.setdefault(reward, {})[arg] = value
            if not targets:
                notes.append(f"{key}: dropped (none of its rewards is in reward_funcs)")
        elif key == "code_provider":
            if value in ("local", "piston") and "cf_code" in (config.get("reward_funcs") or []):
                reward_kwargs.setdefault("cf_code", {})["provider"] = value
            else:
                unknown.append(
                    f"code_provider: {value!r} (the code rewards here run in the local sandbox: "
                    "set reward_kwargs.<reward>.provider)"
                )
        elif key == "scale_rewards" and isinstance(value, bool) and stage == "grpo":
            section[key] = "group" if value else "none"  # TRL 1.x's names for True / False
        elif key in RENAMED and RENAMED[key] in (own | trainer_fields):
            section[RENAMED[key]] = value
            notes.append(f"{key}: as {RENAMED[key]} (its name in TRL 1.x / transformers 5)")
        elif key in own or key in trainer_fields:
            section[key] = value
        else:
            unknown.append(key)
    if reward_kwargs:
        section["reward_kwargs"] = reward_kwargs
    if benchmarks is None:
        code = CODE_REWARDS & set(config.get("reward_funcs") or [])
        benchmarks = ["lcb_codegeneration"] if code else ["aime24", "math_500", "gpqa_diamond"]
        notes.append(
            f"benchmarks: the recipe names none; {benchmarks} chosen (open-r1's evaluation of "
            f"{'code' if code else 'math'} models)"
        )
    notes.append(
        "revisions: open-r1 pins no dataset or benchmark commit, so they are `main`; pin commits "
        "for a fixed run"
    )
    if stage == "sft":
        section.setdefault("generations", "all")  # dvc.yaml's sft-data stage reads it
    params = {
        "pipeline": {
            "distill": [],
            "sft": ["student"] if stage == "sft" else [],
            "grpo": ["student"] if stage == "grpo" else [],
            "evaluate": ["base", stage],
        },
        "datasets": {"paths": {}, "hub": hub},
        "embedded": {"seed": 0},
        "model": model,
        "benchmarks": {"names": benchmarks, "paths": {}, "hub": dict.fromkeys(benchmarks, "main")},
        "decontaminate": {
            "ngram_size": 8,
            "normalization": "basic",
            "check_completions": False,
            "deduplicate": True,
        },
        stage: section,
        "evaluate": dict(EVALUATE),
        "external_models": {"paths": {}, "hub": {}},
    }
    template = config.get("chat_template")
    return Imported(
        params, notes, unknown, template if isinstance(template, str) and template else None
    )


def write(imported: Imported, source: Path, out: Path | None, validate) -> str:
    """The params file's text, written to ``out`` once ``validate`` accepts it; the chat
    template (open-r1 gives it inline) goes to a .jinja file beside ``out`` (or the current
    folder), which model.chat_template names."""
    template = None
    if imported.chat_template:
        template = (
            out.parent if out else Path(".")
        ) / f"{(out or source).stem}.chat_template.jinja"
        template.write_text(imported.chat_template, encoding="utf-8")
        imported.params["model"]["chat_template"] = str(template)
    try:
        validate(imported.params)
    except Exception:
        if template:
            template.unlink()  # nothing half-written is left behind
        raise
    lines = [f"# Imported from open-r1's {source} with `python -m r1.recipe import`."]
    lines += [f"# note: {n}" for n in imported.notes]
    lines += [f"# NOT MAPPED (no counterpart here): {k}" for k in imported.unknown]
    text = (
        "\n".join(lines)
        + "\n\n"
        + yaml.safe_dump(imported.params, sort_keys=False, allow_unicode=True, width=120)
    )
    if out:
        from r1.atomic import write_text_atomic

        write_text_atomic(out, text)
    return text
