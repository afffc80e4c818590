"""Resource limits for one sandboxed run (one test, or one compilation)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Limits:
    """Per-run limits of the local sandbox.

    timeout: wall-clock seconds; on expiry the whole process tree is killed and that test fails.
    memory_mb: address-space limit (RLIMIT_AS) of each process, in MiB.
    max_processes: processes and threads of the sandbox user (RLIMIT_NPROC): stops fork bombs.
    max_output_bytes: largest stdout (and largest file) the program may write (RLIMIT_FSIZE);
        writing past it kills the program with SIGXFSZ, and the test fails.
    tmp_mb: size of the program's private writable ``/tmp`` (a tmpfs, gone after the run).
    max_open_files: RLIMIT_NOFILE.
    CPU time (RLIMIT_CPU) is derived from ``timeout`` so a spinning process cannot outlast it.
    """

    timeout: float = 5.0
    memory_mb: int = 1024
    max_processes: int = 32
    max_output_bytes: int = 16 << 20
    tmp_mb: int = 64
    max_open_files: int = 256

    def __post_init__(self) -> None:
        for name in (
            "timeout",
            "memory_mb",
            "max_processes",
            "max_output_bytes",
            "tmp_mb",
            "max_open_files",
        ):
            if not getattr(self, name) > 0:
                raise ValueError(
                    f"sandbox limit {name} must be positive, got {getattr(self, name)!r}"
                )

    @property
    def cpu_seconds(self) -> int:
        """RLIMIT_CPU: the wall timeout rounded up, plus one second of slack."""
        return math.ceil(self.timeout) + 1

    def prlimit_args(self) -> list[str]:
        """Options for util-linux ``prlimit``, which sets them and execs the program.

        >>> Limits(timeout=2, memory_mb=64, max_processes=8, max_output_bytes=100).prlimit_args()[:3]
        ['--as=67108864', '--cpu=3', '--nproc=8']
        """
        return [
            f"--as={self.memory_mb << 20}",
            f"--cpu={self.cpu_seconds}",
            f"--nproc={self.max_processes}",
            f"--fsize={self.max_output_bytes}",
            f"--nofile={self.max_open_files}",
            "--core=0",
        ]

    def with_(self, **changes) -> Limits:
        """A copy with some fields changed."""
        return replace(self, **changes)


# Compilers need more room and time than the programs they build.
COMPILE_LIMITS = Limits(timeout=30.0, memory_mb=2048, max_processes=32, max_output_bytes=64 << 20)
