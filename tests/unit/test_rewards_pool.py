"""The math-verify process pool: no completion may stall a batch beyond its timeout."""

from __future__ import annotations

import os
import signal
import time

import pytest

from r1.rewards import score_math
from r1.rewards._math_pool import MathPool

TOWER = "$\\boxed{" + "7^{" * 12 + "9" + "}" * 12 + "}$"  # sympy would evaluate it for ages
HUGE_SUM = "$\\boxed{" + "+".join(f"x_{{{j}}}^{{{j}}}" for j in range(300)) + "}$"


def test_pathological_latex_is_cut_at_the_timeout():
    start = time.monotonic()
    scores = score_math([TOWER, HUGE_SUM, "\\boxed{9}"], ["9", "$x_1$", "9"])
    # Two expressions at most 0.25 CPU-s each, plus slack for a loaded machine.
    assert scores == [0.0, 0.0, 1.0]
    assert time.monotonic() - start < 5


def test_a_stuck_worker_is_killed_and_replaced():
    pool = MathPool(workers=1, hard_timeout=1.0)
    try:
        assert pool.score(["\\boxed{1}"], ["1"]) == [1.0]  # started
        stuck = pool._workers[0].proc
        os.kill(stuck.pid, signal.SIGSTOP)  # as if hung inside C code, deaf to its own timer
        start = time.monotonic()
        scores = pool.score(["\\boxed{1}", "\\boxed{2}", "\\boxed{3}"], ["1", "2", "4"])
        elapsed = time.monotonic() - start
        assert scores == [0.0, 1.0, 0.0]  # the stuck completion fails; the rest are scored
        assert pool.killed == 1 and stuck.poll() is not None
        assert elapsed < 1.0 + 15  # the hard timeout plus a replacement worker's start
    finally:
        pool.close()


def test_mismatched_lengths_are_an_error():
    with pytest.raises(ValueError, match="2 completions but 1 golds"):
        score_math(["a", "b"], ["1"])
