#!/usr/bin/env bash
# The main job: build the environment, run the whole pipeline, print the metrics.
# On a fresh clone this runs the embedded default (a few minutes on a 2-core CPU).
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
dvc repro "$@"
# The training curves, drawn offline: SVGs in reports/plots/ and dvc_plots/index.html with the
# Vega libraries inlined (DVC's own page loads them from a CDN). Not a DVC stage: see r1.plots.
uv run --frozen --no-sync python -m r1.plots
echo
uv run --frozen --no-sync python -m r1.report metrics/eval
