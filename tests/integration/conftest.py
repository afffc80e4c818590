"""A fresh copy of the project with the pipeline run up to the training data, shared by the
tests that need training inputs (multi-process training, Slurm, the S3 remote): generating
them takes a minute or more on 2 cores, so it is done once per session and copied; the same
project trained through grpo, for the tests of killed training runs and experiment queues."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from filelock import FileLock
from pipeline_helpers import dvc, fresh_copy, git

BUILT_STAGES = ("embedded", "base", "benchmark-file@embedded_math")
PREPARED_STAGES = ("sft-data@student", "grpo-data@student", "base")

def _built_once(tmp_path_factory, name: str, build) -> Path:
    """``build(path)`` once per test session, shared by every pytest-xdist worker (a file lock
    in the session's common folder): the projects below take minutes on 2 cores, and the
    modules that use them only copy them."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the session's folder, above each worker's own
    path, done = root / name, root / f"{name}.done"
    with FileLock(str(root / f"{name}.lock")):
        if not done.exists():
            shutil.rmtree(path, ignore_errors=True)  # what a failed build in another worker left
            build(path)
            done.touch()
    return path


def _build(path: Path) -> None:
    fresh_copy(path)
    dvc(path, "repro", *BUILT_STAGES)
    git(path, "add", "-A")
    git(path, "commit", "-qm", "embedded model, base and benchmark built")


@pytest.fixture(scope="session")
def built_project(tmp_path_factory) -> Path:
    """A fresh clone with the embedded model, the pinned base and the benchmark built: what
    most integration modules start from (each in a copy)."""
    return _built_once(tmp_path_factory, "built", _build)


@pytest.fixture(scope="session")
def prepared_project(built_project, tmp_path_factory) -> Path:
    def prepare(path: Path) -> None:
        copy_of(built_project, path)
        dvc(path, "repro", *PREPARED_STAGES)
        git(path, "add", "-A")
        git(path, "commit", "-qm", "training inputs")

    return _built_once(tmp_path_factory, "prepared", prepare)


@pytest.fixture(scope="session")
def trained_project(prepared_project, tmp_path_factory) -> Path:
    """The prepared project trained through grpo (no evaluation), committed: what the tests
    of killed training runs and of experiment queues start from."""

    def train(path: Path) -> None:
        copy_of(prepared_project, path)
        dvc(path, "repro", "grpo@student")
        git(path, "add", "-A")
        git(path, "commit", "-qm", "trained")

    return _built_once(tmp_path_factory, "trained", train)


def copy_of(prepared: Path, dest: Path) -> Path:
    """Another machine's checkout of the prepared project, with its own DVC cache."""
    shutil.copytree(prepared, dest, symlinks=True)
    dvc(dest, "config", "--local", "core.site_cache_dir", str(dest / ".dvc-site-cache"))
    return dest
