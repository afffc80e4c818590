"""How data/train rows become the training stages' SFT conversations and GRPO prompts."""

import pytest
from datasets import Dataset

from r1.data import DataError
from r1.training.grpo_data import to_prompts
from r1.training.sft_data import to_messages

TURNS = [{"role": "user", "content": "P1"}, {"role": "assistant", "content": "<think>a</think> 1"}]


def test_the_system_prompt_comes_first_when_given():
    out = to_messages([{"messages": TURNS}], system_prompt="S")
    assert out[0]["messages"] == [{"role": "system", "content": "S"}, *TURNS]
    assert to_messages([{"messages": TURNS}], system_prompt=None)[0]["messages"] == TURNS


def test_a_row_without_a_conversation_is_a_clear_error():
    with pytest.raises(DataError, match="row 1 has no 'messages'"):
        to_messages([{"messages": TURNS}, {"messages": []}], system_prompt=None)


def test_grpo_prompts_get_the_system_turn_and_keep_reward_columns():
    ds = Dataset.from_list([{"prompt": [{"role": "user", "content": "P"}], "solution": "$1$"}])
    out = to_prompts(ds, system_prompt="S")
    assert out[0]["prompt"] == [{"role": "system", "content": "S"}, {"role": "user", "content": "P"}]
    assert out[0]["solution"] == "$1$"
    with pytest.raises(DataError, match="no 'prompt' column"):
        to_prompts(ds.rename_column("prompt", "problem"), system_prompt=None)
