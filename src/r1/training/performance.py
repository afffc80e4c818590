"""Fast training settings chosen from the device and the model, unless params pin them.

`choose` is a pure function of what it is told (the device, the model's size, the stage's
params), so every branch is tested on a CPU by faking its inputs; `detect_device` and
`model_info` gather those inputs on the real machine, and `apply` writes the choices into the
trainer's kwargs and `from_pretrained`'s in one place.

The choices never change the math: the effective batch (micro-batch x gradient accumulation),
the optimizer's update rule and the precision stay as params say; only kernels, the fused
AdamW implementation, activation recomputation and the split of the effective batch into
micro-batches change. So, like the launcher, they are not part of the checkpoint key (a run
resumes on another machine), and each run records them in its r1_run.json. `performance: off`
leaves every setting exactly as params give it.

No library picks these for a given GPU and model (accelerate's `find_executable_batch_size`
retries after OOM, which wastes minutes per try on a 16k-token row and changes the effective
batch), hence the small memory model below.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import logging
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

# Dense bf16 tensor-core peaks (no sparsity), FLOP/s per device, by a substring of the CUDA
# device name; MFU is reported against these and omitted for a device not listed.
PEAK_FLOPS = {"H200": 989e12, "H100": 989e12, "B200": 2250e12, "A100": 312e12, "L40S": 362e12}

# flex_attention's kernels work on 128-token blocks: torch 2.11 fails to compile a row
# shorter than that (README, Troubleshooting), so packed rows are padded to a multiple of it.
FLEX_BLOCK = 128
# Share of the device's memory the estimate may fill: the allocator's fragmentation, the CUDA
# context and NCCL buffers take the rest.
MEMORY_HEADROOM = 0.85
# Activation bytes per token per layer per hidden unit in 16-bit with a fused attention kernel
# (no seq^2 term). Korthikanti et al. 2022 ("Reducing Activation Recomputation") count 34; the
# measured peak is higher: Qwen2.5-1.5B, 8 x 4096 packed tokens, flex_attention, liger, TRL's
# fused LM head, fused AdamW peaked at 79.0 GiB on an H200 (benchmarks/results), which is 47
# bytes over this file's static term. With 34 the model picked 16 rows, which runs out of memory.
ACTIVATION_BYTES = 48
# With gradient checkpointing only each layer's input (2 bytes per hidden unit) is kept,
# plus one layer's full activations while it is recomputed.
CHECKPOINT_BYTES = 2


@dataclass(frozen=True)
class DeviceInfo:
    cuda: bool
    name: str = "cpu"
    memory_gb: float | None = None
    flash_attn: bool = False
    liger: bool = False


@dataclass(frozen=True)
class ModelInfo:
    params: int
    hidden_size: int
    num_layers: int
    vocab_size: int
    bytes_per_param: int = 2  # the weights' dtype: 4 for float32, 2 for bf16/fp16


@dataclass
class Choices:
    mode: str
    device: str
    attn_implementation: str | None
    use_liger_kernel: bool
    optim: str | None
    gradient_checkpointing: bool
    per_device_train_batch_size: int
    gradient_accumulation_steps: int
    pad_to_multiple_of: int | None = None
    # GRPO without vLLM: the KV cache transformers' generate uses, and whether its decode step
    # is compiled (CUDA graphs), which TRL switches off by default.
    cache_implementation: str | None = None
    compile_generation: bool = False
    # What each choice was based on, for r1_run.json and the log.
    reasons: dict[str, str] = field(default_factory=dict)

    def record(self) -> dict:
        return dataclasses.asdict(self)


def detect_device() -> DeviceInfo:
    import torch

    has = lambda module: importlib.util.find_spec(module) is not None  # noqa: E731
    if not torch.cuda.is_available():
        return DeviceInfo(cuda=False)
    props = torch.cuda.get_device_properties(0)
    return DeviceInfo(cuda=True, name=props.name, memory_gb=props.total_memory / 2**30,
                      flash_attn=has("flash_attn"), liger=has("liger_kernel"))


def model_info(path: str, dtype: str, trust_remote_code: bool = False) -> ModelInfo:
    """The model's size from its config, built on the meta device (no weights are read)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(path, trust_remote_code=trust_remote_code)
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config, trust_remote_code=trust_remote_code)
    text = config.get_text_config()
    return ModelInfo(params=sum(p.numel() for p in model.parameters()), hidden_size=text.hidden_size,
                     num_layers=text.num_hidden_layers, vocab_size=text.vocab_size,
                     bytes_per_param=4 if dtype == "float32" else 2)


