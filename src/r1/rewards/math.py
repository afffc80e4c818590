"""Math rewards on math-verify: ``accuracy``, and :func:`score_math` for the data filters.

Scoring runs in worker processes (see :mod:`r1.rewards._math_pool`), so a pathological
completion cannot stall a batch beyond its timeout. See :mod:`r1.rewards._math_verify` for
exactly how gold and answer are parsed and compared.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from r1.rewards._completions import column, completion_texts
from r1.rewards._math_pool import shared_pool
from r1.rewards.registry import register

logger = logging.getLogger(__name__)

# Running count of unparseable gold answers over this process's life (reported in the logs).
UNPARSEABLE_GOLD = 0


def score_math(
    completions: Sequence[str],
    golds: Sequence[str],
    *,
    workers: int | None = None,
    timeout: float = 0.25,
    hard_timeout: float = 10.0,
) -> list[float | None]:
    """1.0 / 0.0 per completion against its gold; None where the gold cannot be parsed.

    Process-pool backed (``workers`` processes, default one per CPU); ``timeout`` is
    math-verify's own per parse/verify, ``hard_timeout`` the most one completion may take.

    >>> score_math(["$\\\\boxed{4}$", "I think 5", "\\\\boxed{2}"], ["4", "$4$", "\\\\text{?}"])
    [1.0, 0.0, None]
    """
    global UNPARSEABLE_GOLD
    scores = shared_pool(workers, timeout, hard_timeout).score(list(completions), list(golds))
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
    *, workers: int | None = None, timeout: float = 0.25, hard_timeout: float = 10.0
) -> None:
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if timeout <= 0 or hard_timeout <= 0:
        raise ValueError("timeout and hard_timeout must be positive")


@register("accuracy", check=_check_pool)
def make_accuracy(*, workers: int | None = None, timeout: float = 0.25, hard_timeout: float = 10.0):
    """``accuracy``: 1.0 if the completion's final answer equals the ``solution`` column.

    math-verify parses the gold with its default extractors and the answer LaTeX-first with
    ``\\boxed{}`` tried first, then calls ``verify(gold, answer)``. An unparseable gold gives
    None (no signal; counted in the logs), never 1.0 as in open-r1.

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
