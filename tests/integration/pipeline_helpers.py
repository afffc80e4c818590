"""Running DVC on a fresh copy of the project, as a user's clone would."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from filelock import FileLock

from r1.training.throughput import MACHINE_DEPENDENT

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


# The embedded default at test size: the same stages, code and settings, on fewer problems and
# steps. The committed default takes ~5 minutes (a 400-problem benchmark scored four times, a
# teacher trained for 800 steps); the tests of DVC's behaviour (queues, kills, exp run, Slurm,
# S3) need the graph, not the scores. test_pipeline.py runs the committed default itself.
TEST_SIZE = {
    "embedded": {"num_math_problems": 96, "benchmark_size": 32, "validation_size": 32, "solver_traces": 256,
                 "teacher_training": {"max_steps": 20}},
    # A teacher trained for 20 steps solves nothing: keep its traces, as a recipe's first trial would.
    "filter": {"keep": "all", "include_min": True},
    "sft": {"max_steps": 20, "save_steps": 10},
    "grpo": {"max_steps": 4, "per_device_train_batch_size": 16, "save_steps": 2},
}


def at_test_size(params: dict) -> dict:
    """``params`` (a parsed params.yaml) with TEST_SIZE's values set."""
    for section, values in TEST_SIZE.items():
        for key, value in values.items():
            if isinstance(value, dict):
                params[section][key] = {**(params[section].get(key) or {}), **value}
            else:
                params[section][key] = value
    return params


def fresh_copy(dest: Path, *, full_size: bool = False) -> Path:
    """The committed-or-staged project files (what a clone would hold), as a new git repo;
    its params.yaml is the embedded default at TEST_SIZE unless ``full_size``."""
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
    if not full_size:
        params = dest / "params.yaml"
        params.write_text(yaml.safe_dump(at_test_size(yaml.safe_load(params.read_text())), sort_keys=False))
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


@contextlib.contextmanager
def params_changed(project, section: str, **values):
    """params.yaml with ``values`` set in ``section``; the committed state comes back after."""
    path = project / "params.yaml"
    params = yaml.safe_load(path.read_text())
    params[section].update(values)
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    try:
        yield
    finally:
        (project / ".dvc" / "tmp" / "rwlock").unlink(missing_ok=True)
        git(project, "checkout", "--", "params.yaml", "dvc.lock", "metrics", "plots", "reports")
        # --allow-missing: a project trained only part of the way (conftest's trained_project)
        # has no outputs for the later stages that the committed dvc.lock names.
        dvc(project, "checkout", "--force", "--allow-missing")


# Two runs of an evaluation that sample differently are two independent estimates of one
# pass@1, each with standard error s: their difference has standard error sqrt(2)*s, and 95% of
# such differences lie within 1.96*sqrt(2)*s. Two of those standard errors (2*sqrt(2)*s, 7 points
# for a 400-problem score near 50%) is the tolerance: far tighter than the ladder's gaps (teacher
# to sft, sft to base: over 10 points), so a reproduction that lost a stage's effect fails.
SCORE_TOLERANCE_IN_STDERRS = 2 * 2**0.5


def close(old, new, where, rel=0.02):
    """Two runs' results agree: counts and strings exactly, numbers within ``rel``, evaluation
    scores within SCORE_TOLERANCE_IN_STDERRS standard errors (at least one sample); machine
    figures (time, memory) are skipped."""
    if isinstance(old, dict):
        assert set(old) == set(new), where
        stderr = max(old.get("stderr") or 0, 1 / max(old.get("num_samples") or 1, 1))
        for k in old:
            if k.endswith(("seconds", "_per_second")) or k in MACHINE_DEPENDENT:
                continue  # wall time, MFU and peak memory are properties of the machine, not results
            if k == "score":
                assert abs(old[k] - new[k]) <= SCORE_TOLERANCE_IN_STDERRS * stderr + 1e-9, (where, k, old[k], new[k])
            else:
                close(old[k], new[k], f"{where}:{k}", rel)
    elif isinstance(old, bool) or isinstance(old, str) or old is None:
        assert old == new, where
    elif isinstance(old, int) and isinstance(new, int):
        assert old == new, where
    elif isinstance(old, int | float):
        assert abs(old - new) <= max(rel * abs(old), rel / 20), (where, old, new)
    elif isinstance(old, list):
        assert len(old) == len(new), where
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            close(a, b, f"{where}[{i}]", rel)


def one_ray_cluster_at_a_time() -> FileLock:
    """A lock held while a test's Ray cluster is up. Ray's head takes the port it is given,
    but its other services (client server, dashboard agent, ...) listen on fixed default ports,
    so a second cluster started beside it, by the other pytest-xdist worker, cannot connect."""
    return FileLock(str(Path(tempfile.gettempdir()) / "r1-tests-ray-cluster.lock"))
