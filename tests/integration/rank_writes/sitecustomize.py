"""Records every file a non-zero rank creates or writes under the working directory.

Put on PYTHONPATH with R1_TEST_WRITE_LOG=<file outside the project> by the multi-process
tests: each training process imports it at start-up, and ranks other than 0 append
"<rank> <event> <path>" for each write-mode open, rename and mkdir (Python's audit hooks;
writes made by native code, e.g. safetensors, show up through the folders they need).
"""

import os
import sys

_LOG = os.environ.get("R1_TEST_WRITE_LOG")
_RANK = os.environ.get("RANK")
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def _install(log_path: str, rank: str) -> None:
    root = os.getcwd()
    busy = []

    def is_write(event: str, args: tuple) -> bool:
        if event == "open":
            mode, flags = args[1], args[2]
            if isinstance(mode, str):
                return any(c in mode for c in "wax+")
            return bool(isinstance(flags, int) and flags & _WRITE_FLAGS)
        return event in ("os.rename", "os.mkdir", "os.remove", "shutil.rmtree")

    def hook(event: str, args: tuple) -> None:
        if busy or not is_write(event, args):
            return
        path = args[0]
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if not isinstance(path, str | os.PathLike):
            return
        full = os.path.abspath(os.fspath(path))
        if not full.startswith(root + os.sep):
            return
        busy.append(1)
        try:
            with open(log_path, "a") as fh:
                fh.write(f"{rank} {event} {os.path.relpath(full, root)}\n")
        finally:
            busy.pop()

    sys.addaudithook(hook)


if _LOG and _RANK not in (None, "0"):
    _install(_LOG, _RANK)
