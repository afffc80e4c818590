#!/usr/bin/env bash
# The main job: build the environment, run the whole pipeline, print the metrics.
# On a fresh clone this runs the embedded default (a few minutes on a 2-core CPU).
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
dvc repro "$@"
echo
uv run --frozen --no-sync python -m r1.report metrics/eval
