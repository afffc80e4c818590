"""Benchmark: training throughput of the project's SFT and GRPO set-up against plain TRL, in one run.

Random-initialised Qwen2.5-shaped bf16 weights and random token data (nothing is downloaded).
Each setting runs in its own process, one after another on the same GPU, and the figures leave
out the first steps (kernel compilation, CUDA-graph capture, allocator warm-up):

- `sft auto`: SFTTrainer with the math recipe's sft params (micro-batch 4 x 4 accumulation,
  packing bfd, bf16) and `performance: auto`, through `r1.training.performance.configure` as
  stages/sft.py calls it; rows of `--sft-seq` tokens;
- `sft off`: `performance: off` with open-r1's settings (sdpa, gradient checkpointing, batch 4,
  liger where installed, adamw_torch);
- `grpo auto`: GRPOTrainer without vLLM, 16 completions (8 prompts x 8) of `--completion`
  tokens after `--prompt`-token prompts per step, on-policy (steps_per_generation 1),
  `performance: auto` as stages/grpo.py applies it;
- `grpo off`: the same with `performance: off` and gradient checkpointing, as the TRL baseline;
- with `--baselines DIR`: the plain-TRL scripts `trl_sft_baseline.py` (open-r1's settings and
  hand-tuned: flex_attention, no checkpointing, batch 8, liger, adamw_torch_fused) and
  `trl_grpo_baseline.py` (plain), run in the same call.

It prints a table with each row's ratio to plain TRL and writes `--out` (JSON: device, versions,
command, rows). MFU is 6 x parameters x training tokens/s over the device's dense bf16 peak.

    python benchmarks/bench_train_gpu.py --baselines PATH/TO/baselines --out benchmarks/results/train_gpu_h200.json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHAPES = {
    "0.5B": dict(hidden_size=896, intermediate_size=4864, num_hidden_layers=24, num_attention_heads=14,
                 num_key_value_heads=2, tie_word_embeddings=True),
    "1.5B": dict(hidden_size=1536, intermediate_size=8960, num_hidden_layers=28, num_attention_heads=12,
                 num_key_value_heads=2, tie_word_embeddings=True),
}
VOCAB = 151_936
SFT_WARMUP, GRPO_WARMUP = 2, 2  # logged steps left out of the figures


def write_model(shape: str, folder: str) -> str:
    """A random Qwen2.5-shaped model and a word-level tokenizer over the same vocabulary ("t<id>")."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast, Qwen2Config

    torch.manual_seed(0)
    config = Qwen2Config(vocab_size=VOCAB, max_position_embeddings=32768, rope_theta=1e6, **SHAPES[shape])
    AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16).save_pretrained(folder)
    words = Tokenizer(models.WordLevel(vocab={f"t{i}": i for i in range(VOCAB)}, unk_token="t0"))
    words.pre_tokenizer = pre_tokenizers.Whitespace()
    PreTrainedTokenizerFast(tokenizer_object=words, unk_token="t0", pad_token="t1", eos_token="t2").save_pretrained(folder)
    return folder


class Logged:
    """Keeps the training logs the throughput callback augmented (a TrainerCallback)."""

    def __new__(cls):
        from transformers import TrainerCallback

        class Keep(TrainerCallback):
            def __init__(self):
                self.rows: list[dict] = []

            def on_log(self, args, state, control, logs=None, **kw):
                if logs and "step_seconds" in logs:
                    self.rows.append({"step": state.global_step, **logs})

        return Keep()