def peak_flops(device_name: str) -> float | None:
    return next((peak for key, peak in PEAK_FLOPS.items() if key in device_name), None)


def memory_gb(model: ModelInfo, *, tokens: int, checkpointing: bool, liger: bool) -> float:
    """Estimated peak training memory of one process for a micro-batch of ``tokens`` tokens.

    Weights and gradients in the weights' dtype plus AdamW's two states in float32 (ZeRO
    sharding left out: a safe over-estimate); activations as in ACTIVATION_BYTES; the logits in
    float32 and their gradient, unless liger's fused linear cross-entropy never builds them.
    """
    static = model.params * (2 * model.bytes_per_param + 8)
    per_layer = model.hidden_size * (CHECKPOINT_BYTES if checkpointing else ACTIVATION_BYTES)
    activations = tokens * model.num_layers * per_layer
    if checkpointing:
        activations += tokens * model.hidden_size * ACTIVATION_BYTES  # the layer being recomputed
    logits = 0 if liger else tokens * model.vocab_size * 8
    return (static + activations + logits) / 2**30


def choose(device: DeviceInfo, model: ModelInfo | None, *, stage: str, mode: str, trainer_kwargs: dict,
           attn_implementation: str | None, seq_len: int, config_defaults: dict | None = None) -> Choices:
    """The settings a run trains with. ``trainer_kwargs`` are the TRL keys params set (a key
    present there is pinned); ``attn_implementation`` is params' model.attn_implementation;
    ``config_defaults`` what the TRL config class gives a key params leave out."""
    defaults = config_defaults or _TRAINER_DEFAULTS
    micro = trainer_kwargs.get("per_device_train_batch_size", defaults["per_device_train_batch_size"])
    accum = trainer_kwargs.get("gradient_accumulation_steps", defaults["gradient_accumulation_steps"])
    as_given = Choices(mode=mode, device=device.name, attn_implementation=attn_implementation,
                       use_liger_kernel=trainer_kwargs.get("use_liger_kernel", False),
                       optim=trainer_kwargs.get("optim"),
                       gradient_checkpointing=trainer_kwargs.get("gradient_checkpointing",
                                                                 defaults["gradient_checkpointing"]),
                       per_device_train_batch_size=micro, gradient_accumulation_steps=accum,
                       pad_to_multiple_of=_int_or_none(trainer_kwargs.get("pad_to_multiple_of")),
                       cache_implementation=trainer_kwargs.get("cache_implementation"))
    if mode == "off":
        as_given.reasons["all"] = "performance: off: every setting as params give it"
        return as_given
    if not device.cuda:
        # What the embedded default has always trained with, so its results do not change.
        as_given.reasons["all"] = "no CUDA device: params' settings (sdpa by default)"
        return as_given
    c, why = as_given, as_given.reasons
    packed = stage == "sft" and (trainer_kwargs.get("packing", False) or trainer_kwargs.get("padding_free", False))

    if attn_implementation:
        why["attn_implementation"] = "pinned by params model.attn_implementation"
        if attn_implementation == "flex_attention" and packed and c.pad_to_multiple_of is None:
            c.pad_to_multiple_of = FLEX_BLOCK
            why["pad_to_multiple_of"] = f"flex_attention pinned: packed rows padded to a multiple of {FLEX_BLOCK} tokens"
    elif device.flash_attn:
        c.attn_implementation = "flash_attention_2"
        why["attn_implementation"] = "flash-attn installed: varlen kernel keeps packed documents apart"
    elif packed and c.pad_to_multiple_of is not None and c.pad_to_multiple_of % FLEX_BLOCK:
        c.attn_implementation = "sdpa"
        why["attn_implementation"] = (f"params pin pad_to_multiple_of {c.pad_to_multiple_of}, not a multiple of "
                                      f"{FLEX_BLOCK}: flex_attention fails on short rows, sdpa keeps documents apart")
    elif packed:
        c.attn_implementation = "flex_attention"
        c.pad_to_multiple_of = c.pad_to_multiple_of or FLEX_BLOCK
        why["attn_implementation"] = (f"no flash-attn: flex_attention's block mask keeps packed documents apart; "
                                      f"rows padded to a multiple of {FLEX_BLOCK} tokens, the shortest it compiles")
    else:
        c.attn_implementation = "sdpa"
        why["attn_implementation"] = "no flash-attn and rows not packed: sdpa"

    if "use_liger_kernel" in trainer_kwargs:
        why["use_liger_kernel"] = "pinned by params"
    elif stage != "sft":
        # GRPOTrainer swaps its whole loss for liger's fused GRPO loss under this flag, a path
        # no GPU test here covers yet: opt in with use_liger_kernel: true.
        why["use_liger_kernel"] = "GRPO: only when params set it (liger's fused GRPO loss replaces TRL's)"
    else:
        c.use_liger_kernel = device.liger
        why["use_liger_kernel"] = "liger-kernel installed" if device.liger else "liger-kernel not installed"

    if "optim" in trainer_kwargs:
        why["optim"] = "pinned by params"
    else:
        c.optim = "adamw_torch_fused"
        why["optim"] = "AdamW, fused CUDA kernel (same update as adamw_torch)"

    if stage == "grpo":
        _choose_generation(c, trainer_kwargs)
    _size_batch(c, device, model, stage=stage, seq_len=seq_len,
                checkpointing_pinned="gradient_checkpointing" in trainer_kwargs)
    return c


