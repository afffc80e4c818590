"""A tiny Qwen2-architecture causal LM and its tokenizer, built locally from a seed.

Why not download a small model: the embedded default must run with no network. Why a
byte-level BPE trained on the embedded problems, with every digit its own token: it gives a
small vocabulary (fast on a CPU) that still tokenises any text, and the model shares the exact
code path (Qwen2ForCausalLM, a fast tokenizer with a ChatML template) of the real recipes.

Weights come from numpy's PCG64 generator rather than torch's initialisers: numpy's stream
is specified and identical on every CPU, so the saved safetensors are byte-identical
everywhere and the stage's output hash in dvc.lock reproduces exactly.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from r1.chat_template import CHATML_THINK_TEMPLATE
from r1.configs import EmbeddedConfig

log = logging.getLogger(__name__)

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
# Added as ordinary (non-special) tokens so they survive decoding with skip_special_tokens,
# which the rewards need to see.
REASONING_TOKENS = ["<think>", "</think>", "<answer>", "</answer>"]


MAX_POSITIONS = 2048


def train_tokenizer(corpus: Iterable[str], vocab_size: int):
    """A byte-level BPE fast tokenizer with the ChatML + `<think>` template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    # Every digit its own token, as Qwen2's tokenizer does: numbers then share one digit
    # vocabulary, which a tiny model needs to learn arithmetic (BPE would merge "17" into a
    # token of its own, whose value the model must learn separately).
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                 pre_tokenizers.ByteLevel(add_prefix_space=False)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(list(corpus), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        bos_token=None,
        unk_token=None,
        additional_special_tokens=["<|im_start|>"],
    )
    fast.add_tokens(REASONING_TOKENS)
    fast.chat_template = CHATML_THINK_TEMPLATE
    fast.model_max_length = MAX_POSITIONS
    return fast


def build_model(tokenizer, cfg: EmbeddedConfig, *, init_std: float = 0.02):
    """A Qwen2ForCausalLM of `cfg`'s shape whose every weight is drawn from numpy's
    PCG64(cfg.seed); the vocabulary is the tokenizer's."""
    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=cfg.hidden_size,
        intermediate_size=cfg.intermediate_size,
        num_hidden_layers=cfg.num_hidden_layers,
        num_attention_heads=cfg.num_attention_heads,
        num_key_value_heads=cfg.num_key_value_heads,
        max_position_embeddings=MAX_POSITIONS,
        tie_word_embeddings=True,
        bos_token_id=None,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        torch_dtype="float32",
    )
    model = Qwen2ForCausalLM(config)
    rng = np.random.Generator(np.random.PCG64(cfg.seed))
    with torch.no_grad():
        for name, param in sorted(model.named_parameters()):
            if name.endswith("norm.weight"):
                values = np.ones(param.shape, dtype=np.float32)
            elif name.endswith(".bias"):
                values = np.zeros(param.shape, dtype=np.float32)
            else:
                values = (rng.standard_normal(param.shape) * init_std).astype(np.float32)
            param.copy_(torch.from_numpy(values))
    model.generation_config = GenerationConfig(
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        do_sample=True,
        temperature=0.7,
        top_p=0.95,
    )
    return model


def save_model(model, tokenizer, out_dir: Path) -> None:
    model.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir)
    log.info("saved a %d-parameter model to %s", sum(p.numel() for p in model.parameters()), out_dir)
