"""Atomic writes, so that a killed stage never leaves an output DVC would take as complete.

Every declared out is produced in a temporary sibling (same filesystem) and renamed into
place only once it is whole. A rename of a directory over an existing one is not atomic on
POSIX, so an old directory is first moved aside and removed after the swap.

A SIGKILL runs no cleanup, so temporary names carry the host and pid of their writer, and
the next writer of the same output removes the leftovers of writers that are gone.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def _owner_tag() -> str:
    return f"{socket.gethostname()}.{os.getpid()}."


def _is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def clear_stale(parent: str | os.PathLike, prefix: str) -> list[Path]:
    """Remove ``parent/<prefix><host>.<pid>.*`` left by killed writers on this host.

    Entries of a live process, or of another host (whose processes cannot be checked from
    here; a shared filesystem under Slurm), are kept. Returns what was removed.
    """
    host = socket.gethostname()
    removed = []
    parent = Path(parent)
    if not parent.is_dir():
        return removed
    for path in parent.glob(f"{prefix}*"):
        tag, _, _random = path.name[len(prefix):].rpartition(".")
        owner, _, pid = tag.rpartition(".")
        if owner == host and pid.isdigit() and _is_alive(int(pid)):
            continue
        if owner and owner != host and pid.isdigit():
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        removed.append(path)
    return removed


@contextlib.contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    """A private temporary directory, removed afterwards, and by the next user if killed."""
    root = Path(tempfile.gettempdir())
    clear_stale(root, prefix)
    path = Path(tempfile.mkdtemp(prefix=prefix + _owner_tag(), dir=root))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def atomic_dir(final: str | os.PathLike) -> Iterator[Path]:
    """Yield an empty temporary directory that replaces ``final`` only if the block succeeds."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    clear_stale(final.parent, f".{final.name}.tmp-")
    clear_stale(final.parent, f".{final.name}.old-")
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-{_owner_tag()}", dir=final.parent))
    tmp.chmod(0o755)  # mkdtemp's 0700 would make outputs unreadable to other users
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if final.exists() or final.is_symlink():
        old = final.with_name(f".{final.name}.old-{_owner_tag()}")
        os.replace(final, old)
    os.replace(tmp, final)
    if old is not None:
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink()


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clear_stale(path.parent, f".{path.name}.tmp-")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-{_owner_tag()}", dir=path.parent)
    try:
        os.fchmod(fd, 0o644)  # mkstemp's 0600 would make outputs unreadable to other users
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_json_atomic(path: str | os.PathLike, obj: Any) -> None:
    """Write ``obj`` as sorted, indented JSON (stable bytes, so DVC hashes are stable)."""
    write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")
