"""Packed SFT batches must not let documents attend to each other, on CUDA in bf16.

The GPU twin of tests/unit/test_packing.py. TRL's "bfd" packing is padding-free: documents
share one row and are told apart only by position ids. Each attention implementation that a
recipe may pick must honour them: sdpa (transformers builds a block-diagonal mask from
position ids when there is no attention mask and no KV cache), flex_attention (a block mask),
and flash-attention 2 / hub kernels (variable-length kernels) when they are installed.

Each document's logits in the packed row must equal that document run alone, within bf16
tolerance, and a row packed WITHOUT position ids (plain causal attention across documents)
must differ by much more: that is what shows the comparison can see a leak at all.
"""

from __future__ import annotations

import importlib.util

import pytest
from gpu_helpers import cuda_or_skip

torch = cuda_or_skip()
pytest.importorskip("trl", reason="the packing collator comes from trl")

pytestmark = pytest.mark.gpu

# Three documents of 160, 130 and 140 token ids: one packed row of 430 tokens, as a bfd row is
# close to max_length long. Each document is at least 128 tokens because flex_attention
# (torch 2.11, triton 3.6, H100) fails to compile any row shorter than its 128-token block;
# test_flex_attention_short_rows below tracks that.
_ids = torch.Generator().manual_seed(0)
DOCS = [torch.randint(5, 280, (n,), generator=_ids).tolist() for n in (160, 130, 140)]


def _needs(module: str, impl: str):
    return pytest.mark.skipif(importlib.util.find_spec(module) is None,
                              reason=f"{impl} needs the `{module}` package, which is not installed")


@pytest.fixture(scope="module")
def tiny():
    from r1.configs import EmbeddedConfig
    from r1.embedded.model import build_model, train_tokenizer

    tok = train_tokenizer(["Compute $2 + 3$. The answer is 5. <think> add </think>"] * 8, vocab_size=300)
    # Larger than the unit test's model and a larger init, so attention is far from uniform
    # and a document that sees another one changes its logits clearly.
    shape = EmbeddedConfig(hidden_size=128, intermediate_size=256, num_hidden_layers=2,
                           num_attention_heads=4, num_key_value_heads=2, seed=0)
    return tok, build_model(tok, shape, init_std=0.1)


def _set_attn(model, impl: str):
    if hasattr(model, "set_attn_implementation"):
        model.set_attn_implementation(impl)
    else:
        model.config._attn_implementation = impl


@pytest.mark.parametrize("impl", [
    "sdpa",
    "flex_attention",
    pytest.param("flash_attention_2", marks=_needs("flash_attn", "flash_attention_2")),
    pytest.param("kernels-community/flash-attn3", marks=_needs("kernels", "a hub kernel")),
])
def test_packed_sequences_are_isolated_on_gpu(tiny, impl):
    import copy

    from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

    tok, cpu_model = tiny
    model = copy.deepcopy(cpu_model).to("cuda", torch.bfloat16).eval()
    try:
        _set_attn(model, impl)
    except (OSError, ValueError, ImportError) as exc:
        if impl.startswith("kernels-community/"):  # fetched from the Hub: absent offline
            pytest.skip(f"{impl} cannot be loaded here: {type(exc).__name__}: {exc}")
        raise

    collator = DataCollatorForLanguageModeling(pad_token_id=tok.pad_token_id, padding_free=True)
    batch = collator([{"input_ids": d} for d in DOCS])
    assert "attention_mask" not in batch
    ids, pos = batch["input_ids"].to("cuda"), batch["position_ids"].to("cuda")
    assert ids.shape == (1, sum(map(len, DOCS)))

    with torch.no_grad():
        packed = model(input_ids=ids, position_ids=pos, use_cache=False).logits[0].float()
        leaky = model(input_ids=ids, use_cache=False).logits[0].float()  # one long causal document
        alone = [model(input_ids=torch.tensor([d], device="cuda"), use_cache=False).logits[0].float()
                 for d in DOCS]
    assert packed.device.type == "cuda" and torch.isfinite(packed).all()

    scale = max(a.abs().max().item() for a in alone)
    start, worst, leak = 0, 0.0, 0.0
    for i, (doc, ref) in enumerate(zip(DOCS, alone, strict=True)):
        part = packed[start:start + len(doc)]
        err = (part - ref).abs().max().item()
        worst = max(worst, err)
        if i:
            leak = max(leak, (leaky[start:start + len(doc)] - ref).abs().max().item())
        # bf16 has 8 bits of mantissa: different kernel shapes may move a logit by a few ulps.
        torch.testing.assert_close(part, ref, rtol=2e-2, atol=2e-2 * scale,
                                   msg=lambda m, i=i: f"{impl}: packed document {i} differs from it alone: {m}")
        start += len(doc)
    assert leak > 5 * worst and leak > 0.05 * scale, (
        f"{impl}: attending across documents changes logits by at most {leak:.4g} (scale {scale:.4g}), "
        f"not clearly more than the packed/alone difference {worst:.4g}: the test cannot see a leak")


@pytest.mark.xfail(reason="torch 2.11's inductor finds no flex_attention kernel for rows under 128 tokens "
                          "on an H100 (NoValidChoicesError); XPASS means it was fixed", strict=False)
def test_flex_attention_short_rows(tiny):
    """A canary, not a requirement: the embedded default uses sdpa. A recipe that picks
    flex_attention for padding-free packing would fail on any short row (and GRPO's
    one-token decoding steps)."""
    import copy

    _, cpu_model = tiny
    model = copy.deepcopy(cpu_model).to("cuda", torch.bfloat16).eval()
    _set_attn(model, "flex_attention")
    ids = torch.tensor([DOCS[0][:100]], device="cuda")
    with torch.no_grad():
        logits = model(input_ids=ids, use_cache=False).logits
    assert torch.isfinite(logits.float()).all()
