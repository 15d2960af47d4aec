#!/usr/bin/env bash
# Installs natflow and its locked dependencies into .venv (idempotent, a few seconds when done).
# Needs only python3 >= 3.11 with venv and pip; uv itself comes from PyPI at a pinned version.
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION=0.13.9
TOOLS=.cache/uv-$UV_VERSION
if [ ! -x "$TOOLS/bin/uv" ]; then
  python3 -m venv "$TOOLS"
  "$TOOLS/bin/pip" install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi
# --frozen: install exactly what uv.lock says, never re-resolve.
"$TOOLS/bin/uv" sync --frozen --quiet --python "$(command -v python3)"
