"""The ``local`` provider: untrusted programs run under bubblewrap on this machine.

Every test is one fresh sandbox (see :mod:`r1.sandbox.bwrap` for what is visible inside).
Isolation, in layers:

- namespaces (bwrap ``--unshare-all``): no network, own PID/IPC/UTS/user namespaces, an
  empty root holding read-only system software, a private size-limited ``/tmp``;
- an unprivileged user: when we run as root, each concurrent sandbox runs under its own
  otherwise unused uid (from a random high range), so ``RLIMIT_NPROC`` cannot be bypassed
  (the kernel exempts uid 0 from it) and sandboxes cannot signal or read each other;
- a seccomp filter (:mod:`r1.sandbox.seccomp`): no ptrace, mount, namespaces, raw sockets,
  bpf, io_uring, keyring, kernel modules, ...;
- memory per sandbox: every process of a test in one memory cgroup (:mod:`r1.sandbox.cgroup`)
  where this machine lets us make one; a kill by its OOM killer is ``memory_limit``;
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
import select
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
from r1.sandbox.cgroup import MemoryCgroups, open_memory_cgroups, remove_stale
from r1.sandbox.harness import CHECKER_DRIVER_SOURCE, HARNESS_SOURCE
from r1.sandbox.limits import COMPILE_LIMITS, Limits
from r1.sandbox.pch import MOUNT as PCH_MOUNT
from r1.sandbox.pch import precompiled_dir
from r1.sandbox.programs import Built, ProgramStore
from r1.sandbox.schema import Problem, TestCase, canonical_language
from r1.sandbox.seccomp import filter_program

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


class _Slots:
    """One slot per concurrent sandbox: its index (its memory cgroup) and, when we run as
    root, its own otherwise unused uid (else None).

    A random uid base makes two pools (two trainer ranks, say) very unlikely to share a uid.
    """

    def __init__(self, size: int) -> None:
        self._q: queue.Queue[tuple[int, int | None]] = queue.Queue()
        base = random.SystemRandom().randrange(1 << 24, 1 << 30) if os.geteuid() == 0 else None
        for i in range(size):
            self._q.put((i, None if base is None else base + i))

    @contextlib.contextmanager
    def lease(self) -> Iterator[tuple[int, int | None]]:
        slot = self._q.get()
        try:
            yield slot
        finally:
            self._q.put(slot)


# A checker is the problem's own code, but it still reads the program's output: sandboxed,
# with room of its own.
CHECKER_LIMITS = Limits(timeout=10.0, memory_mb=1024, max_output_bytes=1 << 20)
CGROUP_PREFIX = "r1-sandbox-"
# Precompiling <bits/stdc++.h> writes a 100 MB file and takes a few CPU seconds.
PCH_LIMITS = COMPILE_LIMITS.with_(timeout=120.0, max_output_bytes=1 << 30)


class LocalSandbox:
    """Run programs against tests in bubblewrap sandboxes, many at a time.

    Options (all are ``reward_kwargs`` of the code rewards): ``timeout`` (wall seconds per
    test), ``memory_mb``, ``max_processes``, ``max_output_mb``, ``tmp_mb``, ``max_workers``
    (default: twice the CPUs), ``python`` (interpreter inside the sandbox; default
    ``/usr/bin/python3``, else this interpreter), ``cxx`` (C++ compiler, default ``g++``),
    ``cxx_flags``, ``compile_timeout``. A problem's own ``time_limit`` and ``memory_mb``
    (Codeforces, IOI) replace ``timeout`` and ``memory_mb`` for its tests.
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
        self._slots = _Slots(self.max_workers)
        self._root: Path | None = None
        self._store: ProgramStore | None = None
        self._cgroups: MemoryCgroups | None = None
        self._seccomp: bytes | None = None
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
                self._store = ProgramStore(self._root)
                _become_subreaper()
                self._seccomp = filter_program()
                if self._seccomp is None:
                    logger.warning("no seccomp filter for this CPU architecture: not applied")
                remove_stale(CGROUP_PREFIX)
                self._cgroups = open_memory_cgroups(
                    self.max_workers, f"{CGROUP_PREFIX}{os.getpid()}-{id(self):x}"
                )
                if self._cgroups is None:
                    logger.warning(
                        "no writable memory cgroup here: memory is limited per process "
                        "(RLIMIT_AS) only, not per sandbox"
                    )
                self._pool = ThreadPoolExecutor(self.max_workers, thread_name_prefix="sandbox")

    @property
    def memory_per_sandbox(self) -> bool:
        """Whether memory is limited per sandbox (a cgroup), not only per process."""
        self._ensure_started()
        return self._cgroups is not None

    def check(self) -> None:
        """Run a trivial program; raise ``SandboxUnavailable`` with bwrap's reason if it fails."""
        self._ensure_started()
        assert self._store is not None
        with self._store.lease({"main.py": "print(6 * 7)\n"}, [], None) as prog:
            run = self._execute(prog.path, [self.python, "-I", "/prog/main.py"], "", self.limits)
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
            if self._cgroups is not None:
                self._cgroups.close()
                self._cgroups = None
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
        assert self._pool is not None and self._store is not None
        with contextlib.ExitStack() as stack:
            # Phase 1: build every program and checker (compile what needs compiling, each
            # distinct one once), all at once.
            builds = [self._pool.submit(self._prepare, stack, p) for p in problems]
            prepared = [b.result() for b in builds]
            # Phase 2: every test of every problem that compiled, all at once.
            jobs = []
            for i, (problem, (prog, checker)) in enumerate(zip(problems, prepared, strict=True)):
                if prog.ready and (checker is None or checker.ready):
                    for test in problem.tests:
                        job = self._pool.submit(self._run_test, problem, prog, checker, test)
                        jobs.append((i, job))
            verdicts: list[list[TestResult | None]] = [[] for _ in problems]
            for i, job in jobs:
                verdicts[i].append(job.result())
        results: list[list[TestResult] | None] = []
        for problem, (prog, checker), v in zip(problems, prepared, verdicts, strict=True):
            if prog.ready is None or (checker is not None and checker.ready is None):
                results.append(None)  # the sandbox failed: no verdict for this sample
            elif checker is not None and checker.ready is False:
                logger.warning("the problem's checker does not compile: %s", checker.detail)
                results.append(None)  # the problem's fault, not the program's: no signal
            elif prog.ready is False:
                failed = TestResult("compile_error", detail=prog.detail)
                results.append([failed] * len(problem.tests))
            elif any(r is None for r in v):
                results.append(None)
            else:
                results.append(v)  # type: ignore[arg-type]
        return results

    def _prepare(self, stack: contextlib.ExitStack, problem: Problem):
        assert self._store is not None
        files, recipe = self._program_files(problem)
        build = self._compiler(recipe, _includes_stdcpp(files)) if recipe else None
        prog = self._enter(stack, self._store.lease(files, recipe, build))
        checker = None
        if problem.checker is not None:
            cfiles = {**dict(problem.checker.files), "checker_driver.py": CHECKER_DRIVER_SOURCE}
            if canonical_language(problem.checker.language) == "cpp":
                cfiles["checker.cpp"] = problem.checker.source
                crecipe = self._cxx_command(["checker.cpp"])
                cbuild = self._compiler(crecipe, _includes_stdcpp(cfiles))
            else:
                cfiles["checker.py"] = problem.checker.source
                crecipe, cbuild = [], None
            checker = self._enter(stack, self._store.lease(cfiles, crecipe, cbuild))
        return prog, checker

    def _enter(self, stack: contextlib.ExitStack, cm):
        """``stack.enter_context(cm)`` from a pool thread (ExitStack is not thread-safe)."""
        value = cm.__enter__()
        with self._lock:
            stack.push(cm.__exit__)
        return value

    def _program_files(self, problem: Problem) -> tuple[dict[str, str], list[str]]:
        """The program's files, and its compile command ([] for Python)."""
        files = dict(problem.files)
        if problem.language == "cpp":
            name = problem.source_name or "main.cpp"
            files[name] = problem.code
            sources = [name] + sorted(n for n in files if n.endswith(".cpp") and n != name)
            include_dirs = {str(Path(n).parent) for n in files}
            return files, self._cxx_command(sources, include_dirs, problem.compile_flags)
        if any(t.kind == "functional" for t in problem.tests):
            files.update({"solution.py": problem.code, "harness.py": HARNESS_SOURCE})
        else:
            files[problem.source_name or "main.py"] = problem.code
        return files, []

    def _cxx_command(
        self,
        sources: list[str],
        include_dirs: set[str] = frozenset(),
        extra_flags: Sequence[str] = (),
    ) -> list[str]:
        includes = [f"-I{bw.PROG_DIR}/{d}" for d in sorted(include_dirs) if d not in ("", ".")]
        return [
            self.cxx,
            *self.cxx_flags,
            *extra_flags,
            *includes,
            "-o",
            f"{bw.PROG_DIR}/prog",
            *(f"{bw.PROG_DIR}/{s}" for s in sources),
        ]

    def _compiler(self, recipe: list[str], precompiled: bool):
        def build(path: Path) -> tuple[bool | None, str]:
            if shutil.which(self.cxx) is None:
                # No compiler here: we cannot judge C++ at all, not the program's fault.
                logger.warning("no C++ compiler %r here: C++ samples get no verdict", self.cxx)
                return None, ""
            command, mounts = recipe, []
            pch = self._precompiled_header() if precompiled else None
            if pch is not None:
                command = [recipe[0], f"-I{PCH_MOUNT}", *recipe[1:]]
                mounts = ["--ro-bind", str(pch), PCH_MOUNT]
            run = self._execute(
                path, command, "", self.compile_limits, prog_writable=True, extra_mounts=mounts
            )
            if run.state == "sandbox_error":
                return None, run.detail
            ok = run.state == "exited" and run.returncode == 0 and (path / "prog").exists()
            if ok:
                return True, ""
            reason = run.detail.strip() or run.state
            logger.info("compile error: %s", reason[:2000])
            return False, reason

        return build

    def _precompiled_header(self) -> Path | None:
        """The directory of a precompiled ``<bits/stdc++.h>`` for our compiler and flags."""

        def build(root: Path) -> bool:
            header = f"{bw.PROG_DIR}/bits/stdc++.h"
            out = f"{bw.PROG_DIR}/stdc++.h.gch"
            command = [self.cxx, *self.cxx_flags, "-w", "-x", "c++-header", header, "-o", out]
            run = self._execute(root, command, "", PCH_LIMITS, prog_writable=True)
            if run.state != "exited" or run.returncode != 0:
                logger.info("precompiling <bits/stdc++.h> failed: %s", run.detail[:500])
                return False
            return (root / "stdc++.h.gch").exists()

        return precompiled_dir((self.cxx, tuple(self.cxx_flags)), build)

    def _command(self, problem: Problem, test: TestCase) -> list[str]:
        if problem.language == "cpp":
            cmd = [f"{bw.PROG_DIR}/prog"]
        elif test.kind == "functional":
            cmd = [self.python, "-I", f"{bw.PROG_DIR}/harness.py", test.fn_name or ""]
        else:
            cmd = [self.python, "-I", f"{bw.PROG_DIR}/{problem.source_name or 'main.py'}"]
        if problem.input_mode == "file":
            # The program reads input.txt and writes output.txt in its working directory;
            # its stdout is ignored, as on Codeforces.
            script = (
                'cat > input.txt && "$@" > /dev/null; s=$?; cat output.txt 2>/dev/null; exit $s'
            )
            cmd = ["/bin/sh", "-c", script, "sh", *cmd]
        return cmd

    def _limits(self, problem: Problem) -> Limits:
        limits = self.limits
        if problem.time_limit is not None:
            limits = limits.with_(timeout=2 * problem.time_limit + 1)
        if problem.memory_mb is not None:
            limits = limits.with_(memory_mb=problem.memory_mb)
        return limits

    def _run_test(
        self, problem: Problem, prog: Built, checker: Built | None, test: TestCase
    ) -> TestResult | None:
        run = self._execute(
            prog.path, self._command(problem, test), test.input, self._limits(problem)
        )
        tl = problem.time_limit
        if tl is not None and run.state in ("exited", "timeout") and run.cpu_seconds > tl:
            return TestResult("timeout", run.seconds, detail=f"{run.cpu_seconds:.2f}s of CPU")
        if checker is None or run.state != "exited" or run.returncode != 0:
            return judge(test, run, problem.compare)
        case = json.dumps({"input": test.input, "expected": test.output, "actual": run.stdout})
        verdict = self._execute(
            checker.path,
            [self.python, "-I", f"{bw.PROG_DIR}/checker_driver.py"],
            case,
            CHECKER_LIMITS,
        )
        if verdict.state == "sandbox_error":
            return None
        score = checker_score(verdict)
        status = "passed" if score >= 1.0 - 1e-9 else "wrong_answer"
        return TestResult(status, run.seconds, score=score, detail=verdict.stdout[:200])

    def _execute(
        self,
        prog: Path,
        command: list[str],
        stdin: str,
        limits: Limits,
        prog_writable: bool = False,
        extra_mounts: Sequence[str] = (),
    ) -> Execution:
        """Run ``command`` once in a fresh sandbox; never raises for the program's sake."""
        assert self._root is not None and self._bwrap is not None
        io_dir = Path(tempfile.mkdtemp(prefix="io-", dir=self._root))  # host-only, never bound
        pipes: list[int] = []  # our ends and the child's, closed whatever happens

        def pipe() -> tuple[int, int]:
            r, w = os.pipe()
            pipes.extend((r, w))
            return r, w

        def close(fd: int) -> None:
            if fd in pipes:
                pipes.remove(fd)
                os.close(fd)

        status_r, status_w = pipe()
        seccomp_r = None
        # bwrap holds the program until we write here: by then we know the sandbox's PID 1,
        # hold a pidfd on it, and (with cgroups) have moved it into the slot's cgroup.
        block_r, block_w = pipe()
        if self._seccomp is not None:
            seccomp_r, seccomp_w = pipe()
            os.write(seccomp_w, self._seccomp)  # a few hundred bytes: fits the pipe buffer
            close(seccomp_w)
        child_fds = tuple(fd for fd in (status_w, block_r, seccomp_r) if fd is not None)
        start = time.monotonic()
        try:
            with self._slots.lease() as (slot, uid), contextlib.ExitStack() as stack:
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
                    extra_mounts=[*bw.interpreter_mounts(self.python), *extra_mounts],
                    status_fd=status_w,
                    block_fd=block_r,
                    seccomp_fd=seccomp_r,
                    disable_userns=bw.supports(self._bwrap, "--disable-userns"),
                )
                user_kw = {} if uid is None else {"user": uid, "group": uid, "extra_groups": []}
                oom_before = 0
                if self._cgroups is not None:
                    self._cgroups.set_limit(slot, limits.memory_mb << 20)
                    oom_before = self._cgroups.oom_kills(slot)
                try:
                    proc = subprocess.Popen(
                        argv,
                        stdin=fin,
                        stdout=fout,
                        stderr=ferr,
                        env=dict(bw.SANDBOX_ENV),
                        pass_fds=child_fds,
                        process_group=0,
                        **user_kw,
                    )
                except OSError as e:
                    return Execution("sandbox_error", detail=f"cannot start bwrap: {e}")
                finally:
                    for fd in child_fds:
                        close(fd)
                status_seen: list[bytes] = []
                child = _wait_child_pid(status_r, status_seen, deadline=start + 30)
                init_fd = None
                if child is not None:
                    with contextlib.suppress(OSError):  # it may have died already
                        init_fd = os.pidfd_open(child)
                        stack.callback(os.close, init_fd)
                        if self._cgroups is not None:
                            # Before the program starts, so every process of the test counts.
                            self._cgroups.add(slot, child)
                with contextlib.suppress(OSError):
                    os.write(block_w, b"1")
                close(block_w)
                timed_out = not _exited(proc, limits.timeout - (time.monotonic() - start))
                if timed_out:
                    _kill_sandbox(proc, status_r, status_seen)
                returncode, cpu = _reap(proc)
                cpu += _reap_orphaned_init(init_fd, child)
                elapsed = time.monotonic() - start
                started = _child_pid(status_r, status_seen) is not None
                oom = self._cgroups is not None and self._cgroups.oom_kills(slot) > oom_before
                fout.seek(0)
                stdout = fout.read(limits.max_output_bytes + 1)
                ferr.seek(0)
                stderr = ferr.read(4096).decode("utf-8", "replace")
        finally:
            for fd in list(pipes):
                close(fd)
            shutil.rmtree(io_dir, ignore_errors=True)
        if not started:
            logger.warning("sandbox error (bwrap did not start the program): %s", stderr.strip())
            return Execution("sandbox_error", seconds=elapsed, detail=stderr)
        if timed_out:
            return Execution("timeout", seconds=elapsed, detail=stderr, cpu_seconds=cpu)
        if oom or (returncode != 0 and any(m in stderr for m in OUT_OF_MEMORY_MARKERS)):
            return Execution("memory_limit", returncode, "", elapsed, stderr, cpu)
        # FSIZE stops the file at exactly the limit: SIGXFSZ kills C++ programs, while Python
        # ignores the signal and dies of the EFBIG error instead.
        if returncode == SIGXFSZ_EXIT or len(stdout) >= limits.max_output_bytes:
            return Execution("output_limit", returncode, seconds=elapsed, detail=stderr)
        return Execution(
            "exited", returncode, stdout.decode("utf-8", "replace"), elapsed, stderr, cpu
        )


