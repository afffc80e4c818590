"""`python -m r1.recipe import`: open-r1's own recipe files become params files that pass
`python -m r1.recipe check`, with every key mapped or named."""

from pathlib import Path

import pytest

from r1 import recipe
from r1.config import read_params

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "open_r1"
CONFIGS = sorted(FIXTURES.rglob("*.yaml"))


def imported(config: Path, tmp_path, capsys) -> tuple[dict, str, str]:
    out = tmp_path / "recipe.yaml"
    assert recipe.main(["import", str(config), "-o", str(out)]) == 0
    stderr = capsys.readouterr().err
    assert recipe.main(["check", str(out)]) == 0, capsys.readouterr().err
    return read_params(out), out.read_text(), stderr


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_each_open_r1_config_imports_to_a_recipe_that_passes_check(
    config, tmp_path, capsys, monkeypatch
):
    monkeypatch.chdir(ROOT)  # where params' relative paths (the chat template) are read from
    params, _, _ = imported(config, tmp_path, capsys)
    stage = "grpo" if "grpo" in config.parts else "sft"
    assert params["pipeline"] == {
        "distill": [],
        "sft": ["student"] if stage == "sft" else [],
        "grpo": ["student"] if stage == "grpo" else [],
        "evaluate": ["base", stage],
    }


def test_grpo_demo_maps_model_data_rewards_and_trl_fields_and_names_the_rest(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.chdir(ROOT)
    params, text, stderr = imported(
        FIXTURES / "Qwen2.5-1.5B-Instruct/grpo/config_demo.yaml", tmp_path, capsys
    )
    assert params["model"] == {
        "name_or_path": "Qwen/Qwen2.5-1.5B-Instruct",
        "revision": "main",
        "torch_dtype": "bfloat16",
        "attn_implementation": "flash_attention_2",
    }
    assert params["datasets"]["hub"] == {
        "OpenR1-Math-220k": {
            "id": "open-r1/OpenR1-Math-220k",
            "config": "default",
            "split": "train",
            "revision": "main",
        }
    }
    grpo = params["grpo"]
    assert grpo["dataset_mixture"]["datasets"] == [
        {"source": "OpenR1-Math-220k", "weight": 1.0, "columns": {"prompt": "problem"}}
    ]
    assert grpo["init_model"] == "base"
    assert (
        grpo["reward_funcs"] == ["accuracy", "format", "tag_count"]
        and grpo["reward_weights"] == [1.0] * 3
    )
    assert (
        grpo["learning_rate"] == 2.0e-5
        and grpo["num_generations"] == 16
        and grpo["warmup_steps"] == 0.1
    )
    assert grpo["push_to_hub"] is True and grpo["hub_model_id"] == "Qwen2.5-1.5B-Open-R1-GRPO"
    assert grpo["report_to"] == ["wandb"] and grpo["system_prompt"].startswith(
        "You are a helpful AI Assistant"
    )
    for dropped in ("output_dir", "overwrite_output_dir", "hub_strategy"):
        assert dropped not in grpo and f"note: {dropped}: dropped" in text
    assert "not mapped: max_prompt_length" in stderr
    assert "# NOT MAPPED (no counterpart here): max_prompt_length" in text


def test_codeforces_maps_reward_options_and_renamed_fields(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    params, text, stderr = imported(
        FIXTURES / "Qwen2.5-Coder-7B-Instruct/grpo/config_codeforces.yaml", tmp_path, capsys
    )
    grpo = params["grpo"]
    assert (
        params["datasets"]["hub"]["codeforces_verifiable-prompts"]["config"] == "verifiable-prompts"
    )
    assert grpo["reward_kwargs"] == {"cf_code": {"scoring_mode": "weighted_sum"}}
    assert grpo["scale_rewards"] == "none" and grpo["loss_type"] == "dr_grpo"
    assert grpo["hub_revision"] == "v01.00" and params["benchmarks"]["names"] == [
        "lcb_codegeneration"
    ]
    for key in (
        "dataset_test_split",
        "max_prompt_length",
        "wandb_entity",
        "wandb_project",
        "code_eval_test_batch_size",
    ):
        assert f"not mapped: {key}" in stderr and f"NOT MAPPED (no counterpart here): {key}" in text


def test_an_inline_chat_template_becomes_a_file_that_the_recipe_names(tmp_path, capsys):
    params, _, _ = imported(
        FIXTURES / "DeepSeek-R1-Distill-Qwen-1.5B/grpo/config_demo.yaml", tmp_path, capsys
    )
    template = Path(params["model"]["chat_template"])
    assert (
        template.name == "recipe.chat_template.jinja" and "<｜Assistant｜>" in template.read_text()
    )


def test_a_mixture_keeps_its_sources_weights_and_test_split(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    params, _, _ = imported(FIXTURES / "mixture/sft/config.yaml", tmp_path, capsys)
    assert params["model"]["eos_token"] == "<|im_end|>"
    assert sorted(params["datasets"]["hub"]) == [
        "Mixture-of-Thoughts_code",
        "Mixture-of-Thoughts_math",
    ]
    sft = params["sft"]
    assert [
        (m["source"], m["weight"], m["columns"]) for m in sft["dataset_mixture"]["datasets"]
    ] == [
        ("Mixture-of-Thoughts_math", 0.5, {"messages": "messages"}),
        ("Mixture-of-Thoughts_code", 0.5, {"messages": "messages"}),
    ]
    assert sft["dataset_mixture"]["seed"] == 0 and sft["test_split_size"] == 0.1


def test_a_config_without_data_is_refused_with_one_line_and_nothing_written(tmp_path, capsys):
    config = tmp_path / "sft" / "config.yaml"
    config.parent.mkdir()
    config.write_text("model_name_or_path: Qwen/Qwen2.5-1.5B-Instruct\nlearning_rate: 1.0e-5\n")
    out = tmp_path / "out.yaml"
    assert recipe.main(["import", str(config), "-o", str(out)]) == 2
    assert "names no training data: give dataset_name or dataset_mixture" in capsys.readouterr().err
    assert not out.exists()
