#!/usr/bin/env bash
# The test suite (unit + integration). GPU tests are collected and skipped without a GPU.
R1_SYNC_ARGS="--extra code --extra ray --extra peft ${R1_SYNC_ARGS:-}"
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
uv run --frozen --no-sync pytest "${@:-tests}"
