"""Scoring one answer against its gold with math-verify (runs inside the worker processes).

Semantics (open-r1's, with its bugs fixed):

- the gold is parsed with math-verify's default extractors (LaTeX, then plain expressions);
  a gold that yields nothing gives ``None`` (no signal), never 1.0;
- the answer is parsed LaTeX-first with ``\\boxed{}`` tried before anything else, with
  math-verify's strict normalisation (no repair of malformed operators), then as an
  anchored plain expression (``"The answer is 12"``); nothing extracted scores 0.0;
- ``verify(gold, answer)`` in that order (the order matters: an inequality gold accepts an
  interval answer, not the other way round);
- a last ``\\boxed{}`` whose text is the gold's own text scores 1.0 without sympy (what
  math-verify would say, for a fraction of the cost);
- an answer too large for any real answer (:data:`MAX_CHARS`, :data:`MAX_DEPTH`) is not
  handed to sympy: it is compared as text only, and reported as ``too_complex``;
- a completion whose answer parse and verify together exceed their CPU budget scores 0.0,
  as math-verify does on a timeout, and is reported as ``timeout``.

Why the budget is what it is (the verdict must not depend on the machine): math-verify's
own timeouts are ``signal.alarm`` per expression, in whole wall-clock seconds, and it
catches the ``TimeoutError`` itself, so a timeout is silently a wrong answer. A tight
budget turned load and cold caches into false verdicts: ``(x+1)^2`` against ``x^2+2x+1``
costs ~0.5 CPU-s the first time sympy expands a polynomial and ~0.01 s after. So, once
:func:`install_budget` ran (the worker processes, in their main thread):

- every completion gets one *generous* budget of CPU seconds (``timeout``, default 5 s:
  hundreds of times what a warm worker needs for any real answer) on
  ``setitimer(ITIMER_PROF)``, i.e. this process's own CPU time, which other processes'
  load barely changes; the worker warms sympy's lazily built paths before it reports ready;
- the budget is enforced by :class:`OutOfBudget`, a ``BaseException``, so no
  ``except Exception`` in math-verify or sympy can swallow it and carry on;
- answers larger than any real one are stopped *before* sympy by the size guards: their
  parse cost grows without bound (a 300-term sum takes ~6 CPU-s to parse, a tower of
  exponents never finishes), so a generous budget alone would let a few of them eat the
  whole batch's time. The limits are several times the largest of thousands of real gold
  answers (MATH, AIME, GSM8K, DeepScaleR: at most 159 characters and brace depth 2).

Wall time is still capped, per completion, by the pool's hard timeout.
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

# Size guards (see the module docstring): more characters, or deeper brace nesting, than
# this in one expression is not a real answer.
MAX_CHARS = 1000
MAX_DEPTH = 10

# Statuses of a verdict, as reported to the pool (None: computed in full).
TIMEOUT = "timeout"
TOO_COMPLEX = "too_complex"


class OutOfBudget(BaseException):
    """The completion's CPU budget is spent (a BaseException: nothing may swallow it)."""


class TooComplex(Exception):
    """An expression past the size guards (an Exception: math-verify treats it as unparseable)."""


_BUDGETED = False
_guard_hit = False  # set when the current completion met a size guard


def too_complex(text: str) -> bool:
    """Whether ``text`` is past the size guards.

    >>> too_complex("\\\\frac{1}{2}"), too_complex("7^{" * 12 + "9" + "}" * 12)
    (False, True)
    """
    if len(text) > MAX_CHARS:
        return True
    depth = 0
    for ch in text:
        if ch == "{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif ch == "}":
            depth -= 1
    return False


def _guarded(parse_func):
    """math-verify's string-to-sympy step, refusing what is past the size guards."""

    @functools.wraps(parse_func)
    def wrapper(text, *args, **kwargs):
        global _guard_hit
        if isinstance(text, str) and too_complex(text):
            _guard_hit = True
            raise TooComplex(f"{len(text)} characters")
        return parse_func(text, *args, **kwargs)

    return wrapper


def _no_timeout(timeout_seconds=None):
    # math-verify's per-expression alarms give way to the per-completion budget.
    return lambda func: func


def _out_of_budget(signum, frame):
    raise OutOfBudget


def install_budget() -> None:
    """Switch this process to per-completion CPU budgets and the size guards (main thread only).

    math-verify looks these names up at call time, so replacing the module attributes is
    enough; its behaviour is otherwise its own. Only the worker processes call this, so a
    process that uses math-verify for something else (lighteval) keeps it unchanged.
    """
    global _BUDGETED
    signal.signal(signal.SIGPROF, _out_of_budget)
    math_verify.parser.timeout = _no_timeout
    math_verify.grader.timeout = _no_timeout
    mp = math_verify.parser
    mp.parse_latex_with_timeout = _guarded(mp.parse_latex_with_timeout)
    mp.parse_expr_with_timeout = _guarded(mp.parse_expr_with_timeout)
    _BUDGETED = True


