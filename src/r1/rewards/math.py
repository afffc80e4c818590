"""Math rewards on math-verify: ``accuracy``, and :func:`score_math` for the data filters.

Scoring runs in worker processes (see :mod:`r1.rewards._math_pool`), so a pathological
completion cannot stall a batch beyond its timeout. See :mod:`r1.rewards._math_verify` for
exactly how gold and answer are parsed and compared.

Verdicts cut short are counted, never silent: :func:`timeout_count` is the number of
completions this process scored whose verdict came from a timeout (the CPU budget or the
hard wall-clock cap), :func:`verdict_counts` breaks it down (and adds the size guards'
``too_complex``). A stage reads them before and after its scoring and reports the
difference (the filter stage's ``math_timeouts``).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence

from r1.rewards._completions import column, completion_texts
from r1.rewards._math_pool import shared_pool
from r1.rewards.registry import register

logger = logging.getLogger(__name__)

# Running count of unparseable gold answers over this process's life (reported in the logs).
UNPARSEABLE_GOLD = 0
# Completions by how their verdict was cut short, over this process's life.
_CUT_SHORT: Counter[str] = Counter()
TIMEOUT_STATUSES = ("timeout", "hard_timeout")

# CPU seconds per completion in the worker, and wall-clock seconds before it is killed:
# generous, so that no real answer is ever cut short on a slow or loaded machine.
DEFAULT_TIMEOUT = 5.0
DEFAULT_HARD_TIMEOUT = 30.0


def timeout_count() -> int:
    """Completions scored in this process whose verdict came from a timeout (CPU budget or
    hard cap; each scored 0.0, or None for a gold that timed out). Monotonic: take the
    difference around a step.

    >>> before = timeout_count()
    >>> score_math(["\\boxed{4}"], ["4"]) and timeout_count() - before
    0
    """
    return sum(_CUT_SHORT[s] for s in TIMEOUT_STATUSES)


def verdict_counts() -> dict[str, int]:
    """``{"timeout": ..., "hard_timeout": ..., "too_complex": ...}`` over this process's life."""
    return {s: _CUT_SHORT[s] for s in (*TIMEOUT_STATUSES, "too_complex")}


def score_math(
    completions: Sequence[str],
    golds: Sequence[str],
    *,
    workers: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    hard_timeout: float = DEFAULT_HARD_TIMEOUT,
) -> list[float | None]:
    """1.0 / 0.0 per completion against its gold; None where the gold cannot be parsed.

    Process-pool backed (``workers`` processes, default one per CPU); ``timeout`` is the
    CPU seconds one completion's parse and verify may take, ``hard_timeout`` the most
    wall-clock seconds it may take. Those cut short are counted (:func:`timeout_count`).

    >>> score_math(["$\\\\boxed{4}$", "I think 5", "\\\\boxed{2}"], ["4", "$4$", "\\\\text{?}"])
    [1.0, 0.0, None]
    """
    global UNPARSEABLE_GOLD
    pool = shared_pool(workers, timeout, hard_timeout)
    scores, statuses = pool.judge(list(completions), list(golds))
    cut = Counter(s for s in statuses if s is not None)
    if cut:
        _CUT_SHORT.update(cut)
        logger.warning(
            "math-verify: %d of %d verdicts cut short (%s; CPU budget %.1f s, hard cap %.1f s)",
            sum(cut.values()),
            len(scores),
            ", ".join(f"{n} {s}" for s, n in sorted(cut.items())),
            timeout,
            hard_timeout,
        )
    bad = sum(s is None for s in scores)
    if bad:
        UNPARSEABLE_GOLD += bad
        logger.warning(
            "math-verify: %d of %d gold answers unparseable or unscorable (reward None, %d so far)",
            bad,
            len(scores),
            UNPARSEABLE_GOLD,
        )
    return scores


def _check_pool(
    *,
    workers: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    hard_timeout: float = DEFAULT_HARD_TIMEOUT,
) -> None:
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if timeout <= 0 or hard_timeout <= 0:
        raise ValueError("timeout and hard_timeout must be positive")


@register("accuracy", check=_check_pool)
def make_accuracy(
    *,
    workers: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    hard_timeout: float = DEFAULT_HARD_TIMEOUT,
):
    """``accuracy``: 1.0 if the completion's final answer equals the ``solution`` column.

    math-verify parses the gold with its default extractors and the answer LaTeX-first with
    ``\\boxed{}`` tried first, then calls ``verify(gold, answer)``. An unparseable gold gives
    None (no signal; counted in the logs), never 1.0 as in open-r1. ``timeout`` (CPU s)
    and ``hard_timeout`` (wall s) bound each completion; a completion cut short scores 0.0
    and is counted in :func:`r1.rewards.timeout_count`.

    >>> f = make_accuracy()
    >>> f(completions=[[{"role": "assistant", "content": "<think>...</think> $\\\\boxed{12}$"}],
    ...                "The answer is \\\\boxed{13}", "\\\\boxed{12}"],
    ...   solution=["$12$", "12", "???"])
    [1.0, 0.0, None]
    """

    def accuracy(completions, **kwargs) -> list[float | None]:
        texts = completion_texts(completions)
        golds = column(kwargs, "solution", len(texts), "accuracy")
        return score_math(texts, golds, workers=workers, timeout=timeout, hard_timeout=hard_timeout)

    return accuracy
