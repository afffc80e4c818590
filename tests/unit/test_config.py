"""The strict params loader: typos and wrong types fail at once, naming stage and key."""

from dataclasses import dataclass
from typing import Literal

import pytest
from trl import GRPOConfig, SFTConfig

from r1.config import ConfigError, load_section, read_params
from r1.configs import (
    BenchmarksConfig,
    EvaluateConfig,
    GenerateConfig,
    GRPOStageConfig,
    SFTStageConfig,
)


@dataclass
class Own:
    name: str
    size: int = 1
    ratio: float = 0.5
    mode: Literal["a", "b"] = "a"
    tags: list[str] | None = None


def test_splits_own_and_trainer_keys():
    own, trainer = load_section({"s": {"name": "x", "learning_rate": 1e-5, "max_length": 64}}, "s", "sft", Own, SFTConfig)
    assert own.name == "x" and own.size == 1
    assert trainer == {"learning_rate": 1e-5, "max_length": 64}


@pytest.mark.parametrize(
    "values, message",
    [
        ({"name": "x", "learnig_rate": 1e-5}, "unknown key 'learnig_rate' in params.yaml section 's'; did you mean 'learning_rate'"),
        ({"name": "x", "size": "3"}, "s.size = '3' (str) does not match the expected type int"),
        ({"name": "x", "size": True}, "s.size = True (bool)"),
        ({"name": "x", "ratio": "0.1"}, "s.ratio = '0.1'"),
        ({"name": "x", "mode": "c"}, "s.mode = 'c'"),
        ({"name": "x", "tags": ["a", 3]}, "s.tags"),
        ({"name": "x", "learning_rate": "fast"}, "s.learning_rate = 'fast'"),
        ({"name": "x", "num_train_epochs": [1]}, "s.num_train_epochs"),
        ({"size": 2}, "section 's'"),  # the required `name` is missing
    ],
)
def test_rejects_with_a_message_naming_stage_and_key(values, message):
    with pytest.raises(ConfigError) as err:
        load_section({"s": values}, "s", "sft", Own, SFTConfig)
    assert "stage 'sft'" in str(err.value)
    assert message in str(err.value)


def test_int_is_a_valid_float_and_none_a_valid_optional():
    own, _ = load_section({"s": {"name": "x", "ratio": 1, "tags": None}}, "s", "st", Own)
    assert own.ratio == 1 and own.tags is None


def test_missing_section_and_non_mapping_section():
    with pytest.raises(ConfigError, match="has no 'grpo' section"):
        load_section({}, "grpo", "grpo", GRPOStageConfig, GRPOConfig)
    with pytest.raises(ConfigError, match="'grpo' must be a mapping"):
        load_section({"grpo": [1, 2]}, "grpo", "grpo", GRPOStageConfig, GRPOConfig)


def test_forbidden_keys_say_why():
    with pytest.raises(ConfigError, match="sft.output_dir cannot be set here: stage decides"):
        load_section({"sft": {"output_dir": "x"}}, "sft", "sft", SFTStageConfig, SFTConfig,
                     forbidden={"output_dir": "stage decides"})


def test_unknown_benchmark_is_named():
    with pytest.raises(ConfigError, match="unknown benchmark 'math_50'; did you mean 'math_500'"):
        load_section({"benchmarks": {"names": ["math_50"]}}, "benchmarks", "evaluate", BenchmarksConfig)


def test_local_only_benchmark_needs_a_path():
    with pytest.raises(ConfigError, match="'embedded_math' has no Hub source"):
        load_section({"benchmarks": {"names": ["embedded_math"]}}, "benchmarks", "evaluate", BenchmarksConfig)


def test_openai_backend_needs_base_url():
    with pytest.raises(ConfigError, match="needs base_url"):
        load_section({"generate": {"model": "m", "dataset": "d", "backend": "openai"}}, "generate", "generate",
                     GenerateConfig)


def test_committed_params_load_for_every_stage(repo_root):
    params = read_params(repo_root / "params.yaml")
    load_section(params, "sft", "sft", SFTStageConfig, SFTConfig)
    load_section(params, "grpo", "grpo", GRPOStageConfig, GRPOConfig)
    load_section(params, "benchmarks", "evaluate", BenchmarksConfig)
    if "evaluate" in params:
        load_section(params, "evaluate", "evaluate", EvaluateConfig)
    if "generate" in params:
        load_section(params, "generate", "generate", GenerateConfig)


def test_read_params_errors(tmp_path):
    with pytest.raises(ConfigError, match="params file not found"):
        read_params(tmp_path / "nope.yaml")
    (tmp_path / "p.yaml").write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="must be a mapping"):
        read_params(tmp_path / "p.yaml")


@pytest.mark.parametrize(
    "text, where",
    [
        ("sft:\n  learning_rate: 1.0e-3\n  max_length: [256\n", "line 4, column 1"),
        ("sft:\n  a: 1\n b: 2\n", "line 3, column 2"),
        ("sft:\n  prompt: \"unterminated\n", "line 3, column 1"),
    ],
)
def test_invalid_yaml_names_the_file_and_line_in_one_line(tmp_path, text, where):
    path = tmp_path / "params.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        read_params(path)
    message = str(err.value)
    assert message.startswith(f"{path}: invalid YAML at {where}: ")
    assert "\n" not in message