def _includes_stdcpp(files: dict[str, str]) -> bool:
    """Whether the precompiled ``<bits/stdc++.h>`` would serve this program (else it is not
    worth building)."""
    return any("bits/stdc++.h" in text for text in files.values())


# What a program that ran out of memory under RLIMIT_AS says before it dies.
OUT_OF_MEMORY_MARKERS = ("std::bad_alloc", "MemoryError", "Cannot allocate memory")


def checker_score(run: Execution) -> float:
    """The credit a checker gave: its first token, a number in [0, 1] or a word for 1.

    >>> checker_score(Execution("exited", 0, "1\\n")), checker_score(Execution("exited", 0, "0.25 ok"))
    (1.0, 0.25)
    >>> checker_score(Execution("exited", 0, "ok")), checker_score(Execution("exited", 1, "1"))
    (1.0, 0.0)
    """
    if run.state != "exited" or run.returncode != 0:
        return 0.0
    tokens = run.stdout.split()
    if not tokens:
        return 0.0
    word = tokens[0].lower()
    if word in ("ok", "yes", "ac", "accepted", "correct"):
        return 1.0
    try:
        value = float(word)
    except ValueError:
        return 0.0
    return min(max(value, 0.0), 1.0) if value == value else 0.0  # NaN scores nothing


