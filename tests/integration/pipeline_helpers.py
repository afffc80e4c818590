"""Running DVC on a fresh copy of the project, as a user's clone would."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def dvc_bin() -> str:
    found = shutil.which("dvc")
    if not found:
        tool_bin = subprocess.run(["uv", "tool", "dir", "--bin"], capture_output=True, text=True).stdout.strip()
        candidate = Path(tool_bin or Path.home() / ".local/bin") / "dvc"
        found = str(candidate) if candidate.exists() else None
    if not found:
        raise RuntimeError("dvc is not installed: run `bash scripts/test.sh`, which installs it as a uv tool")
    return found


def env() -> dict:
    e = dict(os.environ)
    e["R1_PYTHON"] = sys.executable  # stages run in this (the locked) environment
    e.pop("R1_TRAIN_LAUNCHER", None)
    e["PYTHONUNBUFFERED"] = "1"
    return e


_OUTPUT_DIRS = {"data", "models", "outputs", "checkpoints", ".r1-cache", ".dvc-remote", "metrics", "plots", "reports"}


def fresh_copy(dest: Path) -> Path:
    """The committed-or-staged project files (what a clone would hold), as a new git repo."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split("\0")
    for rel in filter(None, listed):
        if rel.split("/")[0] in _OUTPUT_DIRS and not rel.endswith(".gitignore"):
            continue  # pipeline outputs that a clone does not have
        src = ROOT / rel
        if not src.is_file():
            continue  # deleted in the work tree but still in the index
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)
    git(dest, "init", "-q")
    git(dest, "add", "-A")
    git(dest, "commit", "-qm", "fresh clone")
    dvc(dest, "config", "--local", "core.site_cache_dir", str(dest / ".dvc-site-cache"))
    return dest


def git(cwd: Path, *args: str) -> str:
    base = ["git", "-c", "user.name=r1-test", "-c", "user.email=r1-test@localhost", "-c", "commit.gpgsign=false"]
    return subprocess.run(base + list(args), cwd=cwd, capture_output=True, text=True, check=True).stdout


def dvc(cwd: Path, *args: str, check: bool = True, timeout: float = 900, environ: dict | None = None
        ) -> subprocess.CompletedProcess:
    started = time.monotonic()
    proc = subprocess.run([dvc_bin(), *args], cwd=cwd, capture_output=True, text=True, env=environ or env(),
                          timeout=timeout)
    proc.seconds = time.monotonic() - started
    if check and proc.returncode != 0:
        raise AssertionError(f"dvc {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return proc


def stages_run(output: str) -> set[str]:
    """The stages a `dvc repro` executed, from its own 'Running stage' lines."""
    return set(re.findall(r"Running stage '([^']+)'", output))


def stage(cwd: Path, name: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run one stage script directly (as dvc's cmd does)."""
    return subprocess.run([str(cwd / "stages" / "run"), name, *args], cwd=cwd, capture_output=True, text=True,
                          env=env(), timeout=timeout)
