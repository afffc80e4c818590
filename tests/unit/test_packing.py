"""Packed SFT batches must not let documents attend to each other.

TRL's "bfd" packing is padding-free: documents share a row and are told apart only by
position ids. With sdpa on a CPU this is correct only because transformers builds a
block-diagonal mask from position ids when there is no attention mask and no KV cache
(TRL passes use_cache=False). This test fails if either library changes that.
"""

import torch
from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

from r1.configs import EmbeddedConfig
from r1.embedded.model import build_model, train_tokenizer


def test_packed_documents_are_isolated_under_sdpa():
    tok = train_tokenizer(["Compute $2 + 3$. The answer is 5."] * 4, vocab_size=300)
    model = build_model(tok, EmbeddedConfig(hidden_size=32, intermediate_size=64, seed=0))
    model.config._attn_implementation = "sdpa"
    model.eval()
    a, b = [5, 6, 7, 8, 9], [10, 11, 12]
    collator = DataCollatorForLanguageModeling(pad_token_id=tok.pad_token_id, padding_free=True)
    batch = collator([{"input_ids": a}, {"input_ids": b}])
    assert "attention_mask" not in batch
    with torch.no_grad():
        packed = model(input_ids=batch["input_ids"], position_ids=batch["position_ids"], use_cache=False).logits
        alone = model(input_ids=torch.tensor([b]), use_cache=False).logits
    torch.testing.assert_close(packed[0, len(a):], alone[0], rtol=1e-4, atol=1e-5)
