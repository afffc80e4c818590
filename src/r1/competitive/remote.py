"""The remote judges open-r1 supports, behind the sandbox :class:`~r1.sandbox.base.Provider`
interface: Piston (Codeforces and IOI) and Morph Cloud (IOI).

Both take one request per test, in open-r1's format, so a Piston server set up with
open-r1's ``cf``/``cms_ioi`` packages, or a Morph snapshot set up by open-r1's client
(digest ``ioi-evaluation-morph``), judges exactly as it does for open-r1. The requests are
built and the answers read here; only :meth:`PistonProvider.post` and
:meth:`MorphProvider.exec_files` touch the network. A request that fails after its retries
gives the whole sample no verdict (None), never a zero.
"""

from __future__ import annotations

import json
import logging
import os
import random
import shlex
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

from r1.sandbox.base import SandboxUnavailable, TestResult
from r1.sandbox.schema import Problem, TestCase

logger = logging.getLogger(__name__)

Kind = Literal["cf", "ioi"]


# -- requests and answers, in open-r1's format -----------------------------------------------
def cf_request(problem: Problem, test: TestCase) -> dict[str, Any]:
    """The Piston request for one Codeforces test (open-r1's ``cf`` package).

    >>> p = Problem("print(1)", "python", (), time_limit=2.0, memory_mb=256)
    >>> r = cf_request(p, TestCase("stdin_stdout", "x", "1"))
    >>> r["language"], [f["name"] for f in r["files"]], r["run_timeout"]
    ('cf_python3', ['main.python', 'input.txt', 'correct_output.txt', 'grader_config'], 5000)
    """
    files = [{"name": f"main.{problem.language}", "content": problem.code}]
    if problem.checker is not None:
        files.append({"name": "checker.py", "content": problem.checker.source})
    files += [
        {"name": "input.txt", "content": test.input},
        {"name": "correct_output.txt", "content": test.output},
        {
            "name": "grader_config",
            "content": f"TIME_LIMIT={_number(problem.time_limit)}\n"
            f"MEMORY_LIMIT={problem.memory_mb}\nINPUT_MODE={problem.input_mode}",
        },
    ]
    return {
        "language": "cf_python3" if problem.language == "python" else "c++17",
        "version": "*",
        "files": files,
        # A hard stop 3 s past the limit; the package itself judges the time limit.
        "run_timeout": round(((problem.time_limit or 0) + 3) * 1000),
    }


def ioi_request(problem: Problem, test: TestCase) -> dict[str, Any]:
    """The Piston/Morph request for one IOI test (open-r1's ``cms_ioi`` package)."""
    files = [{"name": problem.source_name or "graders/solution.cpp", "content": problem.code}]
    files += [
        {"name": "input.txt", "content": test.input},
        {"name": "correct_output.txt", "content": test.output},
    ]
    files += [{"name": n, "content": c} for n, c in problem.files]
    if problem.checker is not None:
        files.append({"name": "checker/checker.cpp", "content": problem.checker.source})
        files += [{"name": f"checker/{n}", "content": c} for n, c in problem.checker.files]
    return {
        "language": "cms_ioi",
        "version": "*",
        "files": files,
        "run_timeout": round(((problem.time_limit or 0) + 3) * 1000),
        "run_memory_limit": problem.memory_mb,
    }


def _number(value: float | None) -> str:
    return f"{value:g}" if value is not None else "0"


def _run_part(answer: dict[str, Any]) -> dict[str, Any] | TestResult:
    """The ``run`` part of a Piston answer, or the compile error that stopped it; an error
    of the service itself (a ``message``, no run) raises, so that the request is retried."""
    if "message" in answer:
        raise RuntimeError(f"piston: {answer['message']}")
    compiled = answer.get("compile") or {}
    if compiled.get("code") not in (None, 0):
        return TestResult("compile_error", detail=str(compiled.get("stderr", ""))[:2000])
    run = answer.get("run")
    if run is None:
        raise RuntimeError(f"piston answer without a run: {str(answer)[:200]}")
    return run


