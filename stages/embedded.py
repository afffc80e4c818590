"""Stage `embedded`: build the offline default's tiny model, tokenizer and problem sets.

Outs: models/embedded (Qwen2 model + tokenizer with the ChatML/<think> template),
data/embedded/train.jsonl (math + code problems, with a few planted benchmark rows that
decontamination must find) and data/embedded/benchmark.jsonl (the embedded benchmark).
Everything derives from `embedded.seed`, so the outputs are byte-identical on every machine.
"""

from __future__ import annotations

import logging
import random

from r1 import stage
from r1.atomic import atomic_dir
from r1.config import load_section
from r1.configs import EmbeddedConfig
from r1.data import write_jsonl
from r1.embedded.model import build_model, save_model, train_tokenizer
from r1.embedded.problems import code_problems, math_problems
from r1.runinfo import write_run_info

log = logging.getLogger("r1.embedded")


def main(params: dict) -> None:
    cfg, _ = load_section(params, "embedded", "embedded", EmbeddedConfig)
    # One draw for train and benchmark together guarantees the two are disjoint; the planted
    # rows are then copied from the benchmark on purpose.
    pool = math_problems(cfg.num_math_problems + cfg.benchmark_size, seed=cfg.seed)
    train, bench = pool[: cfg.num_math_problems], pool[cfg.num_math_problems:]
    bench = [{"problem": r["problem"], "solution": r["solution"]} for r in bench]
    rng = random.Random(cfg.seed + 1)
    for row in rng.sample(bench, cfg.planted_contamination):
        train.append({"problem": row["problem"], "solution": row["solution"], "source": "embedded-math/planted"})
    train += code_problems(cfg.num_code_problems, seed=cfg.seed + 2)
    for row in train:  # one schema for every row; TRL passes these columns to the rewards
        row.setdefault("solution", None)
        row.setdefault("verification_info", None)
    rng.shuffle(train)

    with atomic_dir("data/embedded") as out:
        write_jsonl(train, out / "train.jsonl")
        write_jsonl(bench, out / "benchmark.jsonl")
        write_run_info(out, "embedded", {"embedded": cfg})
    log.info("wrote %d training problems and a %d-problem benchmark", len(train), len(bench))

    corpus = [r["problem"] for r in train + bench] + [r["solution"] or "" for r in train]
    corpus += ["<think>\nLet me think step by step.\n</think>\nThe answer is $\\boxed{42}$.",
               "```python\nprint(sum(map(int, input().split())))\n```"]
    tokenizer = train_tokenizer(corpus, cfg.vocab_size)
    model = build_model(tokenizer, cfg)
    with atomic_dir("models/embedded") as out:
        save_model(model, tokenizer, out)
        write_run_info(out, "embedded", {"embedded": cfg})


if __name__ == "__main__":
    stage.run("embedded", main)
