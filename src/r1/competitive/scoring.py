"""From test verdicts to a reward: Codeforces' scoring modes and IOI's subtask score."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from r1.sandbox.base import TestResult

ScoringMode = Literal["pass_fail", "partial", "weighted_sum"]
SCORING_MODES = ("pass_fail", "partial", "weighted_sum")


def codeforces_score(
    results: Sequence[TestResult] | None,
    mode: ScoringMode = "weighted_sum",
    compile_error_reward: float = 0.0,
) -> float | None:
    """open-r1's Codeforces scoring of one submission.

    ``pass_fail``: 1.0 when every test passes, else 0.0. ``partial``: the fraction passed.
    ``weighted_sum``: pass_fail + 0.1 * partial (so 1.1 for a full solve; a partial solve
    still gets a small signal). A compile error gets ``compile_error_reward``; None (a
    sandbox error) stays None.

    >>> ok, wa = TestResult("passed"), TestResult("wrong_answer")
    >>> [codeforces_score([ok, wa], m) for m in ("pass_fail", "partial", "weighted_sum")]
    [0.0, 0.5, 0.05]
    >>> codeforces_score([ok, ok]), codeforces_score([TestResult("compile_error")]), codeforces_score(None)
    (1.1, 0.0, None)
    """
    if mode not in SCORING_MODES:
        raise ValueError(f"scoring_mode must be one of {SCORING_MODES}, got {mode!r}")
    if results is None:
        return None
    if any(r.status == "compile_error" for r in results):
        return compile_error_reward
    if not results:
        return None
    partial = sum(r.passed for r in results) / len(results)
    full = 1.0 if partial == 1.0 else 0.0
    if mode == "pass_fail":
        return full
    if mode == "partial":
        return partial
    return full + 0.1 * partial


def ioi_subtask_score(results: Sequence[TestResult] | None, precision: int = 2) -> float | None:
    """IOI's subtask score in [0, 1]: the lowest score of its tests, rounded to ``precision``
    decimals (multiply by the subtask's points for the points won).

    >>> ioi_subtask_score([TestResult("passed"), TestResult("wrong_answer", score=0.456)])
    0.46
    >>> ioi_subtask_score([TestResult("passed"), TestResult("timeout")])
    0.0
    """
    if results is None:
        return None
    if not results:
        return 0.0
    return round(min(r.score for r in results), precision)
