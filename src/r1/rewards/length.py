"""Length-shaped rewards: ``cosine``, ``length`` (Kimi 1.5) and ``soft_overlong_punishment`` (DAPO).

Length is measured in tokens when TRL passes ``completion_ids`` (it always does in
GRPOTrainer), else in characters.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from r1.rewards._completions import column, completion_texts
from r1.rewards.math import DEFAULT_TIMEOUT, score_math
from r1.rewards.registry import register


def lengths(texts: Sequence[str], completion_ids: Sequence[Sequence[int]] | None) -> list[int]:
    """Token counts from ``completion_ids`` when given, else character counts."""
    if completion_ids is not None:
        return [len(ids) for ids in completion_ids]
    return [len(t) for t in texts]


def cosine_scale(length: int, max_len: int, at_zero: float, at_max: float) -> float:
    """Cosine interpolation from ``at_zero`` (length 0) to ``at_max`` (length >= ``max_len``).

    The length is clamped at ``max_len`` (open-r1 did not clamp, so past ``max_len`` the
    cosine turned back and long answers were scored like short ones).

    >>> cosine_scale(0, 100, 1.0, 0.5), cosine_scale(100, 100, 1.0, 0.5), cosine_scale(300, 100, 1.0, 0.5)
    (1.0, 0.5, 0.5)
    """
    progress = min(length, max_len) / max_len
    return at_max + 0.5 * (at_zero - at_max) * (1.0 + math.cos(progress * math.pi))


def _check_cosine(
    *,
    min_value_wrong: float = -1.0,
    max_value_wrong: float = -0.5,
    min_value_correct: float = 0.5,
    max_value_correct: float = 1.0,
    max_len: int = 1000,
    **_: Any,
) -> None:
    if max_len < 1:
        raise ValueError(f"max_len must be >= 1, got {max_len}")
    if not min_value_wrong <= max_value_wrong:
        raise ValueError(
            f"min_value_wrong ({min_value_wrong}) must be <= max_value_wrong ({max_value_wrong})"
        )
    if not min_value_correct <= max_value_correct:
        raise ValueError(
            f"min_value_correct ({min_value_correct}) must be <= max_value_correct "
            f"({max_value_correct})"
        )


@register("cosine", check=_check_cosine)
def make_cosine(
    *,
    min_value_wrong: float = -1.0,
    max_value_wrong: float = -0.5,
    min_value_correct: float = 0.5,
    max_value_correct: float = 1.0,
    max_len: int = 1000,
    workers: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
):
    """``cosine``: correctness scaled by length on a cosine (Yeo et al. 2025, "Demystifying Long CoT").

    A correct answer earns ``max_value_correct`` at length 0 falling to ``min_value_correct``
    at ``max_len``: shorter right answers are better. A wrong answer earns
    ``min_value_wrong`` at length 0 rising to ``max_value_wrong`` at ``max_len``: a wrong
    answer after long thought is punished less than a quick guess. Bounds must satisfy
    min <= max (open-r1's config defaults had min_value_wrong=0.0 > max_value_wrong=-0.5,
    which rewarded short wrong answers most). Length is clamped at ``max_len``. An
    unparseable gold gives None.

    >>> f = make_cosine(max_len=100)
    >>> rewards = f(["\\\\boxed{1}", "\\\\boxed{1}" + "x" * 200, "\\\\boxed{2}", "\\\\boxed{2}" + "x" * 200,
    ...              "\\\\boxed{1}"], solution=["1", "1", "1", "1", "?"])
    >>> [None if r is None else round(r, 2) for r in rewards]  # right short, long; wrong short, long
    [0.99, 0.5, -0.99, -0.5, None]
    """
    _check_cosine(
        min_value_wrong=min_value_wrong,
        max_value_wrong=max_value_wrong,
        min_value_correct=min_value_correct,
        max_value_correct=max_value_correct,
        max_len=max_len,
    )

    def cosine(completions, completion_ids=None, **kwargs) -> list[float | None]:
        texts = completion_texts(completions)
        correct = score_math(
            texts,
            column(kwargs, "solution", len(texts), "cosine"),
            workers=workers,
            timeout=timeout,
        )
        out: list[float | None] = []
        for ok, n in zip(correct, lengths(texts, completion_ids), strict=True):
            if ok is None:
                out.append(None)
            elif ok:
                out.append(cosine_scale(n, max_len, max_value_correct, min_value_correct))
            else:
                out.append(cosine_scale(n, max_len, min_value_wrong, max_value_wrong))
        return out

    return cosine


def _group_keys(prompts: Sequence[Any] | None, n: int) -> list[str]:
    if prompts is None:
        return [""] * n
    return [
        p if isinstance(p, str) else json.dumps(p, sort_keys=True, default=str) for p in prompts
    ]


@register("length")
def make_length(*, workers: int | None = None, timeout: float = DEFAULT_TIMEOUT):
    """``length``: Kimi 1.5's length reward, within each prompt's group of generations.

    With ``lam = 0.5 - (len - min_len) / (max_len - min_len)`` where min and max are taken
    over the completions of the same prompt (open-r1 took them over the whole batch), a
    correct answer earns ``lam`` and a wrong one ``min(0, lam)``. A group whose lengths are
    all equal earns 0.0; an unparseable gold gives None (open-r1 treated it as correct).
    Groups are found from ``prompts``; only the generations present in this call are seen.

    >>> f = make_length()
    >>> f(["\\\\boxed{1}", "\\\\boxed{1}xxxxxxxx", "\\\\boxed{2}", "\\\\boxed{2}xxxxxxxx"],
    ...   prompts=["p", "p", "q", "q"], solution=["1", "1", "1", "1"])
    [0.5, -0.5, 0.0, -0.5]
    """

    def length(completions, prompts=None, completion_ids=None, **kwargs) -> list[float | None]:
        texts = completion_texts(completions)
        correct = score_math(
            texts,
            column(kwargs, "solution", len(texts), "length"),
            workers=workers,
            timeout=timeout,
        )
        sizes = lengths(texts, completion_ids)
        groups: dict[str, list[int]] = {}
        for i, key in enumerate(_group_keys(prompts, len(texts))):
            groups.setdefault(key, []).append(i)
        out: list[float | None] = [None] * len(texts)
        for members in groups.values():
            lo, hi = min(sizes[i] for i in members), max(sizes[i] for i in members)
            for i in members:
                if correct[i] is None:
                    continue
                if hi == lo:
                    out[i] = 0.0
                    continue
                lam = 0.5 - (sizes[i] - lo) / (hi - lo)
                out[i] = lam if correct[i] else min(0.0, lam)
        return out

    return length


def _check_overlong(*, max_completion_len: int = 16384, soft_punish_cache: int = 4096) -> None:
    if not 0 < soft_punish_cache <= max_completion_len:
        raise ValueError(
            f"need 0 < soft_punish_cache ({soft_punish_cache}) <= max_completion_len "
            f"({max_completion_len})"
        )


@register("soft_overlong_punishment", check=_check_overlong)
def make_soft_overlong_punishment(
    *, max_completion_len: int = 16384, soft_punish_cache: int = 4096
):
    """``soft_overlong_punishment``: DAPO's penalty for completions near the length limit, in tokens.

    0 up to ``max_completion_len - soft_punish_cache`` tokens, then falling linearly to -1 at
    ``max_completion_len``, and -1 beyond. Needs ``completion_ids`` (TRL passes them).

    >>> f = make_soft_overlong_punishment(max_completion_len=100, soft_punish_cache=20)
    >>> f(completions=["a"] * 4, completion_ids=[[0] * 80, [0] * 90, [0] * 100, [0] * 120])
    [0.0, -0.5, -1.0, -1.0]
    """
    _check_overlong(max_completion_len=max_completion_len, soft_punish_cache=soft_punish_cache)
    start = max_completion_len - soft_punish_cache

    def soft_overlong_punishment(completions=None, completion_ids=None, **kwargs) -> list[float]:
        if completion_ids is None:
            raise ValueError("soft_overlong_punishment needs completion_ids (token counts)")
        out = []
        for ids in completion_ids:
            n = len(ids)
            out.append(0.0 if n <= start else max(-1.0, (start - n) / soft_punish_cache))
        return out

    return soft_overlong_punishment
