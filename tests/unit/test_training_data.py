"""How distilled rows become SFT conversations and GRPO prompts."""

import pytest
from datasets import Dataset

from r1.data import DataError
from r1.training.grpo_data import to_prompts
from r1.training.sft_data import to_messages

ROWS = [
    {"problem": "P1", "generations": ["<think>a</think> 1", "", "<think>b</think> 2"]},
    {"problem": "P2", "generations": ["<think>c</think> 3"]},
]


def test_all_generations_become_examples_and_empty_ones_are_skipped():
    out = to_messages(ROWS, prompt_column="problem", system_prompt="S", generations="all")
    assert len(out) == 3
    assert out[0]["messages"] == [{"role": "system", "content": "S"}, {"role": "user", "content": "P1"},
                                  {"role": "assistant", "content": "<think>a</think> 1"}]


def test_first_generation_only_and_no_system_prompt():
    out = to_messages(ROWS, prompt_column="problem", system_prompt=None, generations="first")
    assert [m["messages"][0]["role"] for m in out] == ["user", "user"]
    assert len(out) == 2


def test_missing_prompt_column_and_no_examples_are_clear_errors():
    with pytest.raises(DataError, match="column 'question' is missing"):
        to_messages(ROWS, prompt_column="question", system_prompt=None, generations="all")
    with pytest.raises(DataError, match="no training examples"):
        to_messages([{"problem": "P", "generations": ["  "]}], prompt_column="problem", system_prompt=None,
                    generations="all")


def test_grpo_prompts_keep_reward_columns_and_drop_distillation_ones():
    ds = Dataset.from_list([{"problem": "P", "solution": "$1$", "generations": ["x"], "prompt": "old"}])
    out = to_prompts(ds, prompt_column="problem", system_prompt="S")
    assert out[0]["prompt"] == [{"role": "system", "content": "S"}, {"role": "user", "content": "P"}]
    assert "solution" in out.column_names and "generations" not in out.column_names
    with pytest.raises(DataError, match="prompt column 'question'"):
        to_prompts(ds, prompt_column="question", system_prompt=None)
