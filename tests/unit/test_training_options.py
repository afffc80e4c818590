"""Training options beyond TRL's config: held-out split, LoRA, eos alignment, Hub publishing."""

import pytest

from r1.config import ConfigError, load_section
from r1.configs import GRPOStageConfig, ModelConfig, SFTStageConfig
from r1.training import options, publish
from r1.training.save import align_generation_eos


def _rows(n):
    from datasets import Dataset

    return Dataset.from_list([{"messages": f"conversation {i}"} for i in range(n)])


def test_the_held_out_split_is_seeded_disjoint_and_sized():
    train, held_out = options.split(_rows(50), 0.2, 42, stage="sft")
    assert (len(train), len(held_out)) == (40, 10)
    assert not set(train["messages"]) & set(held_out["messages"])
    assert options.split(_rows(50), 0.2, 42, stage="sft")[1]["messages"] == held_out["messages"]
    assert options.split(_rows(50), 0.2, 7, stage="sft")[1]["messages"] != held_out["messages"]


def test_no_split_without_test_split_size():
    rows = _rows(5)
    assert options.split(rows, 0.0, 42, stage="sft") == (rows, None)


def test_a_split_that_leaves_a_side_empty_is_refused():
    with pytest.raises(ConfigError, match=r"sft.test_split_size = 0.01 holds out 0 of 5 rows"):
        options.split(_rows(5), 0.01, 42, stage="sft")


@pytest.mark.parametrize("value", [1.0, -0.1])
def test_test_split_size_is_range_checked_by_the_loader(value):
    with pytest.raises(ConfigError, match=r"sft.test_split_size = .* is out of range: must be in \[0, 1\)"):
        load_section({"sft": {"test_split_size": value}}, "sft", "sft", SFTStageConfig)


def test_lora_params_become_a_peft_config():
    config = options.peft_config({"r": 4, "lora_alpha": 8, "target_modules": "all-linear"}, stage="sft")
    assert (config.r, config.lora_alpha, config.task_type) == (4, 8, "CAUSAL_LM")
    assert options.peft_config(None, stage="sft") is None


def test_a_bad_lora_key_is_one_clear_line():
    with pytest.raises(ConfigError, match=r"stage 'grpo': params.yaml grpo.peft is not a valid peft.LoraConfig"):
        options.peft_config({"rank": 4}, stage="grpo")


def test_grpo_starts_from_sft_or_base_only():
    cfg, _ = load_section({"grpo": {"init_model": "base"}}, "grpo", "grpo", GRPOStageConfig)
    assert cfg.init_model == "base" and GRPOStageConfig().init_model == "sft"
    with pytest.raises(ConfigError, match=r"grpo.init_model = 'grpo'"):
        load_section({"grpo": {"init_model": "grpo"}}, "grpo", "grpo", GRPOStageConfig)


def test_push_to_hub_needs_a_repo():
    with pytest.raises(ConfigError, match="push_to_hub needs hub_model_id"):
        load_section({"sft": {"push_to_hub": True}}, "sft", "sft", SFTStageConfig)


class _FakeHub:
    def __init__(self):
        self.calls = []

    def __getattr__(self, name):
        return lambda *args, **kwargs: self.calls.append((name, args, kwargs)) or "https://hub/commit/1"


def test_push_uploads_the_final_folder_and_a_card_of_the_params(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    card = publish.model_card("sft", {"sft": {"learning_rate": 5e-5}, "model": ModelConfig("Qwen/Qwen2.5-1.5B")},
                              "Qwen/Qwen2.5-1.5B")
    assert "base_model: Qwen/Qwen2.5-1.5B" in card and "learning_rate: 5.0e-05" in card
    hub = _FakeHub()
    publish.push(tmp_path, repo_id="me/r1-sft", revision="v1", private=True, card=card, api=hub)
    names = [c[0] for c in hub.calls]
    assert names == ["create_repo", "create_branch", "upload_file", "upload_folder"]
    assert hub.calls[2][2]["path_in_repo"] == "README.md" and hub.calls[2][2]["path_or_fileobj"] == card.encode()
    assert hub.calls[3][2]["folder_path"] == str(tmp_path) and hub.calls[3][2]["revision"] == "v1"


def test_the_saved_generation_config_stops_on_the_tokenizers_eos():
    from types import SimpleNamespace

    config = SimpleNamespace(eos_token_id=2, pad_token_id=None)
    generation = SimpleNamespace(eos_token_id=[2, 5], pad_token_id=None)
    model = SimpleNamespace(config=config, generation_config=generation)
    align_generation_eos(model, SimpleNamespace(eos_token_id=7, pad_token_id=7))
    assert (config.eos_token_id, generation.eos_token_id, generation.pad_token_id) == (7, 7, 7)


_CHATML = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
           "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def _tokenizer_folder(tmp_path):
    """A small real tokenizer on disk: a word vocabulary, ChatML's tokens, eos `</s>`."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    words = ["<unk>", "</s>", "<|im_start|>", "<|im_end|>", "user", "assistant", "system", "hi", "\n"]
    core = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, unk_token="<unk>", eos_token="</s>",
                                        additional_special_tokens=["<|im_start|>", "<|im_end|>"])
    tokenizer.chat_template = _CHATML
    tokenizer.save_pretrained(tmp_path)
    return tmp_path


def test_eos_token_replaces_the_tokenizers_and_must_be_in_its_vocabulary(tmp_path):
    from r1.training.models import load_tokenizer

    folder = _tokenizer_folder(tmp_path)
    cfg = ModelConfig(name_or_path=str(folder), eos_token="<|no-such-token|>")
    with pytest.raises(ConfigError, match=r"model.eos_token '<\|no-such-token\|>' is not a token"):
        load_tokenizer(str(folder), cfg, stage="sft", need_system=False)
    tokenizer = load_tokenizer(str(folder), ModelConfig(name_or_path=str(folder), eos_token="<|im_end|>"),
                               stage="sft", need_system=False)
    assert tokenizer.eos_token == "<|im_end|>" and tokenizer.eos_token_id == 3
