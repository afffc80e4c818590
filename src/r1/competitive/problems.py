"""Competition problems as dataset rows, turned into sandbox :class:`~r1.sandbox.Problem`.

**Codeforces** rows follow ``open-r1/codeforces`` (config ``verifiable-prompts``):
``official_tests`` (a list of ``{"input", "output"}``), optionally ``generated_tests`` (same
shape; scored together, as open-r1 does), ``time_limit`` (seconds), ``memory_limit`` (MB),
``input_mode`` (``stdio`` or ``file``), ``generated_checker`` (a Python checker, or None),
and ``language`` (``cpp`` or ``python``; the reward's ``language`` argument otherwise).

**IOI** rows follow ``open-r1/ioi``: one row per subtask, with ``id`` (the problem's name,
which its graders include as ``<id>.h``), ``subtask``, ``score`` (points),
``score_precision``, ``test_names``, ``time_limit``, ``memory_limit``, ``grader_files``
(``[name, content]`` pairs: ``graders/grader.cpp``, ``graders/<id>.h``,
``checker/checker.cpp``, ...) and the tests themselves in ``test_cases``: a mapping from
test name to ``[input, output]`` (or ``{"input", "output"}``), or a list in ``test_names``'
order. open-r1 downloads missing tests from the Hub; this project never downloads at run
time, so ``test_cases`` must be in the row.

Every malformed field raises ``ValueError`` naming the field, its value and what is allowed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from r1.sandbox.schema import Checker, Problem, TestCase, canonical_language

INPUT_MODES = ("stdio", "file")


def _field(row: Mapping, name: str, where: str) -> Any:
    if name not in row or row[name] is None:
        raise ValueError(f"{where}: the row has no {name!r}")
    return row[name]


def _positive(row: Mapping, name: str, where: str) -> float:
    value = _field(row, name, where)
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not number > 0:
        raise ValueError(f"{where}: {name} must be a positive number, got {value!r}")
    return number


def _tests(value: Any, name: str, where: str) -> list[TestCase]:
    if isinstance(value, str):
        value = json.loads(value)
    if isinstance(value, Mapping) and set(value) >= {"input", "output"}:
        # Arrow may hand a list of structs over as a struct of lists.
        value = [
            {"input": i, "output": o} for i, o in zip(value["input"], value["output"], strict=True)
        ]
    if not isinstance(value, list):
        raise ValueError(f"{where}: {name} must be a list of {{input, output}}, got {value!r:.80}")
    tests = []
    for i, case in enumerate(value):
        if not isinstance(case, Mapping) or "input" not in case or "output" not in case:
            raise ValueError(f"{where}: {name}[{i}] needs 'input' and 'output', got {case!r:.80}")
        tests.append(TestCase("stdin_stdout", str(case["input"]), str(case["output"])))
    return tests


def codeforces_tests(row: Mapping, where: str = "cf_code") -> list[TestCase]:
    """The row's official tests, then its generated ones (if any)."""
    tests = _tests(_field(row, "official_tests", where), "official_tests", where)
    if row.get("generated_tests") is not None:
        tests += _tests(row["generated_tests"], "generated_tests", where)
    return tests


def submission_language(value: str) -> str:
    """``cpp`` or ``python`` from a language name as datasets spell it (``cpp``, ``C++17``,
    ``GNU C++20``, ``python``, ``Python 3``, ``PyPy 3-64``, ...); ``ValueError`` otherwise.

    >>> submission_language("GNU C++17"), submission_language("PyPy 3-64"), submission_language("cpp")
    ('cpp', 'python', 'cpp')
    """
    name = str(value).strip().lower()
    if "c++" in name or name.startswith(("cpp", "cxx")):
        return "cpp"
    if name.startswith(("python", "pypy", "py")):
        return "python"
    return canonical_language(name)  # raises, naming the known ones