def cf_result(answer: dict[str, Any]) -> TestResult:
    """A Codeforces verdict from the ``cf`` package's answer: it prints 1 for a pass.

    >>> cf_result({"run": {"code": 0, "stdout": "1\\n", "signal": None}}).status
    'passed'
    >>> cf_result({"compile": {"code": 1, "stderr": "error: x"}, "run": {}}).status
    'compile_error'
    """
    run = _run_part(answer)
    if isinstance(run, TestResult):
        return run
    if run.get("code") == 0 and str(run.get("stdout", "")).strip() == "1":
        return TestResult("passed")
    if run.get("signal") == "SIGKILL":
        return TestResult("timeout")
    return TestResult("wrong_answer", detail=str(run.get("stderr", ""))[:200])


def ioi_result(answer: dict[str, Any]) -> TestResult:
    """An IOI verdict from the ``cms_ioi`` package's answer: the score is its stdout.

    >>> ioi_result({"run": {"code": 0, "stdout": "0.5\\n", "stderr": "Partially correct"}}).score
    0.5
    >>> ioi_result({"run": {"code": 1, "stdout": "", "stderr": "MemoryError", "signal": None}}).status
    'memory_limit'
    """
    run = _run_part(answer)
    if isinstance(run, TestResult):
        return run
    if run.get("code") == 1 and "MemoryError" in str(run.get("stderr", "")):
        return TestResult("memory_limit")
    if str(run.get("stdout", "")).strip():
        score = float(str(run["stdout"]).split()[0])
        status = "passed" if score >= 1.0 else "wrong_answer"
        return TestResult(status, score=score, detail=str(run.get("stderr", ""))[:200])
    if run.get("signal") == "SIGKILL":
        return TestResult("timeout")
    if run.get("code") not in (None, 0):
        raise RuntimeError(f"the judge failed: {str(run)[:200]}")
    return TestResult("runtime_error")


# -- the providers ---------------------------------------------------------------------------
class _RemoteProvider:
    """One request per test, ``max_concurrency`` at a time; retries with backoff."""

    name = "remote"

    def __init__(self, kind: Kind, max_concurrency: int, max_retries: int) -> None:
        if kind not in ("cf", "ioi"):
            raise ValueError(f"kind must be 'cf' or 'ioi', got {kind!r}")
        self.kind = kind
        self.max_retries = max_retries
        self._pool = ThreadPoolExecutor(max_concurrency, thread_name_prefix=self.name)

    def judge_one(self, problem: Problem, test: TestCase) -> TestResult:
        raise NotImplementedError

    def _with_retries(self, problem: Problem, test: TestCase) -> TestResult | None:
        for attempt in range(self.max_retries + 1):
            try:
                return self.judge_one(problem, test)
            except Exception as e:  # noqa: BLE001 - any failure of the service: retry, then None
                if attempt == self.max_retries:
                    logger.warning("%s: no verdict after %d tries: %s", self.name, attempt + 1, e)
                    return None
                time.sleep(min(30.0, 2**attempt) * (0.5 + random.random()))
        return None

    def run(self, problems: Sequence[Problem]) -> list[list[TestResult] | None]:
        jobs = [[self._pool.submit(self._with_retries, p, t) for t in p.tests] for p in problems]
        results: list[list[TestResult] | None] = []
        for futures in jobs:
            verdicts = [f.result() for f in futures]
            results.append(None if any(v is None for v in verdicts) else verdicts)  # type: ignore[misc]
        return results

    def close(self) -> None:
        self._pool.shutdown(wait=True)


