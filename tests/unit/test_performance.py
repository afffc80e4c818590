"""The fast-training choices (r1.training.performance), every branch on faked devices and models."""

import pytest

from r1.config import ConfigError, load_section
from r1.configs import GRPOStageConfig, SFTStageConfig
from r1.training import performance
from r1.training.performance import Choices, DeviceInfo, ModelInfo, choose, memory_gb

CPU = DeviceInfo(cuda=False)
H100 = DeviceInfo(cuda=True, name="NVIDIA H100 80GB HBM3", memory_gb=79.2, flash_attn=False, liger=True)
# Qwen2.5-1.5B's shape.
QWEN_1_5B = ModelInfo(params=1_543_714_304, hidden_size=1536, num_layers=28, vocab_size=151_936, bytes_per_param=2)
RECIPE_SFT = {"per_device_train_batch_size": 4, "gradient_accumulation_steps": 4, "packing": True, "max_length": 16384}


def _sft(device=H100, model=QWEN_1_5B, mode="auto", attn=None, seq_len=16384, **kwargs) -> Choices:
    return choose(device, model, stage="sft", mode=mode, trainer_kwargs={**RECIPE_SFT, **kwargs},
                  attn_implementation=attn, seq_len=seq_len)


def test_on_cpu_auto_keeps_what_params_say_so_the_embedded_results_do_not_change():
    params = {"per_device_train_batch_size": 8, "gradient_accumulation_steps": 1, "packing": True}
    c = choose(CPU, None, stage="sft", mode="auto", trainer_kwargs=params, attn_implementation="sdpa", seq_len=256)
    assert (c.attn_implementation, c.use_liger_kernel, c.optim, c.gradient_checkpointing) == ("sdpa", False, None, False)
    assert (c.per_device_train_batch_size, c.gradient_accumulation_steps) == (8, 1)
    trainer_kwargs, model_kwargs = dict(params), {"attn_implementation": "sdpa"}
    performance.apply(c, trainer_kwargs, model_kwargs)
    assert trainer_kwargs == params and model_kwargs == {"attn_implementation": "sdpa"}


def test_off_keeps_every_setting_even_on_a_gpu():
    c = _sft(mode="off", gradient_checkpointing=True)
    assert (c.attn_implementation, c.use_liger_kernel, c.optim, c.gradient_checkpointing) == (None, False, None, True)
    assert (c.per_device_train_batch_size, c.gradient_accumulation_steps) == (4, 4)
    assert "off" in c.reasons["all"]


def test_flash_attention_when_installed():
    c = _sft(device=DeviceInfo(cuda=True, name="NVIDIA H200", memory_gb=139.8, flash_attn=True, liger=True))
    assert c.attn_implementation == "flash_attention_2" and c.pad_to_multiple_of is None


def test_packed_rows_without_flash_attn_use_flex_padded_past_its_short_row_failure():
    c = _sft()
    assert (c.attn_implementation, c.pad_to_multiple_of) == ("flex_attention", performance.FLEX_BLOCK)
    assert _sft(pad_to_multiple_of=256).pad_to_multiple_of == 256
    # TRL's "auto" means unset: flex still gets its padding.
    assert _sft(pad_to_multiple_of="auto").pad_to_multiple_of == performance.FLEX_BLOCK


def test_pinned_flex_attention_still_gets_its_padding():
    assert (_sft(attn="flex_attention").pad_to_multiple_of, _sft(attn="sdpa").pad_to_multiple_of) == (128, None)


def test_a_pinned_padding_flex_cannot_use_falls_back_to_sdpa():
    c = _sft(pad_to_multiple_of=64)
    assert (c.attn_implementation, c.pad_to_multiple_of) == ("sdpa", 64)
    assert "flex_attention fails on short rows" in c.reasons["attn_implementation"]


def test_unpacked_rows_without_flash_attn_use_sdpa():
    assert _sft(packing=False).attn_implementation == "sdpa"
    grpo = choose(H100, QWEN_1_5B, stage="grpo", mode="auto", attn_implementation=None, seq_len=1536,
                  trainer_kwargs={"per_device_train_batch_size": 16, "gradient_accumulation_steps": 4})
    assert grpo.attn_implementation == "sdpa"


def test_params_pins_win_over_the_choices():
    c = _sft(attn="eager", use_liger_kernel=False, optim="adamw_torch")
    assert (c.attn_implementation, c.use_liger_kernel, c.optim) == ("eager", False, "adamw_torch")
    assert c.reasons["attn_implementation"].startswith("pinned") and c.reasons["optim"] == "pinned by params"


def test_liger_and_the_fused_optimizer_on_cuda():
    assert (_sft().use_liger_kernel, _sft().optim) == (True, "adamw_torch_fused")
    no_liger = DeviceInfo(cuda=True, name="NVIDIA H100", memory_gb=79.2)
    assert _sft(device=no_liger).use_liger_kernel is False
    grpo = choose(H100, QWEN_1_5B, stage="grpo", mode="auto", attn_implementation=None, seq_len=1536,
                  trainer_kwargs={"per_device_train_batch_size": 16})
    assert grpo.use_liger_kernel is False and "only when params set it" in grpo.reasons["use_liger_kernel"]


