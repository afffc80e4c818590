# Sourced by scripts/repro.sh and scripts/test.sh: installs what the project needs, once.
#   - uv (pinned), which builds the locked ML environment in .venv from uv.lock;
#   - DVC (pinned, with dvc-s3) as a separate uv tool, outside the ML environment, because
#     dvc's hydra pins antlr 4.9 while lighteval's latex2sympy2_extended needs antlr 4.13.
# Extra arguments for `uv sync` come from R1_SYNC_ARGS (e.g. "--extra gpu" on a GPU node).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
UV_VERSION=0.13.8
DVC_VERSION=3.67.1
DVC_S3_VERSION=3.3.0
export PATH="$HOME/.local/bin:$PATH"
if ! command -v uv >/dev/null 2>&1 || [ "$(uv --version | cut -d' ' -f2)" != "$UV_VERSION" ]; then
  python3 -m pip install --quiet --user --disable-pip-version-check "uv==$UV_VERSION" 2>/dev/null \
    || python3 -m pip install --quiet --user --break-system-packages --disable-pip-version-check "uv==$UV_VERSION"
fi
# --inexact: keep extras another command installed (test.sh adds some); all pins still hold.
# --compile-bytecode: every stage is a fresh process that imports torch, transformers and
# lighteval (~6000 modules). Where PYTHONDONTWRITEBYTECODE is set (CI machines, many
# containers) Python never caches what it compiles, so each stage recompiled them all: an
# evaluate stage's imports took 30 s instead of 12. Compiling at install costs ~45 s once;
# later syncs only check the files (2 s).
# shellcheck disable=SC2086
uv sync --frozen --inexact --compile-bytecode ${R1_SYNC_ARGS:-}
if ! command -v dvc >/dev/null 2>&1 || [ "$(dvc --version 2>/dev/null)" != "$DVC_VERSION" ]; then
  uv tool install --quiet --force --compile-bytecode "dvc==$DVC_VERSION" --with "dvc-s3==$DVC_S3_VERSION"
fi
export PATH="$(uv tool dir --bin):$PATH"
# The local code sandbox (filter stage, code rewards) runs untrusted programs in bubblewrap.
if ! command -v bwrap >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get install -y -q bubblewrap >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null && apt-get install -y -q bubblewrap >/dev/null; }
  else
    echo "warning: bubblewrap (bwrap) is not installed; the code sandbox will refuse to run." >&2
    echo "         install it with your package manager (Debian/Ubuntu: apt-get install bubblewrap)" >&2
  fi
fi
