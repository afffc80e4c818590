"""``repetition_penalty``: the n-gram repetition penalty of Yeo et al. 2025, appendix C.2."""

from __future__ import annotations

from r1.rewards._completions import completion_texts
from r1.rewards.registry import register


def repetition_fraction(text: str, ngram_size: int) -> float:
    """``1 - distinct n-grams / n-grams`` over lower-cased whitespace words; 0 if too short.

    >>> repetition_fraction("a b c a b c a b c", 3), repetition_fraction("a b", 3)
    (0.5714285714285714, 0.0)
    """
    words = text.lower().split()
    if len(words) < ngram_size:
        return 0.0
    ngrams = list(zip(*(words[i:] for i in range(ngram_size)), strict=False))
    return 1.0 - len(set(ngrams)) / len(ngrams)


def _check(*, ngram_size: int = 3, max_penalty: float = -1.0) -> None:
    if ngram_size < 1:
        raise ValueError(f"ngram_size must be >= 1, got {ngram_size}")
    if max_penalty > 0:
        raise ValueError(f"max_penalty must be <= 0 (a penalty), got {max_penalty}")


@register("repetition_penalty", check=_check)
def make_repetition_penalty(*, ngram_size: int = 3, max_penalty: float = -1.0):
    """``repetition_penalty``: ``max_penalty * (1 - distinct n-grams / n-grams)``, from 0 to ``max_penalty``.

    >>> f = make_repetition_penalty(ngram_size=2, max_penalty=-1.0)
    >>> f(["the cat sat on the mat", "go go go go go", ""])
    [0.0, -0.75, 0.0]
    """
    _check(ngram_size=ngram_size, max_penalty=max_penalty)

    def repetition_penalty(completions, **kwargs) -> list[float]:
        out = []
        for t in completion_texts(completions):
            frac = repetition_fraction(t, ngram_size)
            out.append(frac * max_penalty if frac else 0.0)
        return out

    return repetition_penalty
