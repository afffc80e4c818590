"""Command lines for bubblewrap (``bwrap``), the base of the local sandbox.

Why bubblewrap: it is a small, audited, unprivileged sandbox (Flatpak's), packaged by every
distribution (Debian's ``bubblewrap``), and builds exactly what we need from Linux namespaces:
an empty root filesystem holding only read-only system software, a private ``/tmp``, no
network (an empty network namespace), its own PID namespace (killing its init kills every
process of the test, including ones that double-forked or called ``setsid``), and
``--die-with-parent``. Resource limits are applied inside by util-linux ``prlimit`` (present on
every Debian/Ubuntu system), after the user namespace exists, so that ``RLIMIT_NPROC`` counts
only this sandbox's processes.

Visible inside the sandbox: ``/usr`` (and the ``/bin``, ``/lib*`` links or directories),
the interpreter's prefix when it lives outside ``/usr``, the program's read-only directory at
``/prog``, a size-limited tmpfs at ``/tmp`` (the working directory), a fresh ``/proc`` and a
minimal ``/dev``. Not visible: ``/etc`` (so no ``/etc/shadow``), ``/home``, ``/root``, the
project, the host's ``/tmp``, and the host's environment variables (API keys included).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from r1.sandbox.limits import Limits

PROG_DIR = "/prog"
WORK_DIR = "/tmp"
# The program's environment: nothing from the host's.
SANDBOX_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "HOME": WORK_DIR,
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONIOENCODING": "utf-8",
}


def find_bwrap() -> str | None:
    """Path of the ``bwrap`` executable, or None."""
    return shutil.which("bwrap")


@functools.lru_cache(maxsize=8)
def supports(bwrap: str, option: str) -> bool:
    """Whether this bwrap build knows ``option`` (``--disable-userns`` came in 0.8)."""
    try:
        out = subprocess.run([bwrap, "--help"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return option in out.stdout + out.stderr


def system_mounts() -> list[str]:
    """Read-only mounts of the system software, mirroring merged or split ``/usr`` layouts."""
    args = ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        p = Path(top)
        if p.is_symlink():
            args += ["--symlink", os.readlink(p), top]
        elif p.is_dir():
            args += ["--ro-bind", top, top]
    return args


def interpreter_mounts(executable: str) -> list[str]:
    """Extra read-only mount for an interpreter that lives outside ``/usr``.

    The interpreter is bound at its own path so that it finds its standard library; only its
    installation prefix (``bin/..``) is exposed, never its neighbours.
    """
    real = Path(os.path.realpath(executable))
    if real.is_relative_to("/usr") or real.is_relative_to("/bin") or real.is_relative_to("/lib"):
        return []
    prefix = real.parent.parent
    return ["--ro-bind", str(prefix), str(prefix)]


def bwrap_argv(
    bwrap: str,
    command: Sequence[str],
    limits: Limits,
    prog_dir: str | os.PathLike,
    *,
    prog_writable: bool = False,
    extra_mounts: Sequence[str] = (),
    status_fd: int | None = None,
    block_fd: int | None = None,
    seccomp_fd: int | None = None,
    disable_userns: bool = True,
    prlimit: str = "/usr/bin/prlimit",
) -> list[str]:
    """The full argv that runs ``command`` inside a fresh sandbox with ``limits``.

    ``prog_dir`` (host path) appears at ``/prog``, read-only unless ``prog_writable`` (used
    only to let the compiler write the binary). ``status_fd`` is given to
    ``--json-status-fd``: bwrap writes ``{"child-pid": ...}`` there once the sandbox is set
    up, which tells a failure of the sandbox from a failure of the program.

    >>> argv = bwrap_argv("bwrap", ["/usr/bin/python3", "/prog/main.py"], Limits(), "/h/p")
    >>> "--unshare-all" in argv and "--die-with-parent" in argv and "/etc" not in argv
    True
    >>> argv[argv.index("--ro-bind", argv.index("/usr") + 1) + 1:][:2]
    ['/h/p', '/prog']
    """
    args = [bwrap, "--unshare-all", "--die-with-parent", "--new-session"]
    if disable_userns:
        args += ["--unshare-user", "--disable-userns"]
    args += ["--hostname", "sandbox"]
    args += system_mounts()
    args += list(extra_mounts)
    args += ["--bind" if prog_writable else "--ro-bind", str(prog_dir), PROG_DIR]
    args += ["--proc", "/proc", "--dev", "/dev"]
    args += ["--size", str(limits.tmp_mb << 20), "--tmpfs", WORK_DIR, "--chdir", WORK_DIR]
    args += ["--clearenv"]
    for key, value in SANDBOX_ENV.items():
        args += ["--setenv", key, value]
    if status_fd is not None:
        args += ["--json-status-fd", str(status_fd)]
    if block_fd is not None:
        args += ["--block-fd", str(block_fd)]
    if seccomp_fd is not None:
        args += ["--seccomp", str(seccomp_fd)]
    args += ["--", prlimit, *limits.prlimit_args(), "--", *command]
    return args
