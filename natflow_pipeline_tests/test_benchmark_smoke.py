"""The benchmark script runs end to end on a tiny day (it is never timed here: speed lives in
benchmarks/, not in unit tests). It also proves DuckDB's job agrees with natflow's, since the
script exits non-zero when their per-team totals differ."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_benchmark_runs_on_a_tiny_day_and_prints_its_summary_line(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "run.py"),
            "--rows",
            "4000",
            "--repeats",
            "1",
            "--cache",
            str(tmp_path),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    last = done.stdout.strip().splitlines()[-1]
    pattern = (
        r"rows=(\d+) natflow_rows_per_s=\d+ duckdb_rows_per_s=\d+ "
        r"ratio_vs_duckdb=[\d.]+ ratio_vs_floor=[\d.]+ "
        r"reattribution_speedup=[\d.]+ peak_rss_mb=\d+"
    )
    match = re.fullmatch(pattern, last)
    assert match, last
    assert int(match[1]) > 3000  # every generated row was read and counted
    assert "equal natflow's exactly" in done.stdout
