"""What every sandbox provider returns, and the judging shared by all of them."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from r1.sandbox.schema import Problem, TestCase, functional_match, outputs_match, tokens_match

logger = logging.getLogger(__name__)

Status = Literal[
    "passed",
    "wrong_answer",
    "runtime_error",
    "timeout",
    "memory_limit",
    "output_limit",
    "compile_error",
]


class SandboxUnavailable(RuntimeError):
    """The provider cannot run at all here (no bwrap, no API key, ...): raised at build time."""


@dataclass(frozen=True)
class TestResult:
    """The verdict on one test. Only ``"passed"`` counts as a pass.

    ``score``: the credit in [0, 1] (a checker may give partial credit, IOI-style; otherwise
    1.0 for a pass, 0.0 for anything else). ``detail``: why, for the log (compiler errors).
    """

    __test__ = False  # not a pytest test class, despite its name

    status: Status
    seconds: float = 0.0
    score: float | None = None
    detail: str = ""

    def __post_init__(self) -> None:
        if self.score is None:
            object.__setattr__(self, "score", 1.0 if self.status == "passed" else 0.0)

    @property
    def passed(self) -> bool:
        return self.status == "passed"


@dataclass(frozen=True)
class Execution:
    """How one run of a program ended, before judging.

    ``state``: ``"exited"`` (ran to its end, with ``returncode``), ``"timeout"``,
    ``"memory_limit"``, ``"output_limit"`` or ``"sandbox_error"`` (the sandbox itself
    failed: no verdict). ``cpu_seconds``: user + system time of every process of the run.
    """

    state: Literal["exited", "timeout", "memory_limit", "output_limit", "sandbox_error"]
    returncode: int | None = None
    stdout: str = ""
    seconds: float = 0.0
    detail: str = ""
    cpu_seconds: float = 0.0


def judge(test: TestCase, run: Execution, compare: str = "lines") -> TestResult | None:
    """The verdict for ``test`` from its ``run``; None for a sandbox error. ``compare``:
    ``lines`` or ``tokens`` (see :class:`r1.sandbox.schema.Problem`).

    >>> judge(TestCase("stdin_stdout", "", "3\\n"), Execution("exited", 0, "3")).status
    'passed'
    >>> judge(TestCase("stdin_stdout", "", "3\\n"), Execution("exited", 1, "3")).status
    'runtime_error'
    >>> judge(TestCase("stdin_stdout", "", "3\\n"), Execution("sandbox_error")) is None
    True
    """
    if run.state == "sandbox_error":
        return None
    if run.state != "exited":
        return TestResult(run.state, run.seconds)
    if run.returncode != 0:
        return TestResult("runtime_error", run.seconds)
    if test.kind == "functional":
        ok = functional_match(test.output, run.stdout)
    elif compare == "tokens":
        ok = tokens_match(test.output, run.stdout)
    else:
        ok = outputs_match(test.output, run.stdout)
    return TestResult("passed" if ok else "wrong_answer", run.seconds)


def pass_fraction(results: Sequence[TestResult] | None) -> float | None:
    """Fraction of tests passed; None stays None (no signal).

    >>> pass_fraction([TestResult("passed"), TestResult("timeout")]), pass_fraction(None)
    (0.5, None)
    """
    if results is None:
        return None
    if not results:
        return 0.0
    return sum(r.passed for r in results) / len(results)


class Provider(Protocol):
    """A place to run untrusted programs against their tests."""

    name: str

    def check(self) -> None:
        """Raise ``SandboxUnavailable`` if this provider cannot work here."""

    def run(self, problems: Sequence[Problem]) -> list[list[TestResult] | None]:
        """Per problem, the verdict of each test in order, or None on a sandbox error."""

    def close(self) -> None:
        """Release pools and temporary files."""


def score(provider: Provider, problems: Sequence[Problem]) -> list[float | None]:
    """Per problem, the fraction of tests passed (None on a sandbox error, logged)."""
    results = provider.run(problems)
    errors = sum(r is None for r in results)
    if errors:
        logger.warning(
            "sandbox %s: %d of %d samples got no verdict (sandbox error)",
            provider.name,
            errors,
            len(results),
        )
    return [pass_fraction(r) for r in results]
