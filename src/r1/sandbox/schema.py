"""Test-case schema for the code rewards, and how a program's output is judged.

A sample's tests arrive as the dataset column ``verification_info``, in open-r1's schema,
extended with LiveCodeBench's call-based ("functional") tests::

    {"language": "python",            # or "cpp" (also accepted: "c++", "python3")
     "test_cases": [
        {"type": "stdin_stdout", "input": "1 2\\n", "output": "3\\n"},
        {"type": "functional", "fn_name": "twoSum",
         "input": "[2, 7, 11, 15]\\n9",   # one JSON value per line = one positional argument
         "output": "[0, 1]"},             # the JSON of the expected return value
     ]}

``stdin_stdout``: ``input`` is fed to stdin; stdout is compared with ``output`` by
:func:`outputs_match` (line by line, trailing whitespace ignored, line counts must agree).

``functional`` (LiveCodeBench's format, Python only): the program defines either
``class Solution`` with a method ``fn_name`` (LeetCode style) or a top-level function
``fn_name``. ``input`` is a string holding one JSON value per line, each one positional
argument (exactly LiveCodeBench's encoding); a JSON list is also accepted and taken as the
argument list itself. ``output`` is the JSON text of the expected return value (an already
decoded value is accepted too). The return value is passed through JSON (so tuples compare
equal to lists, as in LiveCodeBench) and compared for equality.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

LANGUAGE_ALIASES = {
    "python": "python",
    "python3": "python",
    "py": "python",
    "cpp": "cpp",
    "c++": "cpp",
    "cxx": "cpp",
}


@dataclass(frozen=True)
class TestCase:
    """One test. ``kind`` is ``"stdin_stdout"`` or ``"functional"``; see the module doc."""

    __test__ = False  # not a pytest test class, despite its name

    kind: Literal["stdin_stdout", "functional"]
    input: str
    output: Any
    fn_name: str | None = None


@dataclass(frozen=True)
class Checker:
    """A problem's own judge of an answer, for problems with several right answers.

    It runs in the sandbox as ``checker input.txt correct_output.txt solution_output.txt``
    (Codeforces' and CMS's argument order) and prints its verdict as the first token of its
    stdout: a number, 1 for right, 0 for wrong, a fraction for partial credit (IOI), or
    ``ok``/``yes``/``AC``. A non-zero exit status or anything else is a wrong answer.
    ``language``: ``python`` (open-r1/codeforces' ``generated_checker``) or ``cpp`` (a
    testlib/CMS checker, compiled once and cached like submissions).
    """

    source: str
    language: str = "python"
    files: tuple[tuple[str, str], ...] = ()  # beside it, e.g. testlib.h


@dataclass(frozen=True)
class Problem:
    """A program to judge: its source, its language (canonical name) and its tests.

    The optional fields carry a judge's settings (Codeforces, IOI); left at their defaults,
    the provider's own limits apply and stdout is compared with :func:`outputs_match`.

    time_limit: CPU seconds per test (user + system, every process of the test); more is a
        ``timeout``. The wall-clock kill then comes at ``2 * time_limit + 1`` seconds.
    memory_mb: memory per test, for the whole sandbox where cgroups allow.
    input_mode: ``stdio``, or ``file`` (the program reads ``input.txt`` and writes
        ``output.txt`` in its working directory, as some Codeforces problems require).
    checker: see :class:`Checker`.
    files: extra ``(path, text)`` files beside the submission (IOI graders and headers); C++
        ``.cpp`` files among them are compiled and linked with it.
    source_name: the submission's file name (IOI graders include it by name).
    compare: how stdout is judged without a checker: ``lines`` (:func:`outputs_match`) or
        ``tokens`` (:func:`tokens_match`, Codeforces' and CMS's default checkers).
    compile_flags: extra C++ flags (IOI compiles with ``-DEVAL``).
    """

    code: str
    language: str
    tests: tuple[TestCase, ...]
    time_limit: float | None = None
    memory_mb: int | None = None
    input_mode: Literal["stdio", "file"] = "stdio"
    checker: Checker | None = None
    files: tuple[tuple[str, str], ...] = ()
    source_name: str | None = None
    compare: Literal["lines", "tokens"] = "lines"
    compile_flags: tuple[str, ...] = ()


def canonical_language(language: str) -> str:
    """Map a language name to ``"python"`` or ``"cpp"``; raise ``ValueError`` otherwise.

    >>> canonical_language("C++"), canonical_language("python3")
    ('cpp', 'python')
    """
    try:
        return LANGUAGE_ALIASES[str(language).strip().lower()]
    except KeyError:
        raise ValueError(
            f"unsupported language {language!r}; known: {sorted(LANGUAGE_ALIASES)}"
        ) from None


def parse_verification_info(info: dict | str) -> tuple[str, tuple[TestCase, ...]]:
    """Parse a ``verification_info`` value (a dict or its JSON text) into (language, tests).

    Raises ``ValueError`` on a malformed value, naming what is wrong.

    >>> lang, tests = parse_verification_info({"language": "python", "test_cases": [
    ...     {"type": "stdin_stdout", "input": "1", "output": "1"},
    ...     {"type": "functional", "fn_name": "f", "input": "1\\n2", "output": "3"}]})
    >>> lang, [t.kind for t in tests], tests[1].fn_name
    ('python', ['stdin_stdout', 'functional'], 'f')
    """
    if isinstance(info, str):
        info = json.loads(info)
    if not isinstance(info, dict):
        raise ValueError(f"verification_info must be a dict, got {type(info).__name__}")
    language = canonical_language(info.get("language", "python"))
    raw_cases = info.get("test_cases")
    if isinstance(raw_cases, str):  # some datasets store the list as JSON text
        raw_cases = json.loads(raw_cases)
    if not isinstance(raw_cases, list) or not raw_cases:
        raise ValueError("verification_info.test_cases must be a non-empty list")
    tests = []
    for i, case in enumerate(raw_cases):
        kind = case.get("type", "stdin_stdout")
        if kind not in ("stdin_stdout", "functional"):
            raise ValueError(f"test_cases[{i}]: unknown type {kind!r}")
        if "input" not in case or "output" not in case:
            raise ValueError(f"test_cases[{i}]: needs 'input' and 'output'")
        if kind == "functional":
            if language != "python":
                raise ValueError(f"test_cases[{i}]: functional tests need Python, not {language}")
            if not case.get("fn_name"):
                raise ValueError(f"test_cases[{i}]: functional test needs 'fn_name'")
            tests.append(
                TestCase(
                    "functional",
                    _functional_input(case["input"]),
                    _functional_output(case["output"]),
                    str(case["fn_name"]),
                )
            )
        else:
            tests.append(TestCase("stdin_stdout", str(case["input"]), str(case["output"])))
    return language, tuple(tests)


def _functional_input(value: Any) -> str:
    # The harness always receives LiveCodeBench's encoding: one JSON value per line.
    if isinstance(value, list):
        return "\n".join(json.dumps(v) for v in value)
    return str(value)


def _functional_output(value: Any) -> Any:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as e:
            raise ValueError(f"functional output is not JSON: {value[:80]!r}") from e
    # Round-trip so that tuples in an already-decoded value compare like the program's JSON.
    return json.loads(json.dumps(value))


def outputs_match(expected: str, actual: str) -> bool:
    """Judge a stdin/stdout test: equal line by line after stripping trailing whitespace.

    Trailing blank lines are ignored; any other missing or extra line fails (open-r1 zipped
    the two line lists, so a program printing nothing, or only the first line, passed).

    >>> outputs_match("1\\n2\\n", "1  \\n2")
    True
    >>> outputs_match("1\\n2\\n", "1\\n")          # a missing line
    False
    >>> outputs_match("1\\n", "1\\n2\\n")          # an extra line
    False
    >>> outputs_match("1 2\\n", " 1 2")           # leading space is significant
    False
    """
    exp = [line.rstrip() for line in expected.rstrip().splitlines()]
    act = [line.rstrip() for line in actual.rstrip().splitlines()]
    return exp == act


def tokens_match(expected: str, actual: str) -> bool:
    """Judge by whitespace-separated tokens, as Codeforces' default checker (testlib's
    ``wcmp``) and CMS's white-diff do: spacing and line breaks do not matter.

    >>> tokens_match("1 2\\n3\\n", "1  2 3"), tokens_match("1 2\\n", "1 2 0")
    (True, False)
    """
    return expected.split() == actual.split()


def functional_match(expected: Any, actual_stdout: str) -> bool:
    """Judge a functional test from the harness's stdout (one JSON line holding the result).

    >>> functional_match([0, 1], '[0, 1]\\n'), functional_match(3, '3.5'), functional_match(1, 'junk')
    (True, False, False)
    """
    try:
        value = json.loads(actual_stdout)
    except (json.JSONDecodeError, ValueError):
        return False
    # Plain equality after the JSON round trip, as LiveCodeBench's own checker does.
    return value == expected
