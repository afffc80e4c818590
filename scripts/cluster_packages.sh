#!/usr/bin/env bash
# System packages for the cluster tests: Debian's Slurm (slurm-wlm) and munge, which
# tests/integration/test_slurm.py starts on loopback. Installed only when this runs as root
# with apt-get; otherwise, or when apt fails (no network), it says so and the Slurm tests
# are skipped with that reason. It never fails the caller.
if command -v slurmctld >/dev/null 2>&1 && command -v slurmd >/dev/null 2>&1 && command -v sbatch >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "note: Slurm is not installed and this is not root with apt-get: the Slurm tests will be skipped" >&2
  echo "      (install it with: apt-get install slurm-wlm munge)" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
install() { apt-get install -y -q --no-install-recommends slurm-wlm munge >/dev/null 2>&1; }
install || { apt-get update -q >/dev/null 2>&1 && install; } \
  || echo "warning: apt-get could not install slurm-wlm and munge: the Slurm tests will be skipped" >&2
exit 0
