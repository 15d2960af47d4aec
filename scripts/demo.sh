#!/usr/bin/env bash
# Install, then materialize the embedded sample days and print each day's per-team NAT cost table.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/python -m natflow_pipeline.demo "$@"
