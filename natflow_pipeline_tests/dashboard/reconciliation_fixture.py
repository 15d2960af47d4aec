"""TEST FIXTURE, not pipeline output: a small ``nat_cost_reconciliation`` table in the shape the
Cost Explorer reconciliation writes (usage_date, account_id, region, flow_log_gb, cost_explorer_gb,
difference_gb, difference_pct, estimated, status, billing_gb_bytes), so the dashboard's
"reconciled" path is exercised before that part of the pipeline exists on this branch.

The rows are realistic: flow-log GB is the day's real NAT GB from the sample warehouse; the
"Cost Explorer" GB is that figure nudged by a small stated difference per day.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from natflow_pipeline.warehouse import Warehouse

#: day -> (relative difference of the billed usage, estimated, status); days absent stay
#: unreconciled.
FIXTURE_DAYS: dict[str, tuple[float, bool, str]] = {
    "2026-11-01": (0.0004, False, "PASS"),
    "2026-11-02": (0.0082, True, "WARN"),
}


def write_reconciliation_fixture(
    store: Warehouse, days: dict[str, tuple[float, bool, str]] = FIXTURE_DAYS
) -> pl.DataFrame:
    written = []
    for day, (difference, estimated, status) in days.items():
        usage = (
            store.read_partition("team_daily_costs", "usage_date", date.fromisoformat(day))
            .group_by("usage_date", "account_id", "region")
            .agg(pl.col("gb").sum().alias("flow_log_gb"))
            .with_columns((pl.col("flow_log_gb") * (1 + difference)).alias("cost_explorer_gb"))
            .with_columns(
                (pl.col("cost_explorer_gb") - pl.col("flow_log_gb")).alias("difference_gb"),
                pl.lit(difference * 100).alias("difference_pct"),
                pl.lit(estimated).alias("estimated"),
                pl.lit(status).alias("status"),
                pl.lit(2**30, dtype=pl.Int64).alias("billing_gb_bytes"),
            )
        )
        store.write_partition(
            "nat_cost_reconciliation", usage, "usage_date", date.fromisoformat(day)
        )
        written.append(usage)
    return pl.concat(written)
