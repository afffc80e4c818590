"""Which model folder `--model NAME` means, and its lighteval model config.

NAME is a pipeline model (teacher, base, sft, grpo) or an external model of params `external_models`,
which its `model-path@NAME` / `model-hub@NAME` stage pinned in models/NAME.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from r1.configs import EvaluateConfig, ExternalModelsConfig, ModelConfig

# Each pipeline model's folder. `base` is the `base` stage's pinned copy of model.name_or_path
# (a Hub model is downloaded there once, at model.revision, and content-hashed by DVC), so the
# evaluation reads exactly the weights sft started from and never reaches the Hub.
MODEL_DIRS = {"teacher": "models/teacher", "base": "models/base", "sft": "models/sft", "grpo": "models/grpo"}
# The stage that writes each folder (named in the error when one is missing).
PRODUCERS = {"models/embedded": "embedded", "models/teacher": "teacher", "models/base": "base",
             "models/sft": "sft", "models/grpo": "grpo"}
MODEL_CHOICES = ("teacher", "base", "sft", "grpo")


class ModelNotFoundError(FileNotFoundError):
    """A model folder the stage needs is missing; the message says which stage produces it."""


@dataclasses.dataclass(frozen=True)
class ResolvedModel:
    """A model to evaluate: its path or Hub id and the loading options from params."""

    label: str                 # base / sft / grpo / an external model's name / an ad-hoc id or path
    name_or_path: str          # a folder of the pipeline, or a Hub id (ad hoc, outside the pipeline)
    local: bool
    revision: str
    dtype: str
    attn_implementation: str | None
    trust_remote_code: bool
    chat_template: str | None  # a .jinja file replacing the tokenizer's (base only)


def is_local(name: str) -> bool:
    """A path on this machine, or one shaped like a path whose folder is missing.

    `models/embedded` and a Hub id `Qwen/Qwen2.5-1.5B` have the same shape; a name whose first
    component is a folder here (``models/``) is taken as local, so a missing model is reported
    as missing instead of being looked up on the Hub.
    """
    path = Path(name)
    return path.exists() or name.startswith((".", "/", "~")) or (len(path.parts) > 1 and Path(path.parts[0]).is_dir())


def resolve(label: str, model: ModelConfig, external: ExternalModelsConfig | None = None) -> ResolvedModel:
    """The model behind ``label``; a missing local folder is a `ModelNotFoundError`.

    External models load with the `model` section's options (dtype, attention,
    trust_remote_code) but keep their own chat template.
    """
    external_names = external.names() if external is not None else []
    if label in MODEL_CHOICES:
        name, producer = MODEL_DIRS[label], None
    elif label in external_names:
        name = f"models/{label}"
        producer = f"model-path@{label}" if label in external.paths else f"model-hub@{label}"
    else:
        choices = ", ".join([*MODEL_CHOICES, *external_names])
        raise ValueError(f"unknown model '{label}' (choose from {choices}, or add it to external_models)")
    # sft/grpo save their tokenizer with the template they trained with; the base folder holds
    # the original tokenizer, so model.chat_template (as sft applies it) replaces its template.
    template = model.chat_template if label == "base" else None
    return local_model(label, name, model, template=template, producer=producer)


def local_model(label: str, name: str, model: ModelConfig, *, template: str | None = None,
                producer: str | None = None) -> ResolvedModel:
    """A model folder on this machine, checked to hold a model, with ``model``'s loading options."""
    path = Path(name).expanduser()
    if not (path / "config.json").is_file():
        producer = producer or PRODUCERS.get(Path(name).as_posix().rstrip("/"))
        hint = (f"; it is produced by the '{producer}' stage (run `dvc repro {producer}`)" if producer
                else "; give a model folder or a Hub id")
        what = "does not exist" if not path.exists() else "has no config.json"
        raise ModelNotFoundError(f"model '{label}': {name} {what}{hint}")
    # revision: a local folder is what it is (model.revision was applied when it was pinned)
    return ResolvedModel(
        label=label, name_or_path=name, local=True, revision="main", dtype=model.torch_dtype,
        attn_implementation=model.attn_implementation, trust_remote_code=model.trust_remote_code,
        chat_template=template,
    )