class PistonProvider(_RemoteProvider):
    """Piston servers with open-r1's ``cf`` and ``cms_ioi`` packages.

    ``endpoints``: comma-separated API URLs such as ``http://host:2000/api/v2`` (default: the
    ``PISTON_ENDPOINTS`` environment variable, as in open-r1); requests go to
    ``<endpoint>/execute``, spread over the endpoints at random.
    """

    name = "piston"

    def __init__(
        self,
        kind: Kind = "cf",
        endpoints: str | None = None,
        max_concurrency: int = 32,
        request_timeout: float = 120.0,
        max_retries: int = 3,
    ) -> None:
        super().__init__(kind, max_concurrency, max_retries)
        raw = endpoints if endpoints is not None else os.environ.get("PISTON_ENDPOINTS", "")
        self.endpoints = [e.strip().rstrip("/") for e in raw.split(",") if e.strip()]
        self.request_timeout = request_timeout

    def check(self) -> None:
        if not self.endpoints:
            raise SandboxUnavailable(
                "the piston provider needs its servers: set PISTON_ENDPOINTS (comma-separated "
                "URLs) or the reward's 'endpoints' argument"
            )
        bad = [e for e in self.endpoints if not e.startswith(("http://", "https://"))]
        if bad:
            raise SandboxUnavailable(f"piston endpoints must be http(s) URLs, got {bad}")

    def judge_one(self, problem: Problem, test: TestCase) -> TestResult:
        build, read = (cf_request, cf_result) if self.kind == "cf" else (ioi_request, ioi_result)
        endpoint = random.choice(self.endpoints)
        return read(self.post(f"{endpoint}/execute", build(problem, test)))

    def post(self, url: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST ``payload`` as JSON and return the JSON answer (the only network call)."""
        request = urllib.request.Request(
            url,
            data=json.dumps(payload).encode("utf-8"),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=self.request_timeout) as response:
            return json.loads(response.read().decode("utf-8"))


class MorphProvider(_RemoteProvider):
    """Morph Cloud instances from the snapshot open-r1's client prepares (IOI only).

    Needs the ``morphcloud`` package and ``MORPH_API_KEY``. Each test starts an instance of
    the snapshot, uploads the request's files to ``/workspace``, runs ``./compile`` and then
    ``./run`` (the snapshot's own scripts), and reads the score as open-r1 does.
    """

    name = "morph"

    def __init__(
        self,
        kind: Kind = "ioi",
        snapshot: str = "ioi-evaluation-morph",
        max_concurrency: int = 16,
        max_retries: int = 3,
    ) -> None:
        if kind != "ioi":
            raise ValueError("the morph provider judges IOI problems only (as in open-r1)")
        super().__init__(kind, max_concurrency, max_retries)
        self.snapshot = snapshot
        self._client = None

    def check(self) -> None:
        if not os.environ.get("MORPH_API_KEY"):
            raise SandboxUnavailable("the morph provider needs MORPH_API_KEY in the environment")
        try:
            import morphcloud.api  # noqa: F401
        except ImportError as e:
            raise SandboxUnavailable(
                "the morph provider needs the morphcloud package: uv pip install morphcloud"
            ) from e

    def judge_one(self, problem: Problem, test: TestCase) -> TestResult:
        request = ioi_request(problem, test)
        return ioi_result(self.exec_files(request))

    def exec_files(self, request: dict[str, Any]) -> dict[str, Any]:
        """Run one request on a fresh instance; answer in Piston's shape (the network call)."""
        from morphcloud.api import MorphCloudClient

        if self._client is None:
            self._client = MorphCloudClient(api_key=os.environ["MORPH_API_KEY"])
        snapshots = self._client.snapshots.list(digest=self.snapshot)
        if not snapshots:
            raise RuntimeError(f"no Morph snapshot with digest {self.snapshot!r}")
        config = {
            "task_type": "Batch",
            "code": os.path.basename(request["files"][0]["name"]).removesuffix(".cpp"),
            "time_limit": request["run_timeout"] / 1000,
            "memory_limit": (request["run_memory_limit"] or 0) * 1024 * 1024,
        }
        files = [
            *request["files"],
            {"name": "graders/grader_config.json", "content": json.dumps(config)},
        ]
        with (
            tempfile.TemporaryDirectory(prefix="r1-morph-") as local,
            self._client.instances.start(snapshots[0].id, ttl_seconds=600) as instance,
        ):
            instance.wait_until_ready(timeout=300)
            for i, f in enumerate(files):
                remote = f"/workspace/{f['name']}"
                source = os.path.join(local, str(i))
                with open(source, "w", encoding="utf-8") as out:
                    out.write(f["content"])
                instance.exec(f"mkdir -p {shlex.quote(os.path.dirname(remote))}")
                instance.upload(source, remote)
            compiled = instance.exec("cd /workspace && ./compile")
            if compiled.exit_code != 0:
                return {"compile": {"code": compiled.exit_code, "stderr": compiled.stderr}}
            limit = request["run_timeout"] / 1000 + 3
            run = instance.exec(f"cd /workspace && timeout {limit}s ./run")
        killed = run.exit_code in (124, 137, 143)
        return {
            "run": {
                "code": run.exit_code,
                "stdout": "" if killed else run.stdout,
                "stderr": run.stderr,
                "signal": "SIGKILL" if killed else None,
            }
        }
