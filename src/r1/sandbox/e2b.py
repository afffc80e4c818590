"""The ``e2b`` provider: programs run in E2B's hosted sandboxes (through e2b-code-interpreter).

The API key comes from the ``api_key`` argument (never from params, which land in dvc.lock:
code rewards refuse it), else the ``E2B_API_KEY`` environment variable, else a ``.env`` file (``env_file``, default ``.env`` in the working directory).

Each sample becomes one script (:func:`build_script`) run in a shared E2B sandbox. The
script runs every test in its own subprocess with its own timeout (open-r1 ran them in one
loop whose first timeout killed the script, and so failed every test of the sample), and
prints each run's raw outcome as JSON; judging then happens here, with the very same
:func:`r1.sandbox.base.judge` as the local provider. A failure of E2B itself (network,
quota, sandbox start) gives None for the samples concerned, and is logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from collections.abc import Sequence
from typing import Any

from r1.sandbox.base import Execution, SandboxUnavailable, TestResult, judge
from r1.sandbox.harness import HARNESS_SOURCE
from r1.sandbox.schema import Problem

logger = logging.getLogger(__name__)

RESULT_MARKER = "@@R1_RESULTS@@"

# Runs inside E2B. Placeholders are filled with JSON literals, which are valid Python.
_SCRIPT = r"""
import json, os, subprocess, tempfile
PROBLEM = json.loads(__PROBLEM__)
LIMIT = __MAX_OUTPUT__
d = tempfile.mkdtemp()
for name, text in PROBLEM["files"].items():
    with open(os.path.join(d, name), "w") as f:
        f.write(text)
runs = []
ok = True
if PROBLEM["compile"]:
    try:
        c = subprocess.run(PROBLEM["compile"], cwd=d, capture_output=True, timeout=__COMPILE_TIMEOUT__)
        ok = c.returncode == 0
    except subprocess.TimeoutExpired:
        ok = False
for test in PROBLEM["tests"]:
    if not ok:
        runs.append(["compile_error", None, ""])
        continue
    cmd = [a.replace("{fn}", test["fn_name"] or "") for a in test["cmd"]]
    try:
        p = subprocess.run(cmd, cwd=d, input=test["input"].encode(), capture_output=True,
                           timeout=__TIMEOUT__)
        out = p.stdout
        state = "output_limit" if len(out) > LIMIT else "exited"
        runs.append([state, p.returncode, out[:LIMIT].decode("utf-8", "replace")])
    except subprocess.TimeoutExpired:
        runs.append(["timeout", None, ""])
