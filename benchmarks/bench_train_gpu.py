"""Benchmark: SFT throughput as the recipe shipped it (hand-set) versus `performance: auto`.

Trains a local model folder for a few steps on synthetic packed rows (random token ids, so
nothing is downloaded) through TRL's SFTTrainer, once per setting, and prints training
tokens/s, seconds per step, peak memory and MFU (on a GPU listed in
r1.training.performance.PEAK_FLOPS), with what `auto` chose. The settings:

- `shipped`: what the math recipe pinned before `performance: auto` (sdpa, gradient
  checkpointing, liger where installed, micro-batch 4 x 4 accumulation);
- `auto`: the same params without those pins, the choices made by `performance.configure`.

    uv run --no-sync python benchmarks/bench_train_gpu.py --model PATH [--seq-len 16384] [--steps 8]

On a CPU (a smoke test with a tiny model) `auto` keeps params' settings by design, so it
differs from `shipped` only by the pins `shipped` adds (checkpointing, sdpa).
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile

from r1.configs import ModelConfig
from r1.training import performance
from r1.training.throughput import ThroughputCallback, summarize


def synthetic_rows(vocab_size: int, n: int, seq_len: int, seed: int = 0) -> list[dict]:
    """Documents of 1/8 to 1/2 of a row, so bfd packs several per row, as distilled traces do."""
    rng = random.Random(seed)
    return [{"input_ids": [rng.randrange(5, vocab_size) for _ in range(rng.randint(seq_len // 8, seq_len // 2))]}
            for _ in range(n)]


def run(model_dir: str, setting: str, *, seq_len: int, steps: int, batch: int, accum: int) -> dict:
    import torch
    from datasets import Dataset
    from transformers import AutoTokenizer, TrainerCallback
    from trl import SFTConfig, SFTTrainer

    cuda = torch.cuda.is_available()
    model_cfg = ModelConfig(name_or_path=model_dir, torch_dtype="bfloat16" if cuda else "float32",
                            attn_implementation="sdpa" if setting == "shipped" else None)
    kwargs = {"per_device_train_batch_size": batch, "gradient_accumulation_steps": accum, "max_length": seq_len,
              "packing": True, "packing_strategy": "bfd", "bf16": cuda, "max_steps": steps, "logging_steps": 1,
              "save_strategy": "no", "report_to": "none", "learning_rate": 1e-5}
    if setting == "shipped":
        kwargs.update(gradient_checkpointing=True, use_liger_kernel=performance.detect_device().liger)
    model_kwargs = {"dtype": model_cfg.torch_dtype}
    choices = performance.configure("sft", "auto", SFTConfig, model_dir, model_cfg, kwargs, model_kwargs)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    rows = synthetic_rows(len(tokenizer), 4 * steps * batch * accum, seq_len)
    throughput = ThroughputCallback(performance.peak_flops(choices.device))
    rows_logged: list[dict] = []

    class Keep(TrainerCallback):  # keeps the logs the throughput callback augmented
        def on_log(self, args, state, control, logs=None, **kw):
            if logs and "step_seconds" in logs:
                rows_logged.append({"step": state.global_step, **logs})

    with tempfile.TemporaryDirectory() as out:
        args = SFTConfig(output_dir=out, model_init_kwargs=model_kwargs, **kwargs)
        trainer = SFTTrainer(model=model_dir, args=args, train_dataset=Dataset.from_list(rows),
                             processing_class=tokenizer, callbacks=[throughput, Keep()])
        trainer.train()
    # The first step compiles kernels and warms the allocator: leave it out of the figure.
    summary = summarize(rows_logged[1:] if len(rows_logged) > 1 else rows_logged, throughput.memory_kind)
    chosen = {k: v for k, v in choices.record().items() if k != "reasons"}
    return {"setting": setting, **summary, "chosen": chosen}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="a local model folder (config, weights, tokenizer)")
    parser.add_argument("--seq-len", type=int, default=16384)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--batch", type=int, default=4, help="params' per_device_train_batch_size")
    parser.add_argument("--accum", type=int, default=4, help="params' gradient_accumulation_steps")
    parser.add_argument("--settings", nargs="+", default=["shipped", "auto"], choices=["shipped", "auto"])
    a = parser.parse_args()
    results = [run(a.model, s, seq_len=a.seq_len, steps=a.steps, batch=a.batch, accum=a.accum) for s in a.settings]
    for r in results:
        print(json.dumps(r))
    if len(results) == 2 and results[0].get("training_tokens_per_second"):
        print(f"auto / shipped training tokens/s: "
              f"{results[1]['training_tokens_per_second'] / results[0]['training_tokens_per_second']:.2f}x")


if __name__ == "__main__":
    main()
