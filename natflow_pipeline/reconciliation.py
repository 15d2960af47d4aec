"""Flow-log NAT bytes against Cost Explorer's billed NAT usage, per day, account and region.

Both sides count the same thing: every byte the NAT gateway processed, in both directions, billed
in the gateway's own account and region. The flow-log side is converted to billed GB with the
configured ``billing_gb_bytes``, so a wrong GB definition shows here as a 7.4% gap on every day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

import polars as pl

Status = Literal["PASS", "WARN", "ERROR"]
STATUS_ORDER: dict[str, int] = {"PASS": 0, "WARN": 1, "ERROR": 2}

SCHEMA: dict[str, pl.DataType] = {
    "usage_date": pl.Date,
    "account_id": pl.String,
    "region": pl.String,
    "flow_log_gb": pl.Float64,
    "cost_explorer_gb": pl.Float64,
    "difference_gb": pl.Float64,
    "difference_pct": pl.Float64,
    "estimated": pl.Boolean,
    "status": pl.String,
    "billing_gb_bytes": pl.Int64,
    "flow_log_bytes": pl.Int64,
    "cost_explorer_usd": pl.Float64,
}
KEYS = ["account_id", "region"]


@dataclass(frozen=True)
class Tolerance:
    """When two numbers agree, and when a day is final enough to call a gap an error.

    ``relative``: allowed |difference| as a fraction of Cost Explorer's GB (0.01 = 1%).
    ``absolute_gb``: a floor, so a gateway with a few kilobytes of usage is not a 100% miss.
    ``lag_days``: a day younger than this (against ``today``) is still being billed: WARN, not
    ERROR.
    """

    relative: float = 0.01
    absolute_gb: float = 0.001
    lag_days: int = 2


def reconcile(
    day: date,
    flow_bytes: pl.DataFrame,
    cost_explorer: pl.DataFrame,
    estimated: bool,
    billing_gb_bytes: int,
    tolerance: Tolerance,
    today: date,
) -> pl.DataFrame:
    """One row per account x region present on either side.

    ``flow_bytes``: account_id, region, bytes (NAT bytes from the flow logs, the gateway's
    account). ``cost_explorer``: account_id, region, usage_quantity (GB), unblended_cost.
    ``estimated``: Cost Explorer marked the day estimated (or has not reported it yet).
    """
    flow = flow_bytes.group_by(KEYS).agg(
        pl.col("bytes").sum().cast(pl.Int64).alias("flow_log_bytes")
    )
    billed = cost_explorer.group_by(KEYS).agg(
        pl.col("usage_quantity").sum().alias("cost_explorer_gb"),
        pl.col("unblended_cost").sum().alias("cost_explorer_usd"),
    )
    provisional = is_provisional(day, estimated, tolerance, today)
    joined = flow.join(billed, on=KEYS, how="full", coalesce=True).with_columns(
        pl.col("flow_log_bytes").fill_null(0)
    )
    flow_gb = pl.col("flow_log_bytes") / billing_gb_bytes
    difference = flow_gb - pl.col("cost_explorer_gb").fill_null(0.0)
    allowed = pl.max_horizontal(
        pl.col("cost_explorer_gb").fill_null(0.0) * tolerance.relative,
        pl.lit(tolerance.absolute_gb),
    )
    status = (
        pl.when(pl.lit(provisional))
        .then(pl.lit("WARN"))
        .when(difference.abs() <= allowed)
        .then(pl.lit("PASS"))
        .otherwise(pl.lit("ERROR"))
    )
    return (
        joined.with_columns(
            pl.lit(day).alias("usage_date"),
            flow_gb.alias("flow_log_gb"),
            difference.alias("difference_gb"),
            pl.when(pl.col("cost_explorer_gb") > 0)
            .then(difference / pl.col("cost_explorer_gb") * 100)
            .alias("difference_pct"),
            pl.lit(estimated).alias("estimated"),
            status.alias("status"),
            pl.lit(billing_gb_bytes).alias("billing_gb_bytes"),
        )
        .select(list(SCHEMA))
        .cast(SCHEMA)
        .sort(KEYS)
    )


def is_provisional(day: date, estimated: bool, tolerance: Tolerance, today: date) -> bool:
    """Cost Explorer may still change the day: it says so, or the day is younger than the lag."""
    return estimated or (today - day).days < tolerance.lag_days


def worst_status(reconciled: pl.DataFrame, provisional: bool = False) -> Status:
    """The day's verdict: the worst row's status. A day with no NAT usage on either side passes
    once final, and warns while provisional (Cost Explorer may not have reported it yet)."""
    if reconciled.is_empty():
        return "WARN" if provisional else "PASS"
    return max(reconciled["status"].to_list(), key=STATUS_ORDER.__getitem__)  # type: ignore[return-value]