print(__MARKER__ + json.dumps(runs))
"""


def build_script(
    problem: Problem, timeout: float, max_output_bytes: int, compile_timeout: float = 30.0
) -> str:
    """The Python script that runs ``problem``'s tests inside E2B and prints their outcomes.

    >>> from r1.sandbox.schema import TestCase
    >>> s = build_script(Problem("print(1)", "python", (TestCase("stdin_stdout", "", "1"),)), 5, 100)
    >>> compile(s, "script", "exec") is not None and "@@R1_RESULTS@@" in s
    True
    """
    functional = any(t.kind == "functional" for t in problem.tests)
    if problem.language == "cpp":
        files, build = (
            {"main.cpp": problem.code},
            ["g++", "-std=c++17", "-O2", "-o", "prog", "main.cpp"],
        )
        cmd = ["./prog"]
    elif functional:
        files, build = {"solution.py": problem.code, "harness.py": HARNESS_SOURCE}, None
        cmd = ["python3", "harness.py", "{fn}"]
    else:
        files, build, cmd = {"main.py": problem.code}, None, ["python3", "main.py"]
    payload = {
        "files": files,
        "compile": build,
        "tests": [{"input": t.input, "fn_name": t.fn_name, "cmd": cmd} for t in problem.tests],
    }
    return (
        _SCRIPT.replace("__PROBLEM__", json.dumps(json.dumps(payload)))
        .replace("__MAX_OUTPUT__", str(int(max_output_bytes)))
        .replace("__COMPILE_TIMEOUT__", repr(float(compile_timeout)))
        .replace("__TIMEOUT__", repr(float(timeout)))
        .replace("__MARKER__", json.dumps(RESULT_MARKER))
    )


def parse_script_output(problem: Problem, stdout: str) -> list[TestResult] | None:
    """Judge the tests from the script's printed outcomes; None if they are missing.

    >>> from r1.sandbox.schema import TestCase
    >>> p = Problem("", "python", (TestCase("stdin_stdout", "", "1"), TestCase("stdin_stdout", "", "2")))
    >>> [r.status for r in parse_script_output(p, RESULT_MARKER + '[["exited", 0, "1"], ["timeout", null, ""]]')]
    ['passed', 'timeout']
    """
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT_MARKER):
            runs = json.loads(line[len(RESULT_MARKER) :])
            break
    else:
        return None
    if len(runs) != len(problem.tests):
        return None
    results = []
    for test, (state, returncode, out) in zip(problem.tests, runs, strict=True):
        if state == "compile_error":
            results.append(TestResult("compile_error"))
        else:
            results.append(judge(test, Execution(state, returncode, out)))
    return results


def resolve_api_key(api_key: str | None, env_file: str | None) -> str | None:
    """The key from the option, else ``E2B_API_KEY``, else ``env_file``."""
    if api_key:
        return api_key
    if os.environ.get("E2B_API_KEY"):
        return os.environ["E2B_API_KEY"]
    if env_file and os.path.exists(env_file):
        from dotenv import dotenv_values

        return dotenv_values(env_file).get("E2B_API_KEY") or None
    return None


class E2BSandbox:
    """Run programs against tests in an E2B sandbox (see the module doc).

    Options: ``timeout`` (seconds per test), ``max_output_mb``, ``compile_timeout``,
    ``api_key``, ``env_file``, ``template`` (an E2B template with ``python3``, and ``g++``
    for C++), ``max_concurrency`` (scripts in flight), ``sandbox_timeout`` (the sandbox's
    lifetime, seconds), ``request_timeout`` (per API request, seconds).
    """

    name = "e2b"

    def __init__(
        self,
        timeout: float = 5.0,
        max_output_mb: float = 16.0,
        compile_timeout: float = 30.0,
        api_key: str | None = None,
        env_file: str | None = ".env",
        template: str | None = None,
        max_concurrency: int = 32,
        sandbox_timeout: int = 300,
        request_timeout: float = 30.0,
    ) -> None:
        self.timeout = timeout
        self.max_output_bytes = int(max_output_mb * (1 << 20))
        self.compile_timeout = compile_timeout
        self.api_key = resolve_api_key(api_key, env_file)
        self.template = template
        self.max_concurrency = max_concurrency
        self.sandbox_timeout = sandbox_timeout
        self.request_timeout = request_timeout

    def check(self) -> None:
        """Raise ``SandboxUnavailable`` without the client library or an API key (no network use)."""
        try:
            import e2b_code_interpreter  # noqa: F401
        except ImportError as e:
            raise SandboxUnavailable(
                "provider 'e2b' needs e2b-code-interpreter: install the 'code' extra"
            ) from e
        if not self.api_key:
            raise SandboxUnavailable(
                "provider 'e2b' needs an API key: set E2B_API_KEY in the "
                "environment or in a .env file"
            )

    def close(self) -> None:
        pass

    def run(self, problems: Sequence[Problem]) -> list[list[TestResult] | None]:
        if not problems:
            return []
        scripts = [
            build_script(p, self.timeout, self.max_output_bytes, self.compile_timeout)
            for p in problems
        ]
        outputs = _run_coroutine(self._run_all(scripts, [len(p.tests) for p in problems]))
        return [
            None if out is None else parse_script_output(p, out)
            for p, out in zip(problems, outputs, strict=True)
        ]

    async def _run_all(self, scripts: list[str], n_tests: list[int]) -> list[str | None]:
        from e2b_code_interpreter import AsyncSandbox

        try:
            sbx = await AsyncSandbox.create(
                template=self.template,
                timeout=self.sandbox_timeout,
                api_key=self.api_key,
                request_timeout=self.request_timeout,
            )
        except Exception as e:
            logger.warning(
                "e2b: cannot create a sandbox (%s: %s); %d samples get None",
                type(e).__name__,
                e,
                len(scripts),
            )
            return [None] * len(scripts)
        gate = asyncio.Semaphore(self.max_concurrency)

        async def one(script: str, n: int) -> str | None:
            async with gate:
                try:
                    ex = await sbx.run_code(
                        script,
                        language="python",
                        timeout=self.compile_timeout + n * (self.timeout + 1) + 30,
                        request_timeout=self.request_timeout,
                    )
                except Exception as e:
                    logger.warning(
                        "e2b: run failed (%s: %s); sample gets None", type(e).__name__, e
                    )
                    return None
                if ex.error is not None:
                    logger.warning("e2b: script error %s: %s", ex.error.name, ex.error.value)
                    return None
                return "".join(ex.logs.stdout)

        try:
            return await asyncio.gather(*(one(s, n) for s, n in zip(scripts, n_tests, strict=True)))
        finally:
            try:
                await sbx.kill()
            except Exception as e:
                logger.warning("e2b: could not kill the sandbox: %s", e)


def _run_coroutine(coro) -> Any:
    """Run ``coro`` to completion from sync code, even if this thread already runs a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as e:
            box["error"] = e

    t = threading.Thread(target=target)
    t.start()
    t.join()
    if "error" in box:
        raise box["error"]
    return box["value"]
