"""A fresh copy of the project with the pipeline run up to the training data, shared by the
tests that need training inputs (multi-process training, Slurm, the S3 remote): generating
them takes a minute or more on 2 cores, so it is done once per session and copied."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pipeline_helpers import dvc, fresh_copy, git

PREPARED_STAGES = ("sft-data@student", "grpo-data@student", "base")


@pytest.fixture(scope="session")
def prepared_project(tmp_path_factory) -> Path:
    path = fresh_copy(tmp_path_factory.mktemp("prepared"))
    dvc(path, "repro", *PREPARED_STAGES)
    git(path, "add", "-A")
    git(path, "commit", "-qm", "training inputs")
    return path


def copy_of(prepared: Path, dest: Path) -> Path:
    """Another machine's checkout of the prepared project, with its own DVC cache."""
    shutil.copytree(prepared, dest, symlinks=True)
    dvc(dest, "config", "--local", "core.site_cache_dir", str(dest / ".dvc-site-cache"))
    return dest
