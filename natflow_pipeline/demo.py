"""``python -m natflow_pipeline.demo``: materialize the embedded sample days and print the
per-team NAT cost table of each day. Runs offline: flow logs, IPAM and ip-ranges come from data/."""

from __future__ import annotations

import argparse
import json
import tempfile
import warnings
from datetime import date
from pathlib import Path

import dagster as dg
import polars as pl

from natflow_pipeline import tables
from natflow_pipeline.dashboard.publish import DASHBOARD_FILE, reports_location
from natflow_pipeline.paths import DATA_DIR
from natflow_pipeline.resources.warehouse import WarehouseResource

# raw_flow_logs is an observable source asset, a Dagster beta API; its warning is noise here.
# Importing the definitions emits it, so the filter must come before that import.
warnings.filterwarnings("ignore", category=dg.BetaWarning)

from natflow_pipeline.definitions import defs  # noqa: E402 (must follow the filter above)


def sample_days() -> list[str]:
    """The days the embedded generator wrote (from its ground truth file)."""
    truth = json.loads((DATA_DIR / "ground_truth.json").read_text())
    return sorted(truth["days"])


#: The demo prints tables, not Dagster's event log; warnings and errors still show.
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def materialize_days(
    days: list[str], resources: dict[str, object] | None = None, run_config: dict | None = None
) -> None:
    """Materialize every asset of the graph for each day, one run per day, as the UI would."""
    assets = [a for a in defs.assets if isinstance(a, dg.AssetsDefinition)]
    base = dict(defs.resources)
    base.update(resources or {})
    with tempfile.TemporaryDirectory() as home, dg.instance_for_test(temp_dir=home) as instance:
        for day in days:
            result = dg.materialize(
                assets,
                partition_key=day,
                resources=base,
                instance=instance,
                raise_on_error=True,
                run_config=run_config,
            )
            assert result.success, f"materializing {day} failed"


def team_table(warehouse: WarehouseResource, day: str) -> pl.DataFrame:
    costs = warehouse.get().read_day(tables.TEAM_DAILY_COSTS, date.fromisoformat(day))
    return (
        costs.group_by("team")
        .agg(
            pl.col("bytes").sum(),
            pl.col("gb").sum().round(3),
            pl.col("data_processing_usd").sum().round(4),
            pl.col("hourly_usd").sum().round(4),
            pl.col("total_usd").sum().round(4),
        )
        .sort("total_usd", descending=True)
    )


def reconciliation_table(warehouse: WarehouseResource, day: str) -> pl.DataFrame:
    """The day's flow-log NAT GB against what Cost Explorer billed (the offline file by default)."""
    table = warehouse.get().read_day(tables.NAT_COST_RECONCILIATION, date.fromisoformat(day))
    return table.select(
        "account_id",
        "region",
        pl.col("flow_log_gb").round(4),
        pl.col("cost_explorer_gb").round(4),
        pl.col("difference_pct").round(6),
        "estimated",
        "status",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("days", nargs="*", help="YYYY-MM-DD (default: the embedded sample days)")
    args = parser.parse_args()
    days = args.days or sample_days()
    materialize_days(days, run_config=QUIET)
    warehouse = defs.resources["warehouse"]
    with pl.Config(
        tbl_rows=50, tbl_hide_dataframe_shape=True, thousands_separator=True, tbl_cols=10
    ):
        for day in days:
            table = team_table(warehouse, day)
            print(f"\nNAT cost by team, {day} (UTC); warehouse: {warehouse.uri}")
            print(table)
            print(f"total: {table['bytes'].sum():,} bytes, ${table['total_usd'].sum():,.4f}")
            print(
                f"reconciliation with Cost Explorer, {day} "
                f"(GB = {defs.resources['pricing'].billing_gb_bytes:,} bytes)"
            )
            print(reconciliation_table(warehouse, day))
    dashboard = (
        Path(reports_location(defs.resources["insights"].reports_uri, warehouse.uri))
        / DASHBOARD_FILE
    )
    if dashboard.exists():
        print(f"\ndashboard: {dashboard.resolve()}")


if __name__ == "__main__":
    main()
