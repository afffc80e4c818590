"""Math verdicts must not depend on the machine: cold or warm workers, idle or loaded CPUs.

A reward that flips with load makes GRPO and the filter irreproducible. Before the fix, a
0.25 CPU-s budget per expression failed ``(x+1)^2`` against ``x^2+2x+1`` in a fresh worker
(sympy's first polynomial expansion costs ~0.5 CPU-s), and remembered the failure.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time

from r1.rewards._math_pool import MathPool

# The two answers of the bug report, with the verdict math-verify gives them with no limit.
REPORTED = [
    ("The answer is $\\boxed{(x+1)^2}$.", "$x^2+2x+1$", 1.0),
    ("\\boxed{(1, \\infty)}", "$x > 1$", 1.0),
]
FIXED = [
    ("So $\\boxed{\\dfrac{3}{4}}$", "$0.75$"),
    ("\\boxed{2\\sqrt{2}}", "$\\sqrt{8}$"),
    ("\\boxed{[2, 5)}", "$2 \\le x < 5$"),
    ("\\boxed{x^2 - 1}", "$(x-1)(x+1)$"),
    ("\\boxed{13}", "$12$"),  # wrong
    ("no answer at all", "$12$"),
    ("\\boxed{" + "7^{" * 12 + "9" + "}" * 12 + "}", "$9$"),  # past the size guards
]


def _equivalent_answer(gold: str, rng: random.Random) -> str:
    """A completion whose answer is ``gold`` written differently, so that string equality
    cannot decide it and sympy must."""
    if gold.isdigit():
        n = int(gold)
        form = rng.choice([f"\\frac{{{2 * n}}}{{2}}", f"{n}.0", f"{n} + 0"])
    else:
        form = gold.replace("\\dfrac", "\\frac").replace("\\frac", "\\dfrac")
        form = form.replace("\\left", "").replace("\\right", "")
    if form == gold:  # nothing to rewrite: state it unboxed, for the other extraction path
        return f"Therefore the final answer is ${gold}$"
    return f"Therefore the final answer is $\\boxed{{{form}}}$."


def _benchmark_pairs(root) -> list[tuple[str, str]]:
    """Real gold answers (MATH-500, AIME 2024, DeepScaleR) each with an equivalent answer."""
    if root is None:
        return []
    rng = random.Random(0)
    golds = [json.loads(line)["answer"] for line in open(root / "math500_test.jsonl")]
    golds = rng.sample(golds, 30)
    golds += [str(json.loads(line)["answer"]) for line in open(root / "aime24_test.jsonl")][:5]
    train = json.loads((root / "math_train_deepscaler.json").read_text())
    golds += rng.sample([str(r["answer"]) for r in train], 15)
    return [(_equivalent_answer(g, rng), f"${g}$") for g in golds]


def _burn_cpus(n: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]


def test_same_rewards_cold_warm_and_under_load(shared_benchmarks_dir):
    benchmark = _benchmark_pairs(shared_benchmarks_dir)
    pairs = [(c, g) for c, g, _ in REPORTED] + FIXED + benchmark
    completions, golds = [c for c, _ in pairs], [g for _, g in pairs]

    # Two fresh pools; the second stays cold until the CPUs are busy.
    idle, loaded = MathPool(workers=1), MathPool(workers=1)
    try:
        idle.start(), loaded.start()  # both warm up at once
        for pool in (idle, loaded):
            assert pool.score(["\\boxed{1}"], ["1"]) == [1.0]  # ready; nothing real scored yet
        cold = idle.judge(completions, golds)
        warm = idle.judge(completions, golds)  # the same worker again, its caches full
        burners = _burn_cpus(2)
        try:
            time.sleep(0.5)  # let the burners take the CPUs
            loaded_cold = loaded.judge(completions, golds)
            loaded_warm = loaded.judge(completions, golds)
        finally:
            for p in burners:
                p.kill()
                p.wait()
    finally:
        idle.close()
        loaded.close()

    scores, statuses = cold
    for run in (warm, loaded_cold, loaded_warm):
        assert run == (scores, statuses)
    assert scores[: len(REPORTED)] == [expected for _, _, expected in REPORTED]
    assert scores[len(pairs) - len(benchmark) :] == [1.0] * len(benchmark)  # all equivalent
    # No verdict came from a timeout; only the tower met a size guard.
    assert [s for s in statuses if s is not None] == ["too_complex"]