def run_sft(model_dir: str, setting: str, *, seq_len: int, steps: int) -> dict:
    import torch
    from datasets import Dataset
    from transformers import AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    from r1.configs import ModelConfig
    from r1.training import performance
    from r1.training.throughput import ThroughputCallback, summarize

    off = setting == "off"
    model_cfg = ModelConfig(name_or_path=model_dir, torch_dtype="bfloat16", attn_implementation="sdpa" if off else None)
    # The math recipe's sft section, at this row length.
    kwargs = {"per_device_train_batch_size": 4, "gradient_accumulation_steps": 4, "max_length": seq_len,
              "packing": True, "packing_strategy": "bfd", "bf16": torch.cuda.is_available(), "max_steps": steps, "logging_steps": 1,
              "save_strategy": "no", "report_to": "none", "learning_rate": 1e-5,
              "include_num_input_tokens_seen": "non_padding"}
    if off:  # open-r1's settings
        kwargs.update(gradient_checkpointing=True, use_liger_kernel=performance.detect_device().liger,
                      optim="adamw_torch")
    model_kwargs = {"dtype": "bfloat16"}
    choices = performance.configure("sft", "off" if off else "auto", SFTConfig, model_dir, model_cfg, kwargs,
                                    model_kwargs)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    rng = random.Random(0)
    effective = kwargs["per_device_train_batch_size"] * kwargs["gradient_accumulation_steps"]
    # Documents of 1/8 of a row to a whole row, as the TRL baseline draws them.
    rows = [{"input_ids": [rng.randrange(3, VOCAB) for _ in range(rng.randint(seq_len // 8, seq_len - 1))]}
            for _ in range(3 * steps * effective)]
    throughput = ThroughputCallback(performance.peak_flops(choices.device))
    keep = Logged()
    with tempfile.TemporaryDirectory() as out:
        args = SFTConfig(output_dir=out, model_init_kwargs=model_kwargs, **kwargs)
        trainer = SFTTrainer(model=model_dir, args=args, train_dataset=Dataset.from_list(rows),
                             processing_class=tokenizer, callbacks=[throughput, keep])
        trainer.train()
    summary = summarize(_renumbered(keep.rows[SFT_WARMUP:]), throughput.memory_kind)
    return {"tokens_per_second": summary.get("training_tokens_per_second"), "mfu": summary.get("mfu"),
            "step_seconds": summary.get("step_seconds"), "peak_memory_gb": round(torch.cuda.max_memory_allocated() / 2**30, 1),
            "chosen": _chosen(choices)}


def run_grpo(model_dir: str, setting: str, *, prompt: int, completion: int, steps: int) -> dict:
    import torch
    from datasets import Dataset
    from transformers import AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    from r1.configs import ModelConfig
    from r1.training import performance
    from r1.training.throughput import ThroughputCallback, summarize

    off = setting == "off"
    model_cfg = ModelConfig(name_or_path=model_dir, torch_dtype="bfloat16", attn_implementation="sdpa" if off else None)
    batch = 16
    kwargs = {"per_device_train_batch_size": batch, "num_generations": 8, "max_completion_length": completion,
              "bf16": torch.cuda.is_available(), "learning_rate": 1e-6, "max_steps": steps, "logging_steps": 1, "save_strategy": "no",
              "report_to": "none", "use_vllm": False, "temperature": 1.0, "beta": 0.0, "seed": 0}
    if off:  # what the TRL baseline runs
        kwargs.update(gradient_checkpointing=True)
    model_kwargs = {"dtype": "bfloat16"}
    choices = performance.configure("grpo", "off" if off else "auto", GRPOConfig, model_dir, model_cfg, kwargs,
                                    model_kwargs)
    tokenizer = AutoTokenizer.from_pretrained(model_dir, padding_side="left")
    rng = random.Random(0)
    prompts = [{"prompt": " ".join(f"t{rng.randrange(3, VOCAB)}" for _ in range(prompt))} for _ in range(512)]

    def reward(completions, **kw):  # any non-constant reward, so there is a gradient
        return [float(len(c) % 7) for c in completions]

    throughput = ThroughputCallback(performance.peak_flops(choices.device))
    keep = Logged()
    with tempfile.TemporaryDirectory() as out:
        args = GRPOConfig(output_dir=out, model_init_kwargs=model_kwargs, **kwargs)
        trainer = GRPOTrainer(model=model_dir, reward_funcs=[reward], args=args, train_dataset=Dataset.from_list(prompts),
                              processing_class=tokenizer, callbacks=[throughput, keep])
        throughput.time_generation(trainer)
        performance.compile_generation(trainer, choices)
        trainer.train()
    summary = summarize(_renumbered(keep.rows[GRPO_WARMUP:]), throughput.memory_kind)
    step = summary.get("step_seconds")
    return {"tokens_per_second": batch * (prompt + completion) / step if step else None,
            "generated_tokens_per_second": summary.get("generated_tokens_per_second"),
            "generation_share": summary.get("generation_share"), "step_seconds": step,
            "peak_memory_gb": round(torch.cuda.max_memory_allocated() / 2**30, 1), "chosen": _chosen(choices)}


def _renumbered(rows: list[dict]) -> list[dict]:
    """summarize() weighs each row by the steps since the previous one: start the count at the
    first kept row."""
    return [{**r, "step": i + 1} for i, r in enumerate(rows)]


def _chosen(choices) -> dict:
    return {k: v for k, v in choices.record().items() if k != "reasons"}


def _child(cmd: list[str], env: dict, timeout: int) -> tuple[list[dict], str]:
    """Runs one setting in its own process; returns the JSON lines it printed and its tail."""
    try:
        done = subprocess.run(cmd, env={**os.environ, **env}, capture_output=True, text=True, timeout=timeout)
        text, note = done.stdout + done.stderr, "" if done.returncode == 0 else f"exit {done.returncode}"
    except subprocess.TimeoutExpired as exc:
        text, note = (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else (exc.stdout or ""), f"timeout {timeout}s"
    found = []
    for line in text.splitlines():
        if line.startswith("{") and line.endswith("}"):
            try:
                found.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return found, note or ("" if found else text[-2000:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baselines", help="folder of trl_sft_baseline.py and trl_grpo_baseline.py")
    parser.add_argument("--out", default="benchmarks/results/train_gpu.json")
    parser.add_argument("--sft-seq", type=int, default=4096)
    parser.add_argument("--sft-steps", type=int, default=7)
    parser.add_argument("--prompt", type=int, default=128)
    parser.add_argument("--completion", type=int, default=512)
    parser.add_argument("--grpo-steps", type=int, default=5)
    parser.add_argument("--timeout", type=int, default=150, help="seconds per setting at most")
    parser.add_argument("--deadline", type=int, default=3600, help="seconds for the whole run: later rows are skipped")
    parser.add_argument("--only", nargs="*", help="names of the rows to run (default: all)")
    parser.add_argument("--one", nargs=3, metavar=("STAGE", "SETTING", "MODEL_DIR"), help=argparse.SUPPRESS)
    a = parser.parse_args()
    if a.one:
        stage, setting, model_dir = a.one
        result = (run_sft(model_dir, setting, seq_len=a.sft_seq, steps=a.sft_steps) if stage == "sft" else
                  run_grpo(model_dir, setting, prompt=a.prompt, completion=a.completion, steps=a.grpo_steps))
        print(json.dumps(result), flush=True)
        return

    import torch
    import transformers
    import trl

    me = [sys.executable, __file__, "--sft-seq", str(a.sft_seq), "--sft-steps", str(a.sft_steps), "--prompt",
          str(a.prompt), "--completion", str(a.completion), "--grpo-steps", str(a.grpo_steps), "--one"]
    base = Path(a.baselines) if a.baselines else None
    sft_env = {"SIZE": "1.5B", "SEQ": str(a.sft_seq), "STEPS": str(a.sft_steps + 4)}
    grpo_env = {"SIZE": "0.5B", "G": "8", "BS": "16", "P": str(a.prompt), "C": str(a.completion),
                "STEPS": str(a.grpo_steps)}
    # name, what ran, command, extra environment
    plan = [("sft auto", "project sft, recipe as shipped (performance: auto)", "sft auto", {}),
            ("trl sft tuned", "plain TRL hand-tuned: flex_attention, no ckpt, batch 8, liger, adamw_torch_fused",
             "trl_sft_baseline.py", {**sft_env, "BS": "8", "ATTN": "flex_attention", "GC": "0", "LIGER": "1",
                                     "OPTIM": "adamw_torch_fused"}),
            ("grpo auto", "project grpo, no vLLM, on-policy (performance: auto)", "grpo auto", {}),
            ("trl grpo", "plain TRL GRPOTrainer, no vLLM, on-policy (HF generate, grad ckpt)",
             "trl_grpo_baseline.py", grpo_env),
            ("sft off", "project sft, performance: off, open-r1 settings (sdpa, ckpt, batch 4, liger, adamw_torch)",
             "sft off", {}),
            ("trl sft open-r1", "plain TRL, open-r1 settings: sdpa, ckpt, batch 4, adamw_torch",
             "trl_sft_baseline.py", {**sft_env, "BS": "4"}),
            ("grpo off", "project grpo, performance: off (as the TRL baseline)", "grpo off", {})]
    began = time.time()
    plan = [p for p in plan if not a.only or p[0] in a.only]
    rows = []
    with tempfile.TemporaryDirectory() as models:
        folders = {}
        for name, what, command, env in plan:
            started = time.time()
            timeout = min(a.timeout, int(a.deadline - (started - began)))
            if timeout < 30:
                rows.append({"name": name, "what": what, "note": "not run: --deadline reached"})
                continue
            if command.endswith(".py"):
                if base is None:
                    continue
                found, note = _child([sys.executable, str(base / command)], env, timeout)
                r = found[0] if found else {}
                result = {"tokens_per_second": r.get("tok_per_s"), "mfu": r.get("mfu_6N"),
                          "step_seconds": r.get("median_step_s", r.get("mean_step_s")),
                          "peak_memory_gb": r.get("peak_mem_gb"), "chosen": {"env": env}}
            else:
                stage, setting = command.split()
                shape = "1.5B" if stage == "sft" else "0.5B"
                if shape not in folders:
                    folders[shape] = write_model(shape, f"{models}/{shape}")
                found, note = _child(me + [stage, setting, folders[shape]], {}, timeout)
                result = found[-1] if found else {}
            rows.append({"name": name, "what": what, **result, "seconds": round(time.time() - started),
                         **({"note": note} if note else {})})
            print(json.dumps(rows[-1]), flush=True)

    print("\n| setting | tokens/s | MFU | s/step | peak GiB | x plain TRL |\n|---|---|---|---|---|---|")
    for r in rows:
        print(table_row(r, rows))
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps({
        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "trl": trl.__version__,
                     "liger_kernel": _version("liger_kernel")},
        "command": " ".join(["python", "benchmarks/bench_train_gpu.py", *sys.argv[1:]]),
        "shapes": {"sft": f"Qwen2.5-1.5B, packed {a.sft_seq}-token rows",
                   "grpo": f"Qwen2.5-0.5B, 16 x ({a.prompt} + {a.completion}) tokens per step, on-policy, no vLLM"},
        "rows": rows}, indent=1) + "\n")


def table_row(r: dict, rows: list[dict]) -> str:
    """One markdown row; the ratio is to plain TRL's tuned SFT, or its plain GRPO."""
    stage = "sft" if "sft" in r["name"] else "grpo"
    ref = next((x for x in rows if x["name"] == ("trl sft tuned" if stage == "sft" else "trl grpo")), {})
    tps, ref_tps = r.get("tokens_per_second"), ref.get("tokens_per_second")
    if not tps:
        return f"| {r['name']}: {r['what']} | {r.get('note', 'failed')[:200]!r} | | | | |"
    ratio = f"{tps / ref_tps:.2f}" if ref_tps else ""
    mfu = f"{100 * r['mfu']:.1f}%" if r.get("mfu") else ""
    step = f"{r['step_seconds']:.3f}" if r.get("step_seconds") else ""
    return f"| {r['name']}: {r['what']} | {tps:,.0f} | {mfu} | {step} | {r.get('peak_memory_gb') or ''} | {ratio} |"


def _version(module: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(module.replace("_", "-"))
    except PackageNotFoundError:
        return None


if __name__ == "__main__":
    main()
