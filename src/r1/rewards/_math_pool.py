"""A pool of math-verify worker processes with a hard deadline per completion.

Why hand-written: math-verify's own timeouts use ``signal.alarm``, so they only work in a
main thread and cannot interrupt C code (a regular expression that backtracks for minutes);
``concurrent.futures.ProcessPoolExecutor`` cannot kill one stuck task without breaking the
whole pool, and ``multiprocessing``'s spawn start re-imports the caller's ``__main__`` (a
stage script). So: plain subprocesses speaking JSON lines, each running math-verify in its
main thread (its alarms work there), and a parent that SIGKILLs and replaces a worker whose
current completion passes ``hard_timeout`` seconds. That completion scores 0.0 (a timeout
is a failure, as in math-verify); the rest of its chunk is rescheduled.

No verdict cut short is silent: each completion comes back with a status (None, "timeout"
for the worker's CPU budget, "too_complex" for its size guards, "hard_timeout" for a kill),
and the pool counts them over its life.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import math
import os
import selectors
import subprocess
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Sequence
from pathlib import Path

logger = logging.getLogger(__name__)

_SRC = str(Path(__file__).resolve().parents[2])  # so workers import this very r1


class _Worker:
    def __init__(self, timeout: float) -> None:
        env = dict(
            os.environ,
            OMP_NUM_THREADS="1",
            PYTHONUNBUFFERED="1",
            PYTHONPATH=os.pathsep.join(filter(None, [_SRC, os.environ.get("PYTHONPATH")])),
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "r1.rewards._math_worker", str(timeout)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            text=False,
        )
        self.buffer = b""
        self.ready = False
        self.pending: deque[tuple[int, str, str]] = deque()  # sent, not yet answered
        self.progress_at = time.monotonic()

    def send(self, chunk: list[tuple[int, str, str]]) -> None:
        self.pending.extend(chunk)
        self.progress_at = time.monotonic()
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(chunk) + "\n").encode())
        self.proc.stdin.flush()

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        with contextlib.suppress(Exception):
            self.proc.wait(timeout=5)
        for stream in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(Exception):
                stream.close()


class MathPool:
    """Score (completion, gold) pairs with math-verify on ``workers`` processes.

    ``timeout``: CPU seconds for one completion's parse and verify (in the worker; see
    :mod:`r1.rewards._math_verify` for why it is generous).
    ``hard_timeout``: the most wall-clock seconds any one completion may take before its
    worker is killed (above ``timeout``: it catches what a CPU timer cannot, such as a
    worker stuck in C code, and must not fire first on a loaded machine).
    """

    def __init__(
        self, workers: int | None = None, timeout: float = 5.0, hard_timeout: float = 30.0
    ) -> None:
        self.n_workers = workers or max(1, len(os.sched_getaffinity(0)))
        self.timeout = timeout
        self.hard_timeout = hard_timeout
        self._workers: list[_Worker] = []
        self._lock = threading.Lock()
        self.killed = 0  # completions that hit the hard timeout, over the pool's life
        self.statuses: Counter[str] = Counter()  # every status but None, over the pool's life

    def start(self) -> None:
        """Start the workers now: they import and warm up sympy in the background (seconds),
        which :meth:`score` would otherwise wait for on its first call."""
        with self._lock:
            self._start()

    def _start(self) -> None:
        while len(self._workers) < self.n_workers:
            self._workers.append(_Worker(self.timeout))

    def close(self) -> None:
        with self._lock:
            for w in self._workers:
                w.kill()
            self._workers = []

    def score(self, completions: Sequence[str], golds: Sequence[str]) -> list[float | None]:
        """Per pair, 1.0 / 0.0, or None for an unparseable gold (see ``_math_verify``)."""
        return self.judge(completions, golds)[0]

    def judge(
        self, completions: Sequence[str], golds: Sequence[str]
    ) -> tuple[list[float | None], list[str | None]]:
        """Per pair its score (as :meth:`score`) and its status: None (computed in full),
        "timeout", "too_complex" or "hard_timeout"."""
        if len(completions) != len(golds):
            raise ValueError(f"{len(completions)} completions but {len(golds)} golds")
        n = len(completions)
        if n == 0:
            return [], []
        with self._lock:
            self._start()
            results: list[float | None] = [None] * n
            statuses: list[str | None] = [None] * n
            done = [False] * n
            todo = deque(
                (i, str(c), str(g)) for i, (c, g) in enumerate(zip(completions, golds, strict=True))
            )
            # Chunks amortise the pipe round trip but stay small enough to balance the load.
            size = max(1, min(16, math.ceil(n / (4 * self.n_workers))))
            remaining = n
            sel = selectors.DefaultSelector()
            for w in self._workers:
                sel.register(w.proc.stdout, selectors.EVENT_READ, w)
            try:
                while remaining:
                    for w in self._workers:
                        if w.ready and not w.pending and todo:
                            w.send([todo.popleft() for _ in range(min(size, len(todo)))])
                    for key, _ in sel.select(timeout=0.05):
                        w = key.data
                        data = os.read(w.proc.stdout.fileno(), 1 << 20)
                        if not data:
                            self._replace(w, sel, todo, results, statuses, done, reason="died")
                            continue
                        w.buffer += data
                        *lines, w.buffer = w.buffer.split(b"\n")
                        for line in lines:
                            index, value, status = json.loads(line)
                            if index == "ready":
                                w.ready = True
                            elif not done[index]:
                                results[index], statuses[index], done[index] = value, status, True
                                w.pending.popleft()
                                w.progress_at = time.monotonic()
                    now = time.monotonic()
                    for w in list(self._workers):
                        if w.pending and now - w.progress_at > self.hard_timeout:
                            self._replace(w, sel, todo, results, statuses, done, reason="timeout")
                    remaining = n - sum(done)
            finally:
                sel.close()
            self.statuses.update(s for s in statuses if s is not None)
        return results, statuses

    def _replace(self, w: _Worker, sel, todo, results, statuses, done, reason: str) -> None:
        """Kill ``w``; its current task fails (0.0), its other tasks go back to the queue."""
        sel.unregister(w.proc.stdout)
        w.kill()
        if reason == "died" and not w.ready:
            # It never started (math-verify missing, a broken environment): a replacement
            # would die the same way, forever, so stop with the reason instead.
            raise RuntimeError(f"a math-verify worker exited during start-up (exit code {w.proc.returncode}); "
                               "its error is printed above")
        if w.pending:
            index, completion, _ = w.pending.popleft()
            # A timeout is the completion's failure; a crash tells us nothing: no signal.
            results[index], done[index] = (0.0 if reason == "timeout" else None), True
            statuses[index] = "hard_timeout" if reason == "timeout" else None
            self.killed += 1
            logger.warning(
                "math-verify worker %s on completion %d (%d chars); scored %s",
                reason,
                index,
                len(completion),
                results[index],
            )
            todo.extendleft(reversed(w.pending))
        elif reason == "died":
            logger.warning("math-verify worker died while idle; restarting it")
        new = _Worker(self.timeout)
        self._workers[self._workers.index(w)] = new
        sel.register(new.proc.stdout, selectors.EVENT_READ, new)


_DEFAULT: dict[tuple, MathPool] = {}
_DEFAULT_LOCK = threading.Lock()


def shared_pool(
    workers: int | None = None, timeout: float = 5.0, hard_timeout: float = 30.0
) -> MathPool:
    """One pool per setting per process, started on first use and closed at exit."""
    key = (workers, timeout, hard_timeout)
    with _DEFAULT_LOCK:
        if key not in _DEFAULT:
            _DEFAULT[key] = MathPool(workers, timeout, hard_timeout)
        return _DEFAULT[key]


@atexit.register
def _close_all() -> None:
    for pool in _DEFAULT.values():
        pool.close()
