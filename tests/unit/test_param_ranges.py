"""Value ranges and cross-field rules: nonsense values stop in the loader, in one line naming
stage, section.key, the value and what is allowed (issue #4 and the params part of #5)."""

import dataclasses
import typing

import pytest
from trl import GRPOConfig, SFTConfig

from r1 import configs
from r1.config import ConfigError, load_section
from r1.configs import (
    DecontaminateConfig,
    EmbeddedConfig,
    EvaluateConfig,
    FilterConfig,
    GenerateConfig,
    GRPOStageConfig,
    SFTStageConfig,
)
from r1.ranges import TRAINER_RANGES, Checked, OutOfRange, Range

GEN = {"model": "m", "dataset": "d.jsonl"}
SECTIONS = {
    "sft": (SFTStageConfig, SFTConfig),
    "grpo": (GRPOStageConfig, GRPOConfig),
    "generate": (GenerateConfig, None),
    "evaluate": (EvaluateConfig, None),
    "filter": (FilterConfig, None),
    "embedded": (EmbeddedConfig, None),
    "decontaminate": (DecontaminateConfig, None),
}


def _load(section: str, values: dict):
    own, trainer = SECTIONS[section]
    return load_section({section: values}, section, section, own, trainer)


@pytest.mark.parametrize(
    "section, values, message",
    [
        # issue #4
        ("evaluate", {"max_new_tokens": 48, "max_model_length": 32},
         "evaluate.max_new_tokens = 48 is out of range: must be <= max_model_length (32)"),
        ("generate", {**GEN, "top_p": 2.0}, "generate.top_p = 2.0 is out of range: must be in (0, 1]"),
        ("sft", {"num_train_epochs": 0},
         "sft.num_train_epochs = 0 is out of range: must be > 0 while max_steps is -1 (unset)"),
        # issue #5
        ("sft", {"learning_rate": -1.0e-3}, "sft.learning_rate = -0.001 is out of range: must be > 0"),
        ("sft", {"max_length": 0}, "sft.max_length = 0 is out of range: must be >= 1"),
        ("generate", {**GEN, "input_batch_size": 0}, "generate.input_batch_size = 0 is out of range: must be >= 1"),
        ("generate", {**GEN, "max_new_tokens": 0}, "generate.max_new_tokens = 0 is out of range: must be >= 1"),
        # more of the table
        ("grpo", {"num_train_epochs": 0}, "grpo.num_train_epochs = 0 is out of range"),
        # transformers would raise only once training starts, after the model has loaded
        ("grpo", {"lr_scheduler_type": "cosine_with_min_lr"},
         "grpo.lr_scheduler_type = 'cosine_with_min_lr' is out of range: cosine_with_min_lr needs min_lr or min_lr_rate"),
        ("grpo", {"max_steps": 0}, "grpo.max_steps = 0 is out of range: must be >= 1 or -1 (unset"),
        ("grpo", {"num_train_epochs": -1}, "grpo.num_train_epochs = -1 is out of range: must be >= 0"),
        ("grpo", {"top_p": 0.0}, "grpo.top_p = 0.0 is out of range: must be in (0, 1]"),
        ("grpo", {"temperature": 0.0}, "grpo.temperature = 0.0 is out of range: must be > 0"),
        ("grpo", {"beta": -0.1}, "grpo.beta = -0.1 is out of range: must be >= 0"),
        ("grpo", {"num_generations": 1}, "grpo.num_generations = 1 is out of range: must be >= 2"),
        ("grpo", {"max_completion_length": 0}, "grpo.max_completion_length = 0 is out of range"),
        ("grpo", {"vllm_gpu_memory_utilization": 1.5}, "grpo.vllm_gpu_memory_utilization = 1.5"),
        ("sft", {"per_device_train_batch_size": 0}, "sft.per_device_train_batch_size = 0 is out of range"),
        ("sft", {"gradient_accumulation_steps": 0}, "sft.gradient_accumulation_steps = 0 is out of range"),
        ("sft", {"warmup_steps": -0.1}, "sft.warmup_steps = -0.1 is out of range: must be >= 0"),
        ("sft", {"save_steps": 0}, "sft.save_steps = 0 is out of range: must be > 0"),
        ("sft", {"logging_steps": 0}, "sft.logging_steps = 0 is out of range: must be > 0"),
        ("generate", {**GEN, "temperature": -1.0}, "generate.temperature = -1.0 is out of range: must be >= 0"),
        ("generate", {**GEN, "num_generations": 0}, "generate.num_generations = 0 is out of range"),
        ("evaluate", {"top_p": 1.5}, "evaluate.top_p = 1.5 is out of range: must be in (0, 1]"),
        ("evaluate", {"max_model_length": 0}, "evaluate.max_model_length = 0 is out of range: must be >= 1"),
        ("evaluate", {"num_generations": 4, "temperature": 0.0},
         "evaluate.temperature = 0.0 is out of range: must be > 0: num_generations > 1 needs temperature > 0"),
        ("embedded", {"planted_contamination": 40}, "embedded.planted_contamination = 40 is out of range: "
                                                    "cannot exceed benchmark_size (32)"),
        ("decontaminate", {"ngram_size": 0}, "decontaminate.ngram_size = 0 is out of range: must be >= 1"),
    ],
)
def test_out_of_range_is_one_line_naming_stage_key_value_and_range(section, values, message):
    with pytest.raises(ConfigError) as err:
        _load(section, values)
    text = str(err.value)
    assert text.startswith(f"stage '{section}': params.yaml {section}.")
    assert message in text
    assert "\n" not in text


