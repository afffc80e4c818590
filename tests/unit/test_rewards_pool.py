"""The math-verify process pool: no completion may stall a batch beyond its timeout."""

from __future__ import annotations

import os
import signal
import sys

import pytest

from r1.rewards import score_math, timeout_count, verdict_counts
from r1.rewards._math_pool import MathPool

TOWER = "$\\boxed{" + "7^{" * 12 + "9" + "}" * 12 + "}$"  # sympy would evaluate it for ages
HUGE_SUM = "$\\boxed{" + "+".join(f"x_{{{j}}}^{{{j}}}" for j in range(300)) + "}$"
# Within the size guards, yet sympy would spend forever on it: only the CPU budget stops it.
SMALL_TOWER = "$\\boxed{9^{9^{9}}}$"


def test_pathological_latex_stops_at_the_size_guards_and_is_counted():
    before = verdict_counts()
    scores = score_math([TOWER, HUGE_SUM, "\\boxed{9}"], ["9", "$x_1$", "9"])
    assert scores == [0.0, 0.0, 1.0]
    # Refused before sympy (a 300-term sum takes ~6 CPU-s to parse), not cut by the budget.
    after = verdict_counts()
    assert after["too_complex"] - before["too_complex"] == 2
    assert after["timeout"] == before["timeout"]


def test_a_completion_past_its_cpu_budget_scores_zero_and_is_counted():
    before = timeout_count()
    scores = score_math(
        [SMALL_TOWER, "so \\boxed{\\frac{18}{2}}"], ["9", "9"], workers=1, timeout=0.5
    )
    assert scores == [0.0, 1.0]
    assert timeout_count() - before == 1


def test_a_stuck_worker_is_killed_and_replaced():
    pool = MathPool(workers=1, hard_timeout=1.0)
    try:
        assert pool.score(["\\boxed{1}"], ["1"]) == [1.0]  # started
        stuck = pool._workers[0].proc
        os.kill(stuck.pid, signal.SIGSTOP)  # as if hung inside C code, deaf to its own timer
        scores, statuses = pool.judge(["\\boxed{1}", "\\boxed{2}", "\\boxed{3}"], ["1", "2", "4"])
        assert scores == [0.0, 1.0, 0.0]  # the stuck completion fails; the rest are scored
        assert statuses == ["hard_timeout", None, None]  # and says why
        assert pool.killed == 1 and pool.statuses == {"hard_timeout": 1}
        assert stuck.poll() is not None
    finally:
        pool.close()


def test_mismatched_lengths_are_an_error():
    with pytest.raises(ValueError, match="2 completions but 1 golds"):
        score_math(["a", "b"], ["1"])


def test_a_worker_that_cannot_start_stops_scoring_with_a_clear_error(tmp_path, monkeypatch):
    """A worker dying before it is ready would be replaced forever; it must raise instead."""
    broken = tmp_path / "python"
    broken.write_text("#!/bin/sh\necho 'ModuleNotFoundError: math_verify' >&2\nexit 3\n")
    broken.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(broken))  # what the pool starts workers with
    pool = MathPool(workers=1)
    try:
        with pytest.raises(RuntimeError, match=r"exited during start-up \(exit code 3\)"):
            pool.score(["\\boxed{1}"], ["1"])
    finally:
        pool.close()
