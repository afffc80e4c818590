import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _share_the_cores_between_workers() -> None:
    """Under pytest-xdist (scripts/test.sh runs `-n 2`) each worker, and the stages it starts,
    gets its share of the cores: torch's default of one thread per core in every worker
    oversubscribes them, and OpenMP threads spinning for a busy core slow every worker down."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 1)
    if workers > 1 and "OMP_NUM_THREADS" not in os.environ:
        os.environ["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // workers))


_share_the_cores_between_workers()

# Integration modules whose tests are independent of each other: the workers share out their
# tests one by one, each worker building its own copy of a module fixture. Every other
# integration module shares one project, cluster or server whose state its tests build on,
# so all its tests run in one worker, in file order. Unit tests are shared out one by one.
SPREAD_MODULES = {"test_bad_input", "test_recipes_cpu", "test_sandbox_security", "test_competitive_judging"}


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist, which a plain `pytest` may lack
def pytest_xdist_make_scheduler(config, log):
    """pytest-xdist's scheduling by scope, with this project's scopes. (Not `--dist loadgroup`
    with marks: xdist 3.8 groups by rewriting `item._nodeid`, which pytest 9.2 no longer reads.)"""
    from xdist.scheduler import LoadScopeScheduling

    class ModulesThatShareStateTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            if "/integration/" in module and Path(module).stem not in SPREAD_MODULES:
                return module
            return nodeid

    return ModulesThatShareStateTogether(config, log)


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