def hub_model(repo_id: str, revision: str, model: ModelConfig) -> ResolvedModel:
    """A Hub model evaluated ad hoc (outside the pipeline), with ``model``'s loading options."""
    return ResolvedModel(
        label=repo_id, name_or_path=repo_id, local=False, revision=revision, dtype=model.torch_dtype,
        attn_implementation=model.attn_implementation, trust_remote_code=model.trust_remote_code,
        chat_template=None,
    )


def tokenizer_with_template(model: ResolvedModel, out_dir: Path) -> str | None:
    """A tokenizer folder with `model.chat_template` applied, or None to use the model's own.

    lighteval loads the tokenizer by name, so a replacement template (as sft applies to the
    base model) is given to it as a saved tokenizer in a temporary folder.
    """
    if model.chat_template is None:
        return None
    from transformers import AutoTokenizer

    template = Path(model.chat_template)
    if not template.is_file():
        raise FileNotFoundError(f"model.chat_template: {template} does not exist")
    tokenizer = AutoTokenizer.from_pretrained(model.name_or_path, revision=model.revision,
                                              trust_remote_code=model.trust_remote_code)
    tokenizer.chat_template = template.read_text(encoding="utf-8")
    tokenizer.save_pretrained(out_dir)
    return str(out_dir)


def lighteval_model_config(model: ResolvedModel, cfg: EvaluateConfig, *, cache_dir: str,
                           tokenizer: str | None = None):
    """lighteval's TransformersModelConfig or VLLMModelConfig for ``model`` and ``cfg``."""
    from lighteval.models.model_input import GenerationParameters

    # The transformers backend takes the budget from the task's generation_size (tasks.build_task
    # sets it). Given max_new_tokens here as well, lighteval 0.13 uses it as the length of prompt
    # *plus* generation and cuts every prompt to its last max_new_tokens tokens (transformers_model
    # `_generate`: max_context_continuation_size_allowed), so a 57-token prompt with a 40-token
    # budget lost its first 17 tokens. vLLM reads it from here only.
    generation = GenerationParameters(
        temperature=cfg.temperature, top_p=cfg.top_p, seed=cfg.seed,
        max_new_tokens=cfg.max_new_tokens if cfg.backend == "vllm" else None,
    )
    common = dict(
        model_name=model.name_or_path,
        tokenizer=tokenizer,
        revision=model.revision,
        trust_remote_code=model.trust_remote_code,
        generation_parameters=generation,
        system_prompt=cfg.system_prompt,
        # lighteval caches generations per model *name*; models/sft is the same name after every
        # retraining, so a persistent cache would serve stale answers. A per-run folder instead.
        cache_dir=cache_dir,
    )
    if cfg.backend == "vllm":
        from lighteval.models.vllm.vllm_model import VLLMModelConfig

        return VLLMModelConfig(
            **common,
            dtype=model.dtype,
            seed=cfg.seed,
            tensor_parallel_size=cfg.tensor_parallel_size,
            data_parallel_size=cfg.data_parallel_size,
            gpu_memory_utilization=cfg.gpu_memory_utilization,
            max_model_length=cfg.max_model_length,
        )
    import torch
    from lighteval.models.transformers.transformers_model import TransformersModelConfig

    loading = {"attn_implementation": model.attn_implementation} if model.attn_implementation else {}
    return TransformersModelConfig(
        **common,
        dtype=model.dtype,
        batch_size=cfg.batch_size,
        model_loading_kwargs=loading,
        device="cuda" if torch.cuda.is_available() else "cpu",
        max_length=cfg.max_model_length,
    )