@pytest.mark.parametrize(
    "section, values",
    [
        ("sft", {"num_train_epochs": 0, "max_steps": 5}),  # max_steps decides the length
        ("sft", {"lr_scheduler_type": "cosine_with_min_lr", "lr_scheduler_kwargs": {"min_lr_rate": 0.1}}),
        ("sft", {"max_steps": -1, "num_train_epochs": 0.5, "warmup_steps": 0.1, "max_length": None}),
        ("grpo", {"top_p": 1.0, "temperature": 0.1, "beta": 0.0, "num_generations": 2}),
        ("evaluate", {"max_new_tokens": 32768, "max_model_length": 32768}),  # open-r1's setting
        ("evaluate", {"max_new_tokens": 48, "max_model_length": None, "temperature": 0.0}),
        ("generate", {**GEN, "temperature": 0.0, "top_p": 1.0, "retries": 0}),
        ("filter", {"pass_rate_min": 0.0, "pass_rate_max": 0.0}),
    ],
)
def test_boundary_values_are_allowed(section, values):
    _load(section, values)


def test_message_is_exactly_the_documented_format():
    with pytest.raises(ConfigError) as err:
        _load("sft", {"learning_rate": -1.0e-3})
    assert str(err.value) == "stage 'sft': params.yaml sft.learning_rate = -0.001 is out of range: must be > 0"


def test_every_trainer_range_names_a_trl_field_and_trl_defaults_are_in_range():
    fields = {f.name: f for cls in (SFTConfig, GRPOConfig) for f in dataclasses.fields(cls)}
    assert set(TRAINER_RANGES) <= set(fields), set(TRAINER_RANGES) - set(fields)
    for key, allowed in TRAINER_RANGES.items():
        default = fields[key].default
        assert default is None or allowed.contains(default), (key, default, str(allowed))


def _checked_classes():
    return [c for c in vars(configs).values() if isinstance(c, type) and issubclass(c, Checked) and c is not Checked]


@pytest.mark.parametrize("cls", _checked_classes(), ids=lambda c: c.__name__)
def test_every_declared_range_names_a_numeric_field(cls):
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    assert cls.RANGES and set(cls.RANGES) <= names, set(cls.RANGES) - names
    for key in cls.RANGES:
        assert {int, float} & set(typing.get_args(hints[key]) or (hints[key],)), key


def test_direct_construction_is_checked_too():
    with pytest.raises(OutOfRange, match=r"top_p = 2.0 is out of range: must be in \(0, 1\]"):
        GenerateConfig(model="m", dataset="d", top_p=2.0)
    with pytest.raises(ValueError, match="max_new_tokens = 48 is out of range"):
        EvaluateConfig(max_new_tokens=48, max_model_length=32)


@pytest.mark.parametrize(
    "allowed, text",
    [
        (Range(0, low_open=True), "must be > 0"),
        (Range(1), "must be >= 1"),
        (Range(0, 1, low_open=True), "must be in (0, 1]"),
        (Range(0, 1, high_open=True), "must be in [0, 1)"),
        (Range(1, sentinels=((-1, "unset"),)), "must be >= 1 or -1 (unset)"),
        (Range(high=0.5), "must be <= 0.5"),
    ],
)
def test_range_text(allowed, text):
    assert str(allowed) == text