def test_the_micro_batch_fills_memory_and_keeps_the_effective_batch():
    # 1.5B in bf16 without checkpointing: one 16k-token row fits 80 GB, four do not.
    c = _sft()
    assert c.gradient_checkpointing is False
    assert c.per_device_train_batch_size * c.gradient_accumulation_steps == 16
    b = c.per_device_train_batch_size
    budget = H100.memory_gb * performance.MEMORY_HEADROOM
    assert memory_gb(QWEN_1_5B, tokens=b * 16384, checkpointing=False, liger=True) <= budget
    bigger = next(x for x in (2, 4, 8, 16) if x > b)
    assert memory_gb(QWEN_1_5B, tokens=bigger * 16384, checkpointing=False, liger=True) > budget
    # Short rows: the whole effective batch in one micro-batch, no accumulation.
    short = _sft(seq_len=512)
    assert (short.per_device_train_batch_size, short.gradient_accumulation_steps, short.gradient_checkpointing) == (16, 1, False)


def test_gradient_checkpointing_only_when_memory_needs_it():
    small_gpu = DeviceInfo(cuda=True, name="NVIDIA A100-SXM4-40GB", memory_gb=39.4, liger=True)
    c = _sft(device=small_gpu, seq_len=32768)
    assert c.gradient_checkpointing is True and c.per_device_train_batch_size >= 1
    assert c.per_device_train_batch_size * c.gradient_accumulation_steps == 16
    assert "with gradient checkpointing" in c.reasons["batch"]


def test_nothing_fits_gives_the_smallest_micro_batch_with_checkpointing():
    tiny_gpu = DeviceInfo(cuda=True, name="NVIDIA T4", memory_gb=15.0)
    c = _sft(device=tiny_gpu, model=ModelInfo(params=7_000_000_000, hidden_size=3584, num_layers=28,
                                              vocab_size=152_064))
    assert (c.per_device_train_batch_size, c.gradient_accumulation_steps, c.gradient_checkpointing) == (1, 16, True)
    assert "exceed" in c.reasons["batch"]


def test_pinned_checkpointing_is_kept_while_the_batch_is_sized():
    c = _sft(gradient_checkpointing=True)
    assert c.gradient_checkpointing is True
    assert c.per_device_train_batch_size > _sft().per_device_train_batch_size  # checkpointing frees room


def test_grpo_keeps_params_micro_batch_and_decides_checkpointing():
    kwargs = {"per_device_train_batch_size": 16, "gradient_accumulation_steps": 4, "use_liger_kernel": True}
    c = choose(H100, QWEN_1_5B, stage="grpo", mode="auto", trainer_kwargs=kwargs, attn_implementation=None,
               seq_len=1536)
    assert (c.per_device_train_batch_size, c.gradient_accumulation_steps, c.gradient_checkpointing) == (16, 4, False)
    long = choose(H100, QWEN_1_5B, stage="grpo", mode="auto", trainer_kwargs=kwargs, attn_implementation=None,
                  seq_len=16384)
    assert (long.per_device_train_batch_size, long.gradient_checkpointing) == (16, True)


def test_unknown_model_or_memory_keeps_params_batch():
    c = _sft(model=None)
    assert (c.per_device_train_batch_size, c.gradient_accumulation_steps) == (4, 4)
    assert "unknown" in c.reasons["batch"]


def test_apply_writes_choices_into_the_trainer_and_model_kwargs():
    trainer_kwargs, model_kwargs = dict(RECIPE_SFT), {"dtype": "bfloat16"}
    c = _sft()
    performance.apply(c, trainer_kwargs, model_kwargs)
    assert model_kwargs["attn_implementation"] == "flex_attention"
    assert trainer_kwargs["use_liger_kernel"] is True and trainer_kwargs["optim"] == "adamw_torch_fused"
    assert trainer_kwargs["pad_to_multiple_of"] == 128
    assert (trainer_kwargs["per_device_train_batch_size"], trainer_kwargs["gradient_accumulation_steps"]) == (
        c.per_device_train_batch_size, c.gradient_accumulation_steps)


def test_configure_on_this_cpu_changes_nothing_but_token_counting(monkeypatch):
    from trl import SFTConfig

    from r1.configs import ModelConfig

    monkeypatch.setattr(performance, "detect_device", lambda: CPU)
    params = {"per_device_train_batch_size": 8, "packing": True}
    trainer_kwargs, model_kwargs = dict(params), {}
    c = performance.configure("sft", "auto", SFTConfig, "missing-dir", ModelConfig(name_or_path="m"),
                              trainer_kwargs, model_kwargs)
    assert trainer_kwargs == {**params, "include_num_input_tokens_seen": "all"} and model_kwargs == {}
    assert c.record()["device"] == "cpu"