def _choose_generation(c: Choices, trainer_kwargs: dict) -> None:
    """HF generate's decode step for a small model is bound by kernel launches (about 24 ms a
    token at batch 16 for 0.5B on an H200 while the GPU needs ~1 ms): a static KV cache lets
    transformers compile that step into CUDA graphs. Sampling is unchanged, so the math is too."""
    why = c.reasons
    if trainer_kwargs.get("use_vllm"):
        why["generation"] = "vLLM generates: transformers' cache and compilation unused"
        return
    if "cache_implementation" in trainer_kwargs:
        c.compile_generation = c.cache_implementation == "static"
        why["generation"] = ("cache_implementation pinned by params"
                             + (": static, decode step compiled" if c.compile_generation else ": not compiled"))
        return
    c.cache_implementation, c.compile_generation = "static", True
    why["generation"] = "no vLLM: static KV cache, decode step compiled into CUDA graphs (transformers' generate)"


def _size_batch(c: Choices, device: DeviceInfo, model: ModelInfo | None, *, stage: str, seq_len: int,
                checkpointing_pinned: bool) -> None:
    why = c.reasons
    if model is None or device.memory_gb is None:
        why["batch"] = "model or device memory unknown: params' micro-batch and checkpointing"
        return
    budget = device.memory_gb * MEMORY_HEADROOM
    effective = c.per_device_train_batch_size * c.gradient_accumulation_steps
    # GRPO's generation batch and its grouping by num_generations follow the micro-batch, so
    # only SFT re-splits the effective batch; GRPO decides checkpointing for params' micro-batch.
    candidates = ([b for b in range(effective, 0, -1) if effective % b == 0] if stage == "sft"
                  else [c.per_device_train_batch_size])
    modes = [c.gradient_checkpointing] if checkpointing_pinned else [False, True]

    def fits(b: int, ckpt: bool) -> bool:
        return memory_gb(model, tokens=b * seq_len, checkpointing=ckpt, liger=c.use_liger_kernel) <= budget

    for ckpt in modes:
        fitting = [b for b in candidates if fits(b, ckpt)]
        if fitting:
            c.gradient_checkpointing = ckpt
            c.per_device_train_batch_size = fitting[0]
            c.gradient_accumulation_steps = effective // fitting[0]
            why["batch"] = (f"largest micro-batch of {effective} rows x {seq_len} tokens that fits "
                            f"{budget:.0f} of {device.memory_gb:.0f} GiB"
                            + (" with gradient checkpointing" if ckpt else " without gradient checkpointing")
                            + (" (pinned)" if checkpointing_pinned else ""))
            return
    c.gradient_checkpointing = True if not checkpointing_pinned else c.gradient_checkpointing
    c.per_device_train_batch_size, c.gradient_accumulation_steps = candidates[-1], effective // candidates[-1]
    why["batch"] = (f"even {candidates[-1]} row(s) of {seq_len} tokens exceed the estimate's {budget:.0f} GiB: "
                    "smallest micro-batch" + (" with gradient checkpointing" if c.gradient_checkpointing else ""))
    log.warning("performance: %s", why["batch"])


