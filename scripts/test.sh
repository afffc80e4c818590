#!/usr/bin/env bash
# The test suite (unit + integration). GPU tests are collected and skipped without a GPU.
R1_SYNC_ARGS="--extra code --extra ray --extra peft ${R1_SYNC_ARGS:-}"
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
bash scripts/cluster_packages.sh  # Slurm for tests/integration/test_slurm.py (root + apt only)
bash scripts/browser_packages.sh  # Chromium for tests/integration/test_plots_offline.py (root + apt only)
# Two workers (pytest-xdist), CI's two cores: much of a stage's time is one-threaded (imports,
# DVC, generation), so a second worker uses the core the first leaves idle. R1_TEST_WORKERS=0
# runs in one process; tests/conftest.py says which tests share a worker.
uv run --frozen --no-sync pytest -n "${R1_TEST_WORKERS:-2}" --dist loadscope "${@:-tests}"