def test_peak_flops_by_device_name():
    assert performance.peak_flops("NVIDIA H100 80GB HBM3") == 989e12
    assert performance.peak_flops("NVIDIA H200") == 989e12
    assert performance.peak_flops("cpu") is None


@pytest.mark.parametrize("section,cls", [("sft", SFTStageConfig), ("grpo", GRPOStageConfig)])
def test_performance_is_auto_or_off(section, cls):
    cfg, _ = load_section({section: {"performance": "off"}}, section, section, cls)
    assert cfg.performance == "off" and cls().performance == "auto"
    with pytest.raises(ConfigError, match=rf"{section}.performance = 'fast'"):
        load_section({section: {"performance": "fast"}}, section, section, cls)


H200 = DeviceInfo(cuda=True, name="NVIDIA H200", memory_gb=140.4, flash_attn=False, liger=True)


@pytest.mark.parametrize("stage", ["sft", "grpo"])
def test_auto_without_checkpointing_overrides_trls_default_of_checkpointing(monkeypatch, stage):
    # TRL's SFTConfig and GRPOConfig default gradient_checkpointing to True (TrainingArguments: False):
    # a choice of "no checkpointing" left unwritten trained with it anyway, about 20% slower.
    from trl import GRPOConfig, SFTConfig

    from r1.configs import ModelConfig

    config_class = SFTConfig if stage == "sft" else GRPOConfig
    monkeypatch.setattr(performance, "detect_device", lambda: H200)
    monkeypatch.setattr(performance, "model_info", lambda *a: QWEN_1_5B)
    monkeypatch.setattr(performance.Path, "is_dir", lambda self: True)
    params = ({"per_device_train_batch_size": 4, "gradient_accumulation_steps": 4, "packing": True, "max_length": 4096}
              if stage == "sft" else {"per_device_train_batch_size": 16, "max_completion_length": 512})
    trainer_kwargs, model_kwargs = dict(params), {}
    c = performance.configure(stage, "auto", config_class, "models/base", ModelConfig(name_or_path="m"),
                              trainer_kwargs, model_kwargs)
    assert c.gradient_checkpointing is False
    assert trainer_kwargs["gradient_checkpointing"] is False


def test_off_records_the_checkpointing_trl_trains_with():
    from trl import SFTConfig

    c = choose(H200, QWEN_1_5B, stage="sft", mode="off", trainer_kwargs=dict(RECIPE_SFT), attn_implementation=None,
               seq_len=4096, config_defaults=performance.config_defaults(SFTConfig))
    assert c.gradient_checkpointing is True


def test_measured_memory_keeps_the_h200_sft_batch_that_fits():
    # 16 rows of 4096 tokens ran out of memory on an H200 with plain TRL; 8 peaked at 75-79 GiB.
    c = _sft(device=H200, seq_len=4096)
    assert (c.per_device_train_batch_size, c.gradient_accumulation_steps, c.gradient_checkpointing) == (8, 2, False)


def _grpo(device=H200, **kwargs) -> Choices:
    params = {"per_device_train_batch_size": 16, "gradient_accumulation_steps": 1, **kwargs}
    return choose(device, QWEN_1_5B, stage="grpo", mode="auto", trainer_kwargs=params, attn_implementation=None,
                  seq_len=640)


def test_grpo_without_vllm_compiles_generation_with_a_static_cache():
    c = _grpo()
    assert (c.cache_implementation, c.compile_generation) == ("static", True)
    trainer_kwargs = {}
    performance.apply(c, trainer_kwargs, {})
    assert trainer_kwargs["cache_implementation"] == "static"


def test_grpo_generation_choices_respect_vllm_pins_cpu_and_off():
    assert (_grpo(use_vllm=True).cache_implementation, _grpo(use_vllm=True).compile_generation) == (None, False)
    assert (_grpo(cache_implementation="dynamic").cache_implementation,
            _grpo(cache_implementation="dynamic").compile_generation) == ("dynamic", False)
    assert _grpo(cache_implementation="static").compile_generation is True
    assert _grpo(device=CPU).compile_generation is False
    off = choose(H200, QWEN_1_5B, stage="grpo", mode="off", trainer_kwargs={}, attn_implementation=None, seq_len=640)
    assert (off.cache_implementation, off.compile_generation) == (None, False)


def test_compile_generation_undoes_trls_disable_compile_only_when_chosen():
    from transformers import GenerationConfig

    class Trainer:  # GRPOTrainer builds its config with disable_compile=True
        generation_config = GenerationConfig(disable_compile=True)

    performance.compile_generation(Trainer, _grpo(use_vllm=True))
    assert Trainer.generation_config.disable_compile is True
    performance.compile_generation(Trainer, _grpo())
    assert Trainer.generation_config.disable_compile is False
