#!/usr/bin/env bash
# Install, then run the whole test suite. Tests start the services they need themselves
# (moto S3/Cost Explorer, a local HTTP server, NetBox, dagster dev) and stop them afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
# The dashboard test renders in a real headless Chromium (Debian package; installed when missing).
bash scripts/install_chromium.sh
# Lint before the tests (configured in pyproject.toml): a formatting or lint finding fails fast.
.venv/bin/ruff format --check --quiet .
.venv/bin/ruff check --quiet .
exec .venv/bin/pytest "$@"
