"""Scoring one answer against its gold with math-verify (runs inside the worker processes).

Semantics (open-r1's, with its bugs fixed):

- the gold is parsed with math-verify's default extractors (LaTeX, then plain expressions);
  a gold that yields nothing gives ``None`` (no signal), never 1.0;
- the answer is parsed LaTeX-first with ``\\boxed{}`` tried before anything else, with
  math-verify's strict normalisation (no repair of malformed operators), then as an
  anchored plain expression (``"The answer is 12"``); nothing extracted scores 0.0;
- ``verify(gold, answer)`` in that order (the order matters: an inequality gold accepts an
  interval answer, not the other way round);
- a parse or verify that exceeds its timeout scores 0.0, as math-verify itself does.

math-verify enforces its timeouts with ``signal.alarm``, which only works in a main thread,
only in whole seconds, and counts wall-clock time: a whole second per expression is far too
coarse for hundreds of completions per second, and wall time turns CPU contention into
false "wrong answer" verdicts. :func:`install_fractional_timeouts` (called by the worker
processes, which run this in their main thread) swaps in the same mechanism on
``setitimer(ITIMER_PROF)``: fractions of a second of this process's own CPU time. Wall
time is still capped, per completion, by the pool's hard timeout.
"""

from __future__ import annotations

import functools
import math
import signal

import math_verify.grader
import math_verify.parser
from latex2sympy2_extended import NormalizationConfig
from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify

ANSWER_EXTRACTION = [
    LatexExtractionConfig(
        normalization_config=NormalizationConfig(
            nits=False,
            malformed_operators=False,
            basic_latex=True,
            equations=True,
            boxed="all",
            units=True,
        ),
        boxed_match_priority=0,
        try_extract_without_anchor=False,
    ),
    ExprExtractionConfig(try_extract_without_anchor=False),
]

_FRACTIONAL = False


def _fractional_timeout(timeout_seconds: float = 10):
    """math-verify's ``timeout`` decorator (same contract), on CPU time and in fractions."""

    def decorator(func):
        def handler(signum, frame):
            raise TimeoutError("Operation timed out!")

        def wrapper(*args, **kwargs):
            old = signal.signal(signal.SIGPROF, handler)
            signal.setitimer(signal.ITIMER_PROF, float(timeout_seconds))
            try:
                return func(*args, **kwargs)
            finally:
                signal.setitimer(signal.ITIMER_PROF, 0)
                signal.signal(signal.SIGPROF, old)

        return wrapper

    return decorator


def install_fractional_timeouts() -> None:
    """Make math-verify's per-expression timeouts CPU seconds, fractions allowed (main thread only).

    Both modules look ``timeout`` up at call time, so replacing the module attribute is
    enough; the behaviour is otherwise math-verify's own.
    """
    global _FRACTIONAL
    math_verify.parser.timeout = _fractional_timeout
    math_verify.grader.timeout = _fractional_timeout
    _FRACTIONAL = True


def _seconds(timeout: float) -> float | int:
    # Without the fractional timer, math-verify's alarm needs whole seconds.
    return timeout if _FRACTIONAL else max(1, math.ceil(timeout))


@functools.lru_cache(maxsize=8192)
def parse_gold(gold: str, timeout: float = 0.25) -> tuple:
    """The parsed gold (empty when unparseable); cached, since a group shares its gold."""
    return tuple(parse(gold, extraction_mode="first_match", parsing_timeout=_seconds(timeout)))


# Completions of one prompt mostly reach the same few answers: verify each pair once.
_VERIFIED: dict[tuple[str, str, float], float] = {}
_VERIFIED_MAX = 65536


def _verify(gold: str, gold_parsed: tuple, answer: list, timeout: float) -> float:
    # The extracted text (math-verify's last element) determines the parsed answer.
    key = (gold, str(answer[-1]), timeout)
    if key not in _VERIFIED:
        try:
            result = float(verify(list(gold_parsed), answer, timeout_seconds=_seconds(timeout)))
        except Exception:  # math-verify raises on some exotic sympy objects: a wrong answer
            result = 0.0
        if len(_VERIFIED) >= _VERIFIED_MAX:
            _VERIFIED.clear()
        _VERIFIED[key] = result
    return _VERIFIED[key]


def score_one(completion: str, gold: str, timeout: float = 0.25) -> float | None:
    """1.0 if ``completion``'s final answer equals ``gold``, 0.0 if not, None if the gold
    cannot be parsed. ``timeout``: seconds allowed per parse and per verify.

    >>> score_one("so the answer is $\\\\boxed{\\\\frac{1}{2}}$", "$0.5$")
    1.0
    >>> score_one("\\\\boxed{3}", "\\\\boxed{12}")
    0.0
    >>> score_one("no answer here", "12")
    0.0
    >>> score_one("\\\\boxed{12}", "not a number at all") is None
    True
    """
    gold_parsed = parse_gold(gold, timeout)
    if not gold_parsed:
        return None
    answer = parse(
        completion,
        extraction_config=ANSWER_EXTRACTION,
        extraction_mode="first_match",
        parsing_timeout=_seconds(timeout),
    )
    if not answer:
        return 0.0
    return _verify(gold, gold_parsed, answer, timeout)
