"""The project's chat template and the role check that guards the training stages."""

import pytest

from r1.chat_template import CHATML_THINK_TEMPLATE, ChatTemplateError, check_chat_template
from r1.embedded.model import train_tokenizer


@pytest.fixture(scope="module")
def tokenizer():
    return train_tokenizer(["Compute $2 + 3$.", "<think>\nok\n</think>\n$5$"], vocab_size=300)


def test_renders_system_user_assistant_and_generation_prompt(tokenizer):
    text = tokenizer.apply_chat_template(
        [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}], tokenize=False,
        add_generation_prompt=True)
    assert text == "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n"


def test_drops_reasoning_of_earlier_assistant_turns_only(tokenizer):
    messages = [
        {"role": "user", "content": "Q1"},
        {"role": "assistant", "content": "<think>\nold reasoning\n</think>\nA1"},
        {"role": "user", "content": "Q2"},
        {"role": "assistant", "content": "<think>\nnew reasoning\n</think>\nA2"},
    ]
    text = tokenizer.apply_chat_template(messages, tokenize=False)
    assert "old reasoning" not in text and "A1" in text
    assert "<think>\nnew reasoning\n</think>\nA2<|im_end|>" in text


def test_assistant_mask_covers_the_answer_and_its_end_token(tokenizer):
    out = tokenizer.apply_chat_template(
        [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}],
        return_assistant_tokens_mask=True, return_dict=True)
    ids = [i for i, m in zip(out["input_ids"], out["assistant_masks"], strict=True) if m]
    assert tokenizer.decode(ids) == "A<|im_end|>"


def test_unknown_role_is_an_error(tokenizer):
    with pytest.raises(Exception, match="unsupported role tool"):
        tokenizer.apply_chat_template([{"role": "tool", "content": "x"}], tokenize=False)


def test_check_accepts_the_project_template(tokenizer):
    check_chat_template(tokenizer, where="stage 'sft'")


def test_check_names_a_dropped_role():
    tok = train_tokenizer(["x"], vocab_size=270)
    tok.chat_template = "{% for m in messages %}{% if m['role'] != 'system' %}{{ m['content'] }}{% endif %}{% endfor %}"
    with pytest.raises(ChatTemplateError, match="stage 'sft': the chat template drops the system role"):
        check_chat_template(tok, where="stage 'sft'")
    check_chat_template(tok, ("user", "assistant"))  # fine when no system prompt is used


def test_check_without_template_or_with_a_broken_one():
    tok = train_tokenizer(["x"], vocab_size=270)
    tok.chat_template = None
    with pytest.raises(ChatTemplateError, match="has no chat template"):
        check_chat_template(tok)
    tok.chat_template = "{% for m in messages %}{{ m['content'] | nosuchfilter }}{% endfor %}"
    with pytest.raises(ChatTemplateError, match="cannot render"):
        check_chat_template(tok)


def test_template_is_plain_chatml_for_tool_compatibility():
    assert "<|im_start|>" in CHATML_THINK_TEMPLATE and "{% generation %}" in CHATML_THINK_TEMPLATE
