"""Loading the model and tokenizer a training stage starts from, as params.yaml `model` says."""

from __future__ import annotations

import logging
from pathlib import Path

from r1.chat_template import check_chat_template
from r1.config import ConfigError
from r1.configs import ModelConfig

log = logging.getLogger(__name__)


def model_init_kwargs(cfg: ModelConfig) -> dict:
    """Keyword arguments for `from_pretrained` (TRL's `model_init_kwargs` takes the same)."""
    kwargs = {"revision": cfg.revision, "trust_remote_code": cfg.trust_remote_code, "dtype": cfg.torch_dtype}
    if cfg.attn_implementation:
        kwargs["attn_implementation"] = cfg.attn_implementation
    return kwargs


def require_model_dir(path: str, produced_by: str) -> None:
    if not Path(path).is_dir():
        raise ConfigError(f"model folder '{path}' does not exist; it is produced by the '{produced_by}' stage")


def load_tokenizer(path: str, cfg: ModelConfig, *, stage: str, need_system: bool):
    """The tokenizer, with params' chat template override applied and checked."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path, revision=cfg.revision, trust_remote_code=cfg.trust_remote_code)
    if cfg.chat_template:
        template = Path(cfg.chat_template)
        if not template.is_file():
            raise ConfigError(f"stage '{stage}': model.chat_template file not found: {template}")
        tokenizer.chat_template = template.read_text(encoding="utf-8")
    if cfg.eos_token:
        if tokenizer.convert_tokens_to_ids(cfg.eos_token) in (None, tokenizer.unk_token_id):
            raise ConfigError(f"stage '{stage}': params.yaml model.eos_token {cfg.eos_token!r} is not a token "
                              f"of the tokenizer in {path}")
        tokenizer.eos_token = cfg.eos_token
    roles = ("system", "user", "assistant") if need_system else ("user", "assistant")
    check_chat_template(tokenizer, roles, where=f"stage '{stage}'")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


# Below this size a model's per-step matmuls are too small to split across threads.
_TINY_MODEL_PARAMS = 50_000_000


def one_thread_for_tiny_cpu_model(model) -> None:
    """Train a tiny model on a CPU with one intra-op thread, unless OMP_NUM_THREADS says otherwise.

    Why: the embedded default's models are 0.1-0.3M parameters. Splitting their matmuls across
    threads saves little (DVC runs one stage at a time) and makes the float summation order,
    and so every trained weight and every later sample, depend on the machine's core count:
    the committed metrics would then not reproduce on a machine with other cores. Generation
    and evaluation of tiny models run one thread for the same reason.
    """
    import os

    import torch

    if os.environ.get("OMP_NUM_THREADS") or torch.cuda.is_available():
        return
    if sum(p.numel() for p in model.parameters()) < _TINY_MODEL_PARAMS:
        torch.set_num_threads(1)
