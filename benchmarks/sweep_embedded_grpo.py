"""GRPO settings for the embedded default, tried on the validation split (never the benchmark).

    python benchmarks/sweep_embedded_grpo.py [--jobs 2] [--only NAME ...] [--out results.json]

Run it in a project where `dvc repro grpo-data@student` has run: every configuration starts
from the pipeline's own SFT student (models/sft), trains on the pipeline's own GRPO prompts
(data/train/grpo) with the project's accuracy reward (TRL GRPOTrainer, as `stages/grpo.py`),
and is scored on data/embedded/validation.jsonl: greedy pass@1 and pass@1 of one sample at
temperature 0.7, each with its standard error. The SFT student itself is the first row.

Why not `dvc exp run` per setting: each configuration here is one single-threaded process, so
a machine with many cores runs the whole sweep at once (--jobs), and none of it touches the
workspace's outputs. A setting worth keeping then goes into params.yaml and through
`dvc exp run`, which scores it on the benchmark.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import tempfile
import time
from pathlib import Path

# name -> GRPOConfig fields that differ from BASE (what the README's table lists).
BASE = {"learning_rate": 2e-5, "num_generations": 8, "per_device_train_batch_size": 128, "max_steps": 40,
        "temperature": 1.0, "beta": 0.0, "max_completion_length": 48, "lr_scheduler_type": "constant"}
CONFIGS = {
    "lr1e-4_8x8_40": {"learning_rate": 1e-4, "per_device_train_batch_size": 64},
    "lr1e-4_32x8_60": {"learning_rate": 1e-4, "per_device_train_batch_size": 256, "max_steps": 60},
    "lr5e-5_16x8_40_t0.7": {"learning_rate": 5e-5, "temperature": 0.7},
    "lr3e-5_16x8_150": {"learning_rate": 3e-5, "max_steps": 150},
    "lr2e-5_16x8_40": {},
    "lr1e-4_kl0.04_80_t0.7": {"learning_rate": 1e-4, "beta": 0.04, "max_steps": 80, "temperature": 0.7},
    "lr2e-4_mu4_160": {"learning_rate": 2e-4, "num_iterations": 4, "max_steps": 160},
    "sgd_lr0.3_40": {"optim": "sgd", "learning_rate": 0.3},
    "lr0_control_5": {"learning_rate": 0.0, "max_steps": 5},
}
VALIDATION = "data/embedded/validation.jsonl"


def _accuracy(model, tokenizer, rows, temperature: float) -> dict:
    """pass@1 on `rows` with the project's accuracy reward (math-verify), batched generation."""
    import torch

    from r1.rewards.registry import build

    reward = build("accuracy")
    tokenizer.padding_side = "left"
    prompts = [tokenizer.apply_chat_template([{"role": "user", "content": r["problem"]}], tokenize=False,
                                             add_generation_prompt=True) for r in rows]
    torch.manual_seed(0)
    texts = []
    model.eval()
    with torch.inference_mode():
        for i in range(0, len(prompts), 200):
            enc = tokenizer(prompts[i:i + 200], return_tensors="pt", padding=True, add_special_tokens=False)
            sampling = ({"do_sample": True, "temperature": temperature, "top_p": 1.0, "top_k": 0}
                        if temperature > 0 else {"do_sample": False})
            out = model.generate(**enc, max_new_tokens=48, pad_token_id=tokenizer.pad_token_id,
                                 eos_token_id=tokenizer.eos_token_id, **sampling)
            texts += tokenizer.batch_decode(out[:, enc["input_ids"].shape[1]:], skip_special_tokens=True)
    scores = reward([[{"role": "assistant", "content": t}] for t in texts], solution=[r["solution"] for r in rows])
    p = sum(1 for s in scores if s and s > 0) / len(rows)
    return {"score": round(100 * p, 1), "stderr": round(100 * math.sqrt(p * (1 - p) / len(rows)), 1)}


def _scores(model, tokenizer, rows) -> dict:
    return {"greedy": _accuracy(model, tokenizer, rows, 0.0), "t0.7": _accuracy(model, tokenizer, rows, 0.7)}


def run(name: str) -> dict:
    import torch

    torch.set_num_threads(1)  # one configuration per core
    from datasets import load_dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    from r1.data import load
    from r1.rewards.registry import build

    started = time.monotonic()
    tokenizer = AutoTokenizer.from_pretrained("models/sft")
    rows = list(load(VALIDATION))
    model = AutoModelForCausalLM.from_pretrained("models/sft")
    if name == "sft":
        return {"name": name, "validation": _scores(model, tokenizer, rows)}
    train = load_dataset("parquet", data_files="data/train/grpo/train.parquet", split="train")
    fields = {**BASE, **CONFIGS[name]}
    with tempfile.TemporaryDirectory(prefix="r1-sweep-") as tmp:
        args = GRPOConfig(output_dir=tmp, report_to="none", save_strategy="no", logging_steps=5, use_cpu=True,
                          bf16=False, seed=42, disable_tqdm=True, gradient_checkpointing=False, **fields)
        trainer = GRPOTrainer(model=model, reward_funcs=[build("accuracy")], args=args, train_dataset=train,
                              processing_class=tokenizer)
        trainer.train()
    curve = [round(h["reward"], 3) for h in trainer.state.log_history if "reward" in h]
    return {"name": name, "grpo": fields, "training_reward_every_5_steps": curve,
            "validation": _scores(trainer.model, tokenizer, rows), "seconds": round(time.monotonic() - started, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="configurations run at once (one core each)")
    parser.add_argument("--only", nargs="+", choices=sorted(CONFIGS), help="run these configurations only")
    parser.add_argument("--out", type=Path, help="also write the results here (JSON)")
    args = parser.parse_args()
    for needed in ("models/sft", "data/train/grpo/train.parquet", VALIDATION):
        if not Path(needed).exists():
            raise SystemExit(f"{needed} is missing: run `dvc repro grpo-data@student` here first")
    names = ["sft", *(args.only or CONFIGS)]
    with multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
        results = pool.map(run, names, chunksize=1)
    for r in results:
        v = r["validation"]
        print(f"{r['name']:24s} greedy {v['greedy']['score']:5.1f} +/- {v['greedy']['stderr']:.1f}   "
              f"T=0.7 {v['t0.7']['score']:5.1f} +/- {v['t0.7']['stderr']:.1f}   "
              f"reward {r.get('training_reward_every_5_steps', [])}")
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
