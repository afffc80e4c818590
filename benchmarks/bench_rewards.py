"""Benchmark: math-verify scoring (the accuracy reward) over a realistic batch.

Prints completions/s for a batch of 1,024 completions: a mix of R1-style traces with right
and wrong boxed answers, plain "the answer is" endings, fractions, intervals, matrices-free
LaTeX, and pathological LaTeX (deep nesting, towers of exponents, thousands of
delimiters). Target: >= 500 completions/s on 2 cores, with no completion stalling the batch
beyond the hard timeout.

    uv run --no-sync python benchmarks/bench_rewards.py [--n 1024] [--workers N] [--rounds 3]
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import time

from r1.rewards._math_pool import MathPool
from r1.rewards.math import DEFAULT_HARD_TIMEOUT, DEFAULT_TIMEOUT

GOLD_KINDS = [  # (weight, gold, right answer, a wrong answer) as functions of two numbers
    (60, lambda a, b: f"${a}$", lambda a, b: f"{a}", lambda a, b: f"{a + b}"),
    (
        12,
        lambda a, b: f"\\frac{{{a}}}{{{b}}}",
        lambda a, b: f"\\frac{{{a}}}{{{b}}}",
        lambda a, b: f"\\frac{{{b}}}{{{a}}}",
    ),
    (
        10,
        lambda a, b: f"${a}\\sqrt{{{b}}}$",
        lambda a, b: f"{a}\\sqrt{{{b}}}",
        lambda a, b: f"{b}\\sqrt{{{a}}}",
    ),
    (
        6,
        lambda a, b: f"$x^2 + {a}x + {b}$",
        lambda a, b: f"x^2+{a}x+{b}",
        lambda a, b: f"x^2+{b}x+{a}",
    ),
    (4, lambda a, b: f"$x > {a}$", lambda a, b: f"({a}, \\infty)", lambda a, b: f"[{a}, \\infty)"),
    (
        4,
        lambda a, b: f"$\\{{{a}, {b}\\}}$",
        lambda a, b: f"\\{{{b}, {a}\\}}",
        lambda a, b: f"\\{{{a}\\}}",
    ),
    (4, lambda a, b: f"{a}.{b}", lambda a, b: f"{a}.{b}", lambda a, b: f"{a}"),
]
# Each call differs (random numbers), so no cache can flatter the figures.
PATHOLOGICAL = [
    lambda r: "$\\boxed{" + "\\frac{1}{1+" * 60 + f"x_{r}" + "}" * 120 + "}$",  # deep nesting
    lambda r: "$\\boxed{" + f"{r}^{{" * 12 + "9" + "}" * 12 + "}$",  # exponent tower
    lambda r: "$" * 3000 + "\\left(" * 500 + f"\\boxed{{{{{{{r}",  # delimiters
    lambda r: (
        "$\\boxed{" + "+".join(f"x_{{{j}}}^{{{j + r}}}" for j in range(300)) + "}$"
    ),  # huge sum
]


def make_batch(n: int, seed: int = 0, group: int = 16, pathological: float = 0.01):
    """A GRPO-shaped batch: ``n // group`` prompts, ``group`` generations each.

    Per generation: ~65% right (boxed), ~20% wrong, ~5% "The answer is ..." endings, ~8%
    no answer (cut off), and ``pathological`` of them pathological LaTeX.
    """
    rng = random.Random(seed)
    filler = (
        "Let me think about this carefully. First, we expand the expression and collect "
        "terms: $(x+1)^2 = x^2 + 2x + 1$. Next, we check the boundary cases. "
    )
    weights = [k[0] for k in GOLD_KINDS]
    completions, golds = [], []
    n_path = 0
    for _ in range(n // group):
        _, gold_f, right_f, wrong_f = rng.choices(GOLD_KINDS, weights)[0]
        a, b = rng.randint(2, 999), rng.randint(2, 97)
        gold = gold_f(a, b)
        for _ in range(group):
            reasoning = "<think>\n" + filler * rng.randint(2, 40) + "\n</think>\n"
            u = rng.random()
            if u < pathological:
                ending = rng.choice(PATHOLOGICAL)(rng.randint(2, 10**6))
                n_path += 1
            elif u < 0.65:
                ending = f"The answer is $\\boxed{{{right_f(a, b)}}}$."
            elif u < 0.85:
                ending = f"So we get $\\boxed{{{wrong_f(a, b)}}}$."
            elif u < 0.90:
                ending = f"The final answer is ${right_f(a, b)}$"
            else:
                ending = "Hmm, let me reconsider the second case"
            completions.append(reasoning + ending)
            golds.append(gold)
    return completions, golds, n_path


def workers_cpu_seconds(pool: MathPool) -> float:
    """User + system CPU seconds used so far by the pool's live worker processes."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for w in pool._workers:
        with open(f"/proc/{w.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1024)
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT, help="CPU s per completion (worker)"
    )
    p.add_argument(
        "--hard-timeout", type=float, default=DEFAULT_HARD_TIMEOUT, help="wall s per completion"
    )
    p.add_argument("--pathological", type=float, default=0.01, help="fraction of the batch")
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    pool = MathPool(workers=args.workers, timeout=args.timeout, hard_timeout=args.hard_timeout)
    t0 = time.perf_counter()
    pool.score(["\\boxed{1}"], ["1"])  # start the workers (imports sympy etc.)
    start_s = time.perf_counter() - t0
    cpus = len(os.sched_getaffinity(0))
    rows = []
    for r in range(args.rounds):
        # A fresh batch each round (new seed): no answer is ever verified twice across rounds.
        completions, golds, n_path = make_batch(args.n, seed=r, pathological=args.pathological)
        cpu0, t = workers_cpu_seconds(pool), time.perf_counter()
        scores = pool.score(completions, golds)
        dt = time.perf_counter() - t
        cpu = workers_cpu_seconds(pool) - cpu0
        rows.append(
            (
                r,
                dt,
                args.n / dt,
                cpu,
                n_path,
                sum(s == 1.0 for s in scores),
                sum(s is None for s in scores),
            )
        )
    pool.close()
    print(
        f"math-verify benchmark: {args.n} completions, {pool.n_workers} worker processes, "
        f"{cpus} CPUs, pool start {start_s:.2f}s, CPU budget {args.timeout}s per completion, "
        f"hard timeout {args.hard_timeout}s"
    )
    print(f"each round: a fresh batch of {args.n // 16} prompts x 16 generations")
    # Wall figures depend on what else runs on the machine; the workers' own CPU time does
    # not, so "compl/s per idle CPUs" (n / CPU seconds * workers) is printed beside them.
    print(
        f"{'round':>5} {'wall s':>7} {'compl/s':>8} {'CPU s':>6} {'CPU ms/compl':>12} "
        f"{'compl/s if idle':>15} {'pathol.':>7} {'correct':>7} {'None':>4}"
    )
    for r, dt, rate, cpu, n_path, ok, none in rows:
        idle = args.n / cpu * min(pool.n_workers, cpus) if cpu else float("nan")
        print(
            f"{r:>5} {dt:>7.2f} {rate:>8.0f} {cpu:>6.2f} {cpu / args.n * 1000:>12.2f} "
            f"{idle:>15.0f} {n_path:>7} {ok:>7} {none:>4}"
        )
    print(
        f"completions killed at the hard timeout: {pool.killed}; verdicts cut short: "
        f"{dict(pool.statuses) or 'none'}"
    )
    warm = [row[2] for row in rows[1:]] or [rows[0][2]]
    print(
        f"round 0 (fresh workers): {rows[0][2]:.0f} completions/s; later rounds (warm workers): "
        f"{min(warm):.0f}-{max(warm):.0f} completions/s; target >= 500/s"
    )


if __name__ == "__main__":
    main()
