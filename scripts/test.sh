#!/usr/bin/env bash
# The test suite (unit + integration). GPU tests are collected and skipped without a GPU.
# The code sandbox needs bubblewrap; it is installed here when missing and apt is usable.
R1_SYNC_ARGS="--extra code --extra ray ${R1_SYNC_ARGS:-}"
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
if ! command -v bwrap >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  (apt-get install -y -q bubblewrap >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q bubblewrap >/dev/null; })
fi
uv run --frozen --no-sync pytest "${@:-tests}"
