#!/usr/bin/env bash
# Debian's Chromium, for tests/integration/test_plots_offline.py (a headless browser opens the
# offline plots page). Installed only when this runs as root with apt-get; otherwise, or when
# apt fails, it says so and that test is skipped with the reason. It never fails the caller.
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "note: chromium is not installed and this is not root with apt-get: the browser test of the plots will be skipped" >&2
  echo "      (install it with: apt-get install chromium)" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
install() { apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1; }
install || { apt-get update -q >/dev/null 2>&1 && install; } \
  || echo "warning: apt-get could not install chromium: the browser test of the plots will be skipped" >&2
exit 0
