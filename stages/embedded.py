"""Stage `embedded`: build the offline default's task, tokenizer, student and problem sets.

Outs: models/embedded (the untrained student: a Qwen2 model + tokenizer with the ChatML/<think>
template) and data/embedded:
- train.jsonl: the training prompts (arithmetic chains and a few coding problems, with some
  planted benchmark rows that decontamination must find), which the teacher is sampled on;
- benchmark.jsonl: the embedded benchmark; validation.jsonl: a split for choosing settings
  (point benchmarks.paths.embedded_math at it), so the benchmark is never tuned on;
- solver.jsonl: an imperfect solver's step-by-step traces on training prompts, which the
  `teacher` stage learns from.
Everything derives from `embedded.seed`, so the outputs are byte-identical on every machine.
"""

from __future__ import annotations

import logging
import random

from r1 import stage
from r1.atomic import atomic_dir
from r1.config import ConfigError, load_section
from r1.configs import EmbeddedConfig
from r1.data import write_jsonl
from r1.embedded.model import build_model, save_model, train_tokenizer
from r1.embedded.problems import code_problems, math_problems, solver_trace
from r1.runinfo import write_run_info

log = logging.getLogger("r1.embedded")


def main(params: dict) -> None:
    cfg, _ = load_section(params, "embedded", "embedded", EmbeddedConfig)
    # One draw for train, benchmark and validation guarantees they are disjoint; the planted
    # rows are then copied from the benchmark on purpose.
    sizes = (cfg.num_math_problems, cfg.benchmark_size, cfg.validation_size)
    try:
        pool = math_problems(sum(sizes), seed=cfg.seed, operands=cfg.operands, max_operand=cfg.max_operand,
                             ops=cfg.operators)
    except ValueError as exc:
        raise ConfigError(f"params.yaml embedded: {exc}; lower num_math_problems, benchmark_size or "
                          "validation_size, or raise operands or max_operand") from exc
    train, bench, val = pool[: sizes[0]], pool[sizes[0]: sizes[0] + sizes[1]], pool[sizes[0] + sizes[1]:]
    bench = [{"problem": r["problem"], "solution": r["solution"]} for r in bench]
    val = [{"problem": r["problem"], "solution": r["solution"]} for r in val]
    rng = random.Random(cfg.seed + 1)
    # The solver works on the training prompts only (drawn with replacement, so a prompt can
    # have several traces, some right and some wrong).
    solver_rng = random.Random(cfg.seed + 3)
    solver = []
    for _ in range(cfg.solver_traces):
        row = solver_rng.choice(train)
        solver.append({"problem": row["problem"], "solution": row["solution"],
                       "generation": solver_trace(row["problem"], solver_rng, swap=cfg.solver_swap,
                                                  slip=cfg.solver_slip)})
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
        write_jsonl(val, out / "validation.jsonl")
        write_jsonl(solver, out / "solver.jsonl")
        write_run_info(out, "embedded", {"embedded": cfg})
    log.info("wrote %d training problems, a %d-problem benchmark, %d validation problems and %d solver traces",
             len(train), len(bench), len(val), len(solver))

    corpus = [r["problem"] for r in train + bench] + [r["solution"] or "" for r in train]
    corpus += [r["generation"] for r in solver]
    corpus += ["<think>\nLet me think step by step.\n</think>\nThe answer is $\\boxed{42}$.",
               "```python\nprint(sum(map(int, input().split())))\n```"]
    tokenizer = train_tokenizer(corpus, cfg.vocab_size)
    model = build_model(tokenizer, cfg)
    with atomic_dir("models/embedded") as out:
        save_model(model, tokenizer, out)
        write_run_info(out, "embedded", {"embedded": cfg})


if __name__ == "__main__":
    stage.run("embedded", main)
