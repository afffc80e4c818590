"""The ``local`` provider: untrusted programs run under bubblewrap on this machine.

Every test is one fresh sandbox (see :mod:`r1.sandbox.bwrap` for what is visible inside).
Isolation, in layers:

- namespaces (bwrap ``--unshare-all``): no network, own PID/IPC/UTS/user namespaces, an
  empty root holding read-only system software, a private size-limited ``/tmp``;
- an unprivileged user: when we run as root, each concurrent sandbox runs under its own
  otherwise unused uid (from a random high range), so ``RLIMIT_NPROC`` cannot be bypassed
  (the kernel exempts uid 0 from it) and sandboxes cannot signal or read each other;
- rlimits (``prlimit`` inside): address space, CPU seconds, processes, file size (which caps
  stdout, since stdout is a file), open files, no core dumps;
- a wall-clock timeout per test; on expiry the sandbox's PID 1 is SIGKILLed, which ends its
  PID namespace and every process in it (``--die-with-parent`` covers our own death). A
  normal exit of the program also ends the namespace, so background processes never
  outlive a test.

A failure of the sandbox itself (bwrap could not set up) is detected through bwrap's
``--json-status-fd`` (which the program cannot write to) and gives no verdict (None),
so a program cannot fake one to dodge a zero.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import random
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from r1.sandbox import bwrap as bw
from r1.sandbox.base import Execution, SandboxUnavailable, TestResult, judge
from r1.sandbox.harness import HARNESS_SOURCE
from r1.sandbox.limits import COMPILE_LIMITS, Limits
from r1.sandbox.schema import Problem, TestCase

logger = logging.getLogger(__name__)

SIGXFSZ_EXIT = 128 + signal.SIGXFSZ  # bwrap reports a signal death as 128 + signal


def default_workers() -> int:
    """Concurrent sandboxes: twice the usable CPUs, since each spends part of its life
    waiting on namespace setup and process start rather than computing."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    return max(2, 2 * cpus)


class _UidPool:
    """Unprivileged uids, one per concurrent sandbox, when we run as root (else None).

    A random base makes two pools (two trainer ranks, say) very unlikely to share a uid.
    """

    def __init__(self, size: int) -> None:
        self._q: queue.Queue[int | None] = queue.Queue()
        if os.geteuid() == 0:
            base = random.SystemRandom().randrange(1 << 24, 1 << 30)
            for i in range(size):
                self._q.put(base + i)
        else:
            for _ in range(size):
                self._q.put(None)

    @contextlib.contextmanager
    def lease(self) -> Iterator[int | None]:
        uid = self._q.get()
        try:
            yield uid
        finally:
            self._q.put(uid)


