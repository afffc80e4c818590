import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


def shared_benchmarks() -> Path | None:
    """`../shared/data/benchmarks` beside the checkout, present on the team's machines only
    (`R1_SHARED_BENCHMARKS` names it for a checkout elsewhere, such as a git worktree)."""
    path = Path(os.environ.get("R1_SHARED_BENCHMARKS") or ROOT.parent / "shared/data/benchmarks")
    return path if path.is_dir() else None


@pytest.fixture(scope="session")
def shared_benchmarks_dir() -> Path | None:
    """`shared_benchmarks()` as a fixture: test modules cannot import it from `conftest`, a
    name that tests/integration/conftest.py also has."""
    return shared_benchmarks()