def codeforces_problem(row: Mapping, code: str, language: str, where: str = "cf_code") -> Problem:
    """The sandbox problem judging ``code`` on this Codeforces row.

    >>> row = {"official_tests": [{"input": "1 2", "output": "3"}], "time_limit": 1,
    ...        "memory_limit": 256, "input_mode": "stdio", "generated_checker": None}
    >>> p = codeforces_problem(row, "print(3)", "python")
    >>> p.time_limit, p.memory_mb, p.compare, len(p.tests), p.checker
    (1.0, 256, 'tokens', 1, None)
    """
    tests = codeforces_tests(row, where)
    mode = row.get("input_mode") or "stdio"
    if mode not in INPUT_MODES:
        raise ValueError(f"{where}: input_mode must be one of {INPUT_MODES}, got {mode!r}")
    checker = row.get("generated_checker")
    return Problem(
        code=code,
        language=submission_language(language),
        tests=tuple(tests),
        time_limit=_positive(row, "time_limit", where),
        memory_mb=int(_positive(row, "memory_limit", where)),
        input_mode=mode,
        checker=Checker(str(checker), "python") if checker else None,
        compare="tokens",
    )


def _grader_files(value: Any, where: str) -> list[tuple[str, str]]:
    if isinstance(value, str):
        value = json.loads(value)
    if isinstance(value, Mapping):
        if set(value) == {"name", "content"}:  # Arrow's struct of lists
            value = list(zip(value["name"], value["content"], strict=True))
        else:
            value = list(value.items())
    files = []
    for item in value or []:
        if isinstance(item, Mapping):
            item = (item.get("name"), item.get("content"))
        name, content = item
        if not isinstance(name, str) or ".." in name.split("/") or name.startswith("/"):
            raise ValueError(f"{where}: grader file name {name!r} must be a relative path")
        if content:
            files.append((name, str(content)))
    return files


def ioi_tests(row: Mapping, where: str = "ioi_code") -> list[tuple[str, TestCase]]:
    """``(test name, test)`` for each of the subtask's ``test_names``, in order."""
    names = _field(row, "test_names", where)
    if isinstance(names, str):
        names = json.loads(names)
    cases = _field(row, "test_cases", where)
    if isinstance(cases, str):
        cases = json.loads(cases)
    if isinstance(cases, list):
        if len(cases) != len(names):
            raise ValueError(
                f"{where}: test_cases has {len(cases)} entries for {len(names)} test_names"
            )
        cases = dict(zip(names, cases, strict=True))
    out = []
    for name in names:
        if name not in cases:
            raise ValueError(f"{where}: test {name!r} of test_names is not in test_cases")
        case = cases[name]
        if isinstance(case, Mapping):
            case = (case.get("input"), case.get("output"))
        test_input, test_output = case
        out.append((name, TestCase("stdin_stdout", str(test_input), str(test_output or ""))))
    if not out:
        raise ValueError(f"{where}: test_names is empty")
    return out


def ioi_problem(row: Mapping, code: str, where: str = "ioi_code") -> Problem:
    """The sandbox problem judging ``code`` (C++) on this IOI subtask row.

    The submission becomes ``graders/<id>.cpp`` and is compiled with the grader
    (``graders/grader.cpp``, ``graders/stub.cpp`` where present) with ``-DEVAL``, as CMS
    does; ``checker/checker.cpp`` (when present) gives each test's score, else the output
    is compared token by token.
    """
    problem_id = str(_field(row, "id", where))
    files = _grader_files(row.get("grader_files"), where)
    if any(name.endswith("manager.cpp") for name, _ in files):
        raise ValueError(
            f"{where}: problem {problem_id!r} is a Communication task (it has a manager); "
            "only Batch tasks run here"
        )
    checker = next((c for n, c in files if n == "checker/checker.cpp"), None)
    checker_files = tuple(
        (n.removeprefix("checker/"), c)
        for n, c in files
        if n.startswith("checker/") and n != "checker/checker.cpp"
    )
    graders = tuple(
        (n, c)
        for n, c in files
        if n.startswith("graders/")
        and n != f"graders/{problem_id}.cpp"
        # Only the grader and stub are linked with the submission; other .cpp files
        # (examples, other languages' graders) are not.
        and (not n.endswith(".cpp") or n in ("graders/grader.cpp", "graders/stub.cpp"))
    )
    return Problem(
        code=code,
        language="cpp",
        tests=tuple(t for _, t in ioi_tests(row, where)),
        time_limit=_positive(row, "time_limit", where),
        memory_mb=int(_positive(row, "memory_limit", where)),
        checker=Checker(checker, "cpp", checker_files) if checker else None,
        files=graders,
        source_name=f"graders/{problem_id}.cpp",
        compare="tokens",
        compile_flags=("-DEVAL",),
    )