class LocalSandbox:
    """Run programs against tests in bubblewrap sandboxes, many at a time.

    Options (all are ``reward_kwargs`` of the code rewards): ``timeout`` (wall seconds per
    test), ``memory_mb``, ``max_processes``, ``max_output_mb``, ``tmp_mb``, ``max_workers``
    (default: twice the CPUs), ``python`` (interpreter inside the sandbox; default
    ``/usr/bin/python3``, else this interpreter), ``cxx`` (C++ compiler, default ``g++``),
    ``cxx_flags``, ``compile_timeout``.
    """

    name = "local"

    def __init__(
        self,
        timeout: float = 5.0,
        memory_mb: int = 1024,
        max_processes: int = 32,
        max_output_mb: float = 16.0,
        tmp_mb: int = 64,
        max_workers: int | None = None,
        python: str | None = None,
        cxx: str = "g++",
        cxx_flags: str = "-std=c++17 -O2 -pipe",
        compile_timeout: float = 30.0,
    ) -> None:
        self.limits = Limits(
            timeout=timeout,
            memory_mb=memory_mb,
            max_processes=max_processes,
            max_output_bytes=int(max_output_mb * (1 << 20)),
            tmp_mb=tmp_mb,
        )
        self.compile_limits = COMPILE_LIMITS.with_(timeout=compile_timeout)
        self.max_workers = max_workers or default_workers()
        self.python = python or (
            "/usr/bin/python3"
            if os.path.exists("/usr/bin/python3")
            else os.path.realpath(shutil.which("python3") or "python3")
        )
        self.cxx = cxx
        self.cxx_flags = cxx_flags.split()
        self._bwrap = bw.find_bwrap()
        self._pool: ThreadPoolExecutor | None = None
        self._uids = _UidPool(self.max_workers)
        self._root: Path | None = None
        self._lock = threading.Lock()

    # -- set-up -------------------------------------------------------------------------
    def _ensure_started(self) -> None:
        with self._lock:
            if self._pool is None:
                if self._bwrap is None:
                    raise SandboxUnavailable(
                        "the local sandbox needs bubblewrap: `apt-get install bubblewrap`"
                    )
                # Traversable (not listable) by the sandbox uids, which must reach /prog dirs.
                self._root = Path(tempfile.mkdtemp(prefix="r1-sandbox-"))
                self._root.chmod(0o711)
                self._pool = ThreadPoolExecutor(self.max_workers, thread_name_prefix="sandbox")

    def check(self) -> None:
        """Run a trivial program; raise ``SandboxUnavailable`` with bwrap's reason if it fails."""
        self._ensure_started()
        with self._program({"main.py": "print(6 * 7)\n"}) as prog:
            run = self._execute(prog, [self.python, "-I", "/prog/main.py"], "", self.limits)
        if run.state != "exited" or run.returncode != 0 or run.stdout.strip() != "42":
            raise SandboxUnavailable(
                f"the local sandbox does not work here: {run}. It needs bubblewrap with user "
                f"namespaces, and an interpreter the sandbox user can read (python={self.python!r}; "
                "set the 'python' option, e.g. /usr/bin/python3)"
            )

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None
            if self._root is not None:
                shutil.rmtree(self._root, ignore_errors=True)
                self._root = None

    def __enter__(self) -> LocalSandbox:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- running --------------------------------------------------------------------------
    def run(self, problems: Sequence[Problem]) -> list[list[TestResult] | None]:
        """Run every test of every problem (concurrently); see :class:`Provider`."""
        self._ensure_started()
        assert self._pool is not None
        with contextlib.ExitStack() as stack:
            progs = [stack.enter_context(self._program(self._files(p))) for p in problems]
            # Phase 1: compile what needs compiling, all at once.
            compiled = list(self._pool.map(self._compile, problems, progs))
            # Phase 2: every test of every problem that compiled, all at once.
            jobs = []
            for i, (problem, prog, ok) in enumerate(zip(problems, progs, compiled, strict=True)):
                if ok:
                    for test in problem.tests:
                        jobs.append(
                            (i, test, self._pool.submit(self._run_test, problem, prog, test))
                        )
            verdicts: list[list[TestResult | None]] = [[] for _ in problems]
            for i, _test, fut in jobs:
                verdicts[i].append(fut.result())
        results: list[list[TestResult] | None] = []
        for problem, ok, v in zip(problems, compiled, verdicts, strict=True):
            if ok is None or any(r is None for r in v):
                results.append(None)  # the sandbox failed: no verdict for this sample
            elif ok is False:
                results.append([TestResult("compile_error")] * len(problem.tests))
            else:
                results.append(v)  # type: ignore[arg-type]
        return results

    def _files(self, problem: Problem) -> dict[str, str]:
        if problem.language == "cpp":
            return {"main.cpp": problem.code}
        files = {"main.py": problem.code}
        if any(t.kind == "functional" for t in problem.tests):
            files = {"solution.py": problem.code, "harness.py": HARNESS_SOURCE}
        return files

    def _compile(self, problem: Problem, prog: Path) -> bool | None:
        """True if ready to run; False on a compile error; None on a sandbox error."""
        if problem.language != "cpp":
            return True
        if shutil.which(self.cxx) is None:
            # No compiler here: we cannot judge C++ at all, which is not the program's fault.
            logger.warning("no C++ compiler %r here: C++ samples get no verdict", self.cxx)
            return None
        cmd = [self.cxx, *self.cxx_flags, "-o", f"{bw.PROG_DIR}/prog", f"{bw.PROG_DIR}/main.cpp"]
        run = self._execute(prog, cmd, "", self.compile_limits, prog_writable=True)
        if run.state == "sandbox_error":
            return None
        ok = run.state == "exited" and run.returncode == 0 and (prog / "prog").exists()
        if not ok:
            logger.debug("compile failed: %s", run.detail[:500])
        return ok

    def _run_test(self, problem: Problem, prog: Path, test: TestCase) -> TestResult | None:
        if problem.language == "cpp":
            cmd = [f"{bw.PROG_DIR}/prog"]
        elif test.kind == "functional":
            cmd = [self.python, "-I", f"{bw.PROG_DIR}/harness.py", test.fn_name or ""]
        else:
            cmd = [self.python, "-I", f"{bw.PROG_DIR}/main.py"]
        return judge(test, self._execute(prog, cmd, test.input, self.limits))

    @contextlib.contextmanager
    def _program(self, files: dict[str, str]) -> Iterator[Path]:
        """A host directory holding the program's files, later bound read-only at /prog."""
        assert self._root is not None
        prog = Path(tempfile.mkdtemp(prefix="prog-", dir=self._root))
        try:
            prog.chmod(0o755)
            for name, text in files.items():
                (prog / name).write_text(text, encoding="utf-8")
                (prog / name).chmod(0o644)
            yield prog
        finally:
            shutil.rmtree(prog, ignore_errors=True)

    def _execute(
        self,
        prog: Path,
        command: list[str],
        stdin: str,
        limits: Limits,
        prog_writable: bool = False,
    ) -> Execution:
        """Run ``command`` once in a fresh sandbox; never raises for the program's sake."""
        assert self._root is not None and self._bwrap is not None
        io_dir = Path(tempfile.mkdtemp(prefix="io-", dir=self._root))  # host-only, never bound
        status_r, status_w = os.pipe()
        start = time.monotonic()
        try:
            with self._uids.lease() as uid, contextlib.ExitStack() as stack:
                (io_dir / "stdin").write_bytes(stdin.encode("utf-8"))
                fin = stack.enter_context(open(io_dir / "stdin", "rb"))
                fout = stack.enter_context(open(io_dir / "stdout", "w+b"))
                ferr = stack.enter_context(open(io_dir / "stderr", "w+b"))
                if uid is not None and prog_writable:
                    os.chown(prog, uid, uid)
                argv = bw.bwrap_argv(
                    self._bwrap,
                    command,
                    limits,
                    prog,
                    prog_writable=prog_writable,
                    extra_mounts=bw.interpreter_mounts(self.python),
                    status_fd=status_w,
                    disable_userns=bw.supports(self._bwrap, "--disable-userns"),
                )
                user_kw = {} if uid is None else {"user": uid, "group": uid, "extra_groups": []}
                try:
                    proc = subprocess.Popen(
                        argv,
                        stdin=fin,
                        stdout=fout,
                        stderr=ferr,
                        env=dict(bw.SANDBOX_ENV),
                        pass_fds=(status_w,),
                        process_group=0,
                        **user_kw,
                    )
                except OSError as e:
                    return Execution("sandbox_error", detail=f"cannot start bwrap: {e}")
                finally:
                    os.close(status_w)
                    status_w = -1
                timed_out = False
                status_seen: list[bytes] = []
                try:
                    proc.wait(timeout=limits.timeout)
                except subprocess.TimeoutExpired:
                    timed_out = True
                    _kill_sandbox(proc, status_r, status_seen)
                elapsed = time.monotonic() - start
                started = _child_pid(status_r, status_seen) is not None
                fout.seek(0)
                stdout = fout.read(limits.max_output_bytes + 1)
                ferr.seek(0)
                stderr = ferr.read(4096).decode("utf-8", "replace")
        finally:
            if status_w >= 0:
                os.close(status_w)
            os.close(status_r)
            shutil.rmtree(io_dir, ignore_errors=True)
        if not started:
            logger.warning("sandbox error (bwrap did not start the program): %s", stderr.strip())
            return Execution("sandbox_error", seconds=elapsed, detail=stderr)
        if timed_out:
            return Execution("timeout", seconds=elapsed, detail=stderr)
        # FSIZE stops the file at exactly the limit: SIGXFSZ kills C++ programs, while Python
        # ignores the signal and dies of the EFBIG error instead.
        if proc.returncode == SIGXFSZ_EXIT or len(stdout) >= limits.max_output_bytes:
            return Execution("output_limit", proc.returncode, seconds=elapsed, detail=stderr)
        return Execution(
            "exited", proc.returncode, stdout.decode("utf-8", "replace"), elapsed, stderr
        )


def _kill_sandbox(proc: subprocess.Popen, status_r: int, seen: list[bytes]) -> None:
    """Kill the whole sandbox, leaving no zombie behind.

    SIGKILL to the sandbox's PID 1 (from outside) ends its whole PID namespace; bwrap, its
    parent, then reaps it and exits, and we reap bwrap. Killing bwrap first would orphan the
    sandbox's PID 1 to the host's init, which in a container may never reap it. The process
    group kill is the fallback if bwrap does not exit.
    """
    child = _child_pid(status_r, seen)
    if child is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(child, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
            return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    proc.wait()


def _child_pid(status_r: int, seen: list[bytes]) -> int | None:
    """The sandbox's PID 1 (host pid) from bwrap's ``child-pid`` status record, if written yet.

    Reads whatever bwrap has written so far (never blocks) and appends it to ``seen``.
    """
    os.set_blocking(status_r, False)
    with contextlib.suppress(BlockingIOError):
        while chunk := os.read(status_r, 65536):
            seen.append(chunk)
    for line in b"".join(seen).decode("utf-8", "replace").splitlines():
        with contextlib.suppress(json.JSONDecodeError, AttributeError):
            record = json.loads(line)
            if "child-pid" in record:
                return int(record["child-pid"])
    return None