def _int_or_none(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else None  # TRL's "auto": unset


def configure(stage: str, mode: str, config_class: type, model_dir: str, model_cfg, trainer_kwargs: dict,
              model_kwargs: dict) -> Choices:
    """Choose for this machine and apply, in place; the stage records the result in r1_run.json."""
    defaults = config_class.__dataclass_fields__
    get = lambda key: trainer_kwargs.get(key, defaults[key].default if key in defaults else None)  # noqa: E731
    seq_len = (get("max_length") if stage == "sft"
               else (get("max_prompt_length") or 512) + get("max_completion_length"))
    device = detect_device()
    trl_defaults = config_defaults(config_class)
    # A missing folder is reported by the stage's own check, with the stage that makes it.
    model = (model_info(model_dir, model_cfg.torch_dtype, model_cfg.trust_remote_code)
             if device.cuda and mode == "auto" and Path(model_dir).is_dir() else None)
    choices = choose(device, model, stage=stage, mode=mode, trainer_kwargs=trainer_kwargs,
                     attn_implementation=model_cfg.attn_implementation, seq_len=seq_len,
                     config_defaults=trl_defaults)
    apply(choices, trainer_kwargs, model_kwargs, trl_defaults)
    if stage == "sft":
        # Counted by the Trainer (summed over processes, saved in checkpoints) for tokens/s.
        trainer_kwargs.setdefault("include_num_input_tokens_seen", "all")
    log.info("performance %s on %s: %s", mode, device.name, {k: v for k, v in choices.record().items() if k != "reasons"})
    return choices


def apply(choices: Choices, trainer_kwargs: dict, model_kwargs: dict, defaults: dict | None = None) -> None:
    """Write the choices into the trainer's kwargs and `from_pretrained`'s, in place; under
    `off` or on CPU nothing that params did not say is added. A choice equal to the config
    class's default (``defaults``) is left unwritten; one that differs is always written."""
    defaults = defaults or _TRAINER_DEFAULTS
    if choices.attn_implementation:
        model_kwargs["attn_implementation"] = choices.attn_implementation
    for key in ("use_liger_kernel", "optim", "gradient_checkpointing", "per_device_train_batch_size",
                "gradient_accumulation_steps", "pad_to_multiple_of", "cache_implementation"):
        value = getattr(choices, key)
        if value is not None and (key in trainer_kwargs or value != defaults.get(key)):
            trainer_kwargs[key] = value


def compile_generation(trainer, choices: Choices) -> None:
    """GRPOTrainer builds its GenerationConfig with `disable_compile=True`, whatever the cache;
    undo that when the static cache was chosen, so generate compiles the decode step."""
    generation_config = getattr(trainer, "generation_config", None)
    if choices.compile_generation and generation_config is not None:
        generation_config.disable_compile = False


def config_defaults(config_class: type) -> dict:
    """The TRL config class's own defaults for the keys chosen here. They differ from
    TrainingArguments': TRL's SFTConfig and GRPOConfig turn gradient checkpointing on."""
    fields = config_class.__dataclass_fields__
    return {key: fields[key].default if key in fields else value for key, value in _TRAINER_DEFAULTS.items()}


# TrainingArguments' defaults for the keys above: a choice equal to the default is not written,
# so a CPU run's kwargs stay byte-for-byte what params give.
_TRAINER_DEFAULTS = {"use_liger_kernel": False, "gradient_checkpointing": False, "per_device_train_batch_size": 8,
                     "gradient_accumulation_steps": 1}
