"""Generated days across two months, materialized once per test session: October 2026 (31 days,
the month the dashboard must stay readable over) and 2026-11-01..2026-11-05 (the month the report
compares with October).

The daily partitions start at ``NATFLOW_START_DATE`` (2026-11-01 by default), read when the
definitions are imported, so October is materialized in a child process whose environment starts
the partitions on 2026-10-01 (``python -m natflow_pipeline_tests.generated_months ROOT``). Volume:
300 connections a day (as the backfill test), enough for every NAT interface to have records every
hour (the blocking completeness check); 36 days take 95-105 s on a 2-core machine (3 min when it
is busy), nearly all of it Dagster's per-run overhead (about 2.6 s a day).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from natflow_pipeline.resources.warehouse import WarehouseResource

FIRST_DAY = date(2026, 10, 1)
DAY_COUNT = 36  # 2026-10-01 .. 2026-11-05
DAYS = [(FIRST_DAY + timedelta(days=n)).isoformat() for n in range(DAY_COUNT)]
OCTOBER = [d for d in DAYS if d.startswith("2026-10")]
NOVEMBER = [d for d in DAYS if d.startswith("2026-11")]
CONNECTIONS_PER_DAY = 300
SEED = 23
TIMEOUT_S = 900

_built: dict[Path, tuple[WarehouseResource, float]] = {}


def generated_months(tmp_path_factory: pytest.TempPathFactory) -> WarehouseResource:
    """The warehouse of :data:`DAYS`, built on first use and shared by every test of the session
    (the dashboard's month test and the report's)."""
    root = tmp_path_factory.getbasetemp() / "generated-months"
    if root not in _built:
        started = time.perf_counter()
        root.mkdir()
        completed = subprocess.run(
            [sys.executable, "-m", "natflow_pipeline_tests.generated_months", str(root)],
            env={**os.environ, "NATFLOW_START_DATE": DAYS[0]},
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
        )
        assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-4000:]
        elapsed = time.perf_counter() - started
        print(f"generated and materialized {DAY_COUNT} days in {elapsed:.0f} s")
        _built[root] = (WarehouseResource(uri=str(root / "warehouse")), elapsed)
    return _built[root][0]


def build(root: Path) -> None:
    """Generate :data:`DAYS` under ``root`` and materialize every asset of each into
    ``root/warehouse`` (run in a process whose partitions start on ``DAYS[0]``)."""
    from natflow_pipeline.demo import QUIET, materialize_days
    from natflow_pipeline.paths import DEFAULT_IP_RANGES
    from natflow_pipeline.resources.cost_explorer import CostExplorerResource
    from natflow_pipeline.resources.flow_logs import FlowLogSource
    from natflow_pipeline.resources.reference import IpamSource, IpRangesSource
    from natflow_pipeline.sample_data.generator import generate

    generate(root, DEFAULT_IP_RANGES, FIRST_DAY, DAY_COUNT, CONNECTIONS_PER_DAY, SEED)
    materialize_days(
        DAYS,
        {
            "warehouse": WarehouseResource(uri=str(root / "warehouse")),
            "flow_logs": FlowLogSource(uri=str(root / "flowlogs")),
            "ipam": IpamSource(export_path=str(root / "ipam" / "netbox-export.json")),
            "ip_ranges": IpRangesSource(url=str(DEFAULT_IP_RANGES)),
            "cost_explorer": CostExplorerResource(
                file_path=str(root / "cost_explorer" / "nat-usage.json")
            ),
        },
        run_config=QUIET,
    )


if __name__ == "__main__":
    build(Path(sys.argv[1]))