def _within_budget(seconds: float, func, *args, **kwargs):
    """``func(...)``, raising :class:`OutOfBudget` past ``seconds`` of this process's CPU.

    Callers catch it *around* this call: a signal due just before the timer is disarmed is
    delivered in the ``finally``.
    """
    if not _BUDGETED:
        return func(*args, **kwargs)
    signal.setitimer(signal.ITIMER_PROF, float(seconds))
    try:
        return func(*args, **kwargs)
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)


def _seconds(timeout: float) -> int:
    # Without the budget (in-process use), math-verify's own alarms need whole seconds.
    return max(1, math.ceil(timeout))


def _last_boxed(text: str) -> str | None:
    """The text inside the last ``\\boxed{...}`` (balanced braces), or None."""
    start = text.rfind("\\boxed{")
    if start < 0:
        return None
    i = start + len("\\boxed{")
    depth = 1
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[i:j].strip()
    return None


@functools.lru_cache(maxsize=8192)
def _gold_text(gold: str) -> str:
    # The gold as a completion would box it: without $...$ and without its own \boxed{}.
    text = gold.strip().strip("$").strip()
    boxed = _last_boxed(text)
    return boxed if boxed is not None and text.startswith("\\boxed{") else text


@functools.lru_cache(maxsize=8192)
def parse_gold(gold: str, timeout: float = 5.0) -> tuple[tuple, str | None]:
    """The parsed gold (empty when unparseable) and its status; cached, timeouts included,
    since a group shares its gold."""
    global _guard_hit
    _guard_hit = False
    try:
        parsed = _within_budget(
            timeout, parse, gold, extraction_mode="first_match", parsing_timeout=_seconds(timeout)
        )
    except OutOfBudget:
        return (), TIMEOUT
    return tuple(parsed), (TOO_COMPLEX if _guard_hit and not parsed else None)


# Completions of one prompt mostly reach the same few answers: verify each pair once.
# Only finished verdicts are kept; one cut by the budget is never remembered.
_VERIFIED: dict[tuple[str, str], float] = {}
_VERIFIED_MAX = 65536


def _verify(gold: str, gold_parsed: tuple, answer: list, timeout: float) -> float:
    # The extracted text (math-verify's last element) determines the parsed answer.
    key = (gold, str(answer[-1]))
    if key not in _VERIFIED:
        try:
            result = float(verify(list(gold_parsed), answer, timeout_seconds=_seconds(timeout)))
        except Exception:  # math-verify raises on some exotic sympy objects: a wrong answer
            result = 0.0
        if len(_VERIFIED) >= _VERIFIED_MAX:
            _VERIFIED.clear()
        _VERIFIED[key] = result
    return _VERIFIED[key]


def _parse_and_verify(completion: str, gold: str, gold_parsed: tuple, timeout: float) -> float:
    answer = parse(
        completion,
        extraction_config=ANSWER_EXTRACTION,
        extraction_mode="first_match",
        parsing_timeout=_seconds(timeout),
    )
    if not answer:
        return 0.0
    return _verify(gold, gold_parsed, answer, timeout)


def judge(completion: str, gold: str, timeout: float = 5.0) -> tuple[float | None, str | None]:
    """``(score, status)``: the score as :func:`score_one`, and how it was reached: None
    (in full), ``"timeout"`` (the CPU budget ran out: 0.0, or None for a gold) or
    ``"too_complex"`` (an expression past the size guards)."""
    global _guard_hit
    gold_parsed, gold_status = parse_gold(gold, timeout)
    if not gold_parsed:
        return None, gold_status
    boxed = _last_boxed(completion)
    if boxed is not None and boxed == _gold_text(gold):
        return 1.0, None
    _guard_hit = False
    try:
        score = _within_budget(timeout, _parse_and_verify, completion, gold, gold_parsed, timeout)
    except OutOfBudget:
        return 0.0, TIMEOUT
    return score, (TOO_COMPLEX if _guard_hit else None)


def score_one(completion: str, gold: str, timeout: float = 5.0) -> float | None:
    """1.0 if ``completion``'s final answer equals ``gold``, 0.0 if not, None if the gold
    cannot be parsed. ``timeout``: CPU seconds for the answer's parse and verify together.

    >>> score_one("so the answer is $\\\\boxed{\\\\frac{1}{2}}$", "$0.5$")
    1.0
    >>> score_one("\\\\boxed{3}", "\\\\boxed{12}")
    0.0
    >>> score_one("no answer here", "12")
    0.0
    >>> score_one("\\\\boxed{12}", "not a number at all") is None
    True
    """
    return judge(completion, gold, timeout)[0]
