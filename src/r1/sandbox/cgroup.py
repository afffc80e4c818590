"""Memory limited per sandbox (all its processes together), through a cgroup.

``RLIMIT_AS`` limits each process alone: 32 processes of 500 MiB each pass a 512 MiB limit.
A memory cgroup counts the whole sandbox (and its ``/tmp``, a tmpfs). Each concurrent
sandbox slot gets its own cgroup, made once and reused; the sandbox's PID 1 is moved into it
before it starts the program (bubblewrap's ``--block-fd`` holds it), so every process of the
test is born inside.

Where: cgroup v2 when this process may create a child cgroup with the ``memory`` controller
(a delegated subtree, or root in a container with its own cgroup namespace); else cgroup v1's
``memory`` hierarchy when it is writable (root on a hybrid host, as here). Otherwise
:func:`open_memory_cgroups` returns None: the sandbox then keeps only the per-process
``RLIMIT_AS`` and says so once in the log (the gap: several processes may together exceed
the limit, each one staying under it, up to ``max_processes`` times the limit).
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

logger = logging.getLogger(__name__)

ROOT = Path("/sys/fs/cgroup")


class MemoryCgroups:
    """One memory cgroup per sandbox slot under ``base`` (``version`` 1 or 2)."""

    def __init__(self, base: Path, version: int, slots: int) -> None:
        self.base = base
        self.version = version
        self.slots = [base / f"slot-{i}" for i in range(slots)]
        for slot in self.slots:
            slot.mkdir(exist_ok=True)
        self._limit: dict[Path, int] = {}

    def set_limit(self, slot: int, limit_bytes: int) -> None:
        """Limit slot ``slot`` to ``limit_bytes`` of memory, swap included."""
        path = self.slots[slot]
        if self._limit.get(path) == limit_bytes:
            return
        if self.version == 2:
            (path / "memory.max").write_text(str(limit_bytes))
            _write_if_exists(path / "memory.swap.max", "0")
        else:
            # v1 needs memory <= memory+swap at every moment: order the writes by direction.
            files = ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"]
            if limit_bytes > self._limit.get(path, float("inf")):  # a new group: unlimited
                files.reverse()
            for name in files:
                try:
                    _write_if_exists(path / name, str(limit_bytes))
                except OSError:
                    # EBUSY: charges left by earlier tests (page cache) exceed the new limit
                    # and could not be reclaimed in time; drop them and try once more.
                    _write_if_exists(path / "memory.force_empty", "0")
                    _write_if_exists(path / name, str(limit_bytes))
        self._limit[path] = limit_bytes

    def oom_kills(self, slot: int) -> int:
        """How many processes of this slot the kernel's OOM killer has killed so far."""
        path = self.slots[slot]
        name = "memory.events" if self.version == 2 else "memory.oom_control"
        with contextlib.suppress(OSError, ValueError):
            for line in (path / name).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
        return 0

    def add(self, slot: int, pid: int) -> None:
        """Move process ``pid`` (and its future children) into slot ``slot``."""
        (self.slots[slot] / "cgroup.procs").write_text(str(pid))

    def close(self) -> None:
        for slot in self.slots:
            with contextlib.suppress(OSError):
                slot.rmdir()
        with contextlib.suppress(OSError):
            self.base.rmdir()


def _write_if_exists(path: Path, value: str) -> None:
    if path.exists():
        path.write_text(value)


def _own_v2_cgroup() -> Path | None:
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            if line.startswith("0::"):
                return ROOT / line[3:].lstrip("/")
    return None


def _own_v1_memory_cgroup() -> Path:
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            if "memory" in controllers.split(","):
                return ROOT / "memory" / path.lstrip("/")
    return ROOT / "memory"


def _v2_parent() -> Path | None:
    """A v2 cgroup in which we may create children that have the memory controller."""
    if not (ROOT / "cgroup.controllers").exists():
        return None
    own = _own_v2_cgroup()
    for parent in (own, own.parent if own is not None else None):
        if parent is None:
            continue
        with contextlib.suppress(OSError):
            if "memory" in (parent / "cgroup.controllers").read_text().split():
                enabled = (parent / "cgroup.subtree_control").read_text().split()
                if "memory" not in enabled:
                    # Fails when ``parent`` holds processes ("no internal processes" rule).
                    (parent / "cgroup.subtree_control").write_text("+memory")
                return parent
    return None


def open_memory_cgroups(slots: int, name: str) -> MemoryCgroups | None:
    """Per-slot memory cgroups under a new group ``name``, or None where none can be made."""
    candidates: list[tuple[int, Path]] = []
    v2 = _v2_parent()
    if v2 is not None:
        candidates.append((2, v2))
    v1 = _own_v1_memory_cgroup()
    if (v1 / "memory.limit_in_bytes").exists():
        candidates.append((1, v1))
    for version, parent in candidates:
        base = parent / name
        try:
            base.mkdir(exist_ok=True)
            if version == 2:
                (base / "cgroup.subtree_control").write_text("+memory")
            groups = MemoryCgroups(base, version, slots)
            groups.set_limit(0, 64 << 20)  # proves the limit files are writable
            return groups
        except OSError as e:
            logger.debug("cgroup v%d at %s not usable: %s", version, parent, e)
            with contextlib.suppress(OSError):
                for child in base.glob("slot-*"):
                    child.rmdir()
                base.rmdir()
    return None


def remove_stale(name_prefix: str) -> None:
    """Remove empty cgroups left by killed runs of ours (``name_prefix`` + pid, pid dead)."""
    for parent in (_own_v1_memory_cgroup(), _own_v2_cgroup()):
        if parent is None or not parent.is_dir():
            continue
        for group in parent.glob(f"{name_prefix}*"):
            pid = group.name[len(name_prefix) :].split("-")[0]  # <prefix><pid>-<instance>
            if pid.isdigit() and not Path(f"/proc/{pid}").exists():
                for child in group.glob("slot-*"):
                    with contextlib.suppress(OSError):
                        child.rmdir()
                with contextlib.suppress(OSError):
                    group.rmdir()