def _exited(proc: subprocess.Popen, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for ``proc`` to exit, without reaping it."""
    pidfd = os.pidfd_open(proc.pid)
    try:
        ready, _, _ = select.select([pidfd], [], [], max(timeout, 0.0))
    finally:
        os.close(pidfd)
    return bool(ready)


def _reap(proc: subprocess.Popen) -> tuple[int, float]:
    """Reap ``proc``: its exit code, and the CPU seconds of it and of every process it reaped.

    ``wait4`` gives the CPU time of the whole reaped tree (the sandbox's PID 1 reaps the
    program), which ``Popen.wait`` throws away.
    """
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_utime + usage.ru_stime


def _become_subreaper() -> None:
    """Make this process the reaper of its orphaned descendants (``PR_SET_CHILD_SUBREAPER``).

    When the program ends, the sandbox's PID 1 tells bwrap its exit status through an eventfd
    and bwrap exits at once, often before reaping that PID 1. The orphan then went to the
    host's init: its CPU time (which holds the program's) was lost to ``wait4``, so CPU time
    limits were not enforced, and in a container it could stay a zombie. As the subreaper we
    get it back and reap it (:func:`_reap_orphaned_init`). Process-wide: other orphaned
    descendants of this process become its children too (Python reaps the ones it started).
    """
    import ctypes

    pr_set_child_subreaper = 36  # <linux/prctl.h>
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(pr_set_child_subreaper, 1, 0, 0, 0) != 0:
        logger.warning("prctl(PR_SET_CHILD_SUBREAPER) failed: CPU time limits may undercount")


def _reap_orphaned_init(init_fd: int | None, pid: int | None) -> float:
    """Reap the sandbox's PID 1 if bwrap exited without reaping it; its CPU seconds, else 0.

    The pidfd, opened before the program started, names that very process whatever pids are
    reused since: ``waitid`` on it fails with ``ECHILD`` when bwrap reaped it (its time is
    then in bwrap's), and otherwise waits, without reaping, until it is our exited child.
    """
    if init_fd is None or pid is None:
        return 0.0
    try:
        os.waitid(os.P_PIDFD, init_fd, os.WEXITED | os.WNOWAIT)
    except ChildProcessError:
        return 0.0
    _, _, usage = os.wait4(pid, 0)
    return usage.ru_utime + usage.ru_stime


def _wait_child_pid(status_r: int, seen: list[bytes], deadline: float) -> int | None:
    """Block until bwrap reports the sandbox's PID 1 (or exits, or ``deadline`` passes)."""
    os.set_blocking(status_r, False)
    while (child := _child_pid(status_r, seen)) is None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        ready, _, _ = select.select([status_r], [], [], remaining)
        if ready:
            try:
                chunk = os.read(status_r, 65536)
            except BlockingIOError:
                continue
            if not chunk:
                return None  # bwrap exited without starting the sandbox
            seen.append(chunk)
    return child


def _kill_sandbox(proc: subprocess.Popen, status_r: int, seen: list[bytes]) -> None:
    """Kill the whole sandbox, leaving no zombie behind.

    SIGKILL to the sandbox's PID 1 (from outside) ends its whole PID namespace; bwrap, its
    parent, then reaps it and exits, and the caller reaps bwrap. Killing bwrap first would orphan the
    sandbox's PID 1 to the host's init, which in a container may never reap it. The process
    group kill is the fallback if bwrap does not exit.
    """
    child = _child_pid(status_r, seen)
    if child is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(child, signal.SIGKILL)
        if _exited(proc, 5):
            return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()


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
