"""Program directories of the local sandbox, built (compiled) once per distinct program.

A GRPO batch scores the same completion against dozens of tests, and the same problem's
checker against every completion; a group of generations often repeats a program word for
word. Each distinct program (its files, language and compile command, hashed) gets one
directory, built once: C++ is compiled there by the first user while others wait, and every
later test binds the same directory read-only. Directories not in use are evicted, oldest
first, past ``capacity``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Built:
    """A program directory: ``ready`` is True (runnable), False (compile error, ``detail``
    says why) or None (the sandbox failed while building: no verdict)."""

    path: Path
    ready: bool | None = None
    detail: str = ""
    built: bool = False
    users: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def program_key(files: dict[str, str], recipe: list[str]) -> str:
    """The hash naming a program: its files and how it is built.

    >>> program_key({"a.py": "1"}, []) == program_key({"a.py": "1"}, [])
    True
    >>> program_key({"a.py": "1"}, []) == program_key({"a.py": "1"}, ["g++", "-O2"])
    False
    """
    payload = json.dumps([sorted(files.items()), recipe], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class ProgramStore:
    """Directories under ``root``, keyed by :func:`program_key`, built once each."""

    def __init__(self, root: Path, capacity: int = 256) -> None:
        self.root = root
        self.capacity = capacity
        self._entries: OrderedDict[str, Built] = OrderedDict()
        self._lock = threading.Lock()
        self.builds = 0  # how many builds ran (tests read it to see the cache work)

    @contextlib.contextmanager
    def lease(
        self,
        files: dict[str, str],
        recipe: list[str],
        build: Callable[[Path], tuple[bool | None, str]] | None,
    ) -> Iterator[Built]:
        """The built directory of this program, kept while the ``with`` block runs.

        ``build(path)`` runs once per program (with the files already written) and returns
        ``(ready, detail)``; None means nothing to build. A sandbox error (None) is not
        cached, so the next lease tries again.
        """
        key = program_key(files, recipe)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                path = Path(tempfile.mkdtemp(prefix="prog-", dir=self.root))
                path.chmod(0o755)
                entry = self._entries[key] = Built(path)
            self._entries.move_to_end(key)
            entry.users += 1
        try:
            with entry.lock:
                if not entry.built:
                    self._write(entry.path, files)
                    ready, detail = (True, "") if build is None else build(entry.path)
                    self.builds += build is not None
                    entry.ready, entry.detail = ready, detail
                    entry.built = ready is not None
            yield entry
        finally:
            with self._lock:
                entry.users -= 1
                self._evict()

    @staticmethod
    def _write(path: Path, files: dict[str, str]) -> None:
        for name, text in files.items():
            target = path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.parent.chmod(0o755)
            target.write_text(text, encoding="utf-8")
            target.chmod(0o644)

    def _evict(self) -> None:
        excess = len(self._entries) - self.capacity
        for key in list(self._entries):
            if excess <= 0:
                break
            entry = self._entries[key]
            if entry.users == 0:
                del self._entries[key]
                shutil.rmtree(entry.path, ignore_errors=True)
                excess -= 1
