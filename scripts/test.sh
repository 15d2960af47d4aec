#!/usr/bin/env bash
# Install, then run the whole test suite. Tests start the services they need themselves
# (moto S3/Cost Explorer, a local HTTP server, NetBox, dagster dev) and stop them afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
# The dashboard test renders in a real headless Chromium (Debian package; installed when missing).
bash scripts/install_chromium.sh
exec .venv/bin/pytest "$@"
