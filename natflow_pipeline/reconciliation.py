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


# -- Transit Gateway bytes and inter-AZ transfer: the share of the bill the flow logs explain ----

#: The charges ``coverage`` reconciles (natflow_pipeline.cost_explorer: TGW, INTER_AZ).
COVERAGE_SCHEMA: dict[str, pl.DataType] = {
    "usage_date": pl.Date,
    "charge": pl.String,  # tgw | inter_az
    "account_id": pl.String,  # the account billed (Cost Explorer's LINKED_ACCOUNT)
    "region": pl.String,
    "flow_log_bytes": pl.Int64,
    "flow_log_gb": pl.Float64,
    "cost_explorer_gb": pl.Float64,
    "cost_explorer_usd": pl.Float64,
    "covered_pct": pl.Float64,  # flow_log_gb / cost_explorer_gb x 100; null: nothing billed
    "estimated": pl.Boolean,
    "status": pl.String,
    "billing_gb_bytes": pl.Int64,
}


def tgw_flow_bytes(network: pl.DataFrame, nat_costs: pl.DataFrame) -> pl.DataFrame:
    """TGW bytes the NAT flow logs see, per billed account and region.

    ``network``: team_daily_network_costs rows. A row's ``tgw_bytes`` (client -> NAT) is sent
    into the TGW by the client VPC's attachment: billed to ``source_account_id``. The return
    traffic of the workload rows (``nat_bytes - egress_bytes``) enters the TGW from the egress
    VPC's attachment: billed to the NAT gateway's account, which ``nat_costs`` (team_daily_costs:
    team, source_account_id, region, account_id, bytes) gives, split by NAT bytes when a team's
    traffic used gateways of two accounts.
    """
    sent = network.filter(pl.col("tgw_bytes").is_not_null()).select(
        pl.col("source_account_id").alias("account_id"),
        "region",
        pl.col("tgw_bytes").cast(pl.Float64).alias("bytes"),
    )
    workload = network.filter(pl.col("tgw_state") == "workload")
    back = _to_nat_accounts(workload, pl.col("nat_bytes") - pl.col("egress_bytes"), nat_costs)
    return _by_account_region(pl.concat([sent, back]))


def inter_az_flow_bytes(network: pl.DataFrame, nat_costs: pl.DataFrame) -> pl.DataFrame | None:
    """Inter-AZ bytes the flow logs see per billed account and region, or ``None`` when
    team_daily_network_costs has no ``cross_az_bytes`` column (not computed).

    A byte crossing AZs is billed twice (out of one AZ, into the other): once in the client's
    account (``source_account_id``) and once in the NAT gateway's (from ``nat_costs``, as for the
    TGW return traffic). ``cross_az_bytes`` counts both directions, so each side bills all of it.
    """
    if "cross_az_bytes" not in network.columns:
        return None
    crossing = network.filter(pl.col("cross_az_bytes").is_not_null())
    client = crossing.select(
        pl.col("source_account_id").alias("account_id"),
        "region",
        pl.col("cross_az_bytes").cast(pl.Float64).alias("bytes"),
    )
    nat_side = _to_nat_accounts(crossing, pl.col("cross_az_bytes"), nat_costs)
    return _by_account_region(pl.concat([client, nat_side]))


def _to_nat_accounts(rows: pl.DataFrame, value: pl.Expr, nat_costs: pl.DataFrame) -> pl.DataFrame:
    """``value`` of each (team, source account, region) of ``rows``, billed to the NAT gateways'
    accounts that carried the team's traffic (split by their NAT bytes): account_id, region,
    bytes."""
    keys = ["team", "source_account_id", "region"]
    summed = rows.group_by(keys).agg(value.sum().cast(pl.Float64).alias("_value"))
    gateways = (
        nat_costs.group_by([*keys, "account_id"])
        .agg(pl.col("bytes").sum().alias("_bytes"))
        .with_columns(
            (pl.col("_bytes") / pl.col("_bytes").sum().over(keys)).fill_nan(0.0).alias("_share")
        )
    )
    return summed.join(gateways, on=keys, how="inner", nulls_equal=True).select(
        "account_id", "region", (pl.col("_value") * pl.col("_share")).alias("bytes")
    )


def _by_account_region(rows: pl.DataFrame) -> pl.DataFrame:
    return (
        rows.filter(pl.col("account_id").is_not_null())
        .group_by(KEYS)
        .agg(pl.col("bytes").sum().round().cast(pl.Int64))
        .sort(KEYS)
    )


def coverage(
    day: date,
    charge: str,
    flow_bytes: pl.DataFrame,
    cost_explorer: pl.DataFrame,
    estimated: bool,
    billing_gb_bytes: int,
    tolerance: Tolerance,
    today: date,
) -> pl.DataFrame:
    """One row per account x region on either side: the share of the billed GB the flow logs
    explain. The flow logs of a NAT gateway see only the traffic that reaches it, so less than
    the bill is expected: PASS when they explain it all (within tolerance), WARN when they explain
    a share of it (or while the day is provisional), ERROR only when they exceed the bill beyond
    tolerance on a final day (bytes counted that AWS did not charge: a rule or an account is
    wrong).

    ``flow_bytes``: account_id, region, bytes. ``cost_explorer``: account_id, region,
    usage_quantity (GB), unblended_cost, of this charge's usage types.
    """
    billed = cost_explorer.group_by(KEYS).agg(
        pl.col("usage_quantity").sum().alias("cost_explorer_gb"),
        pl.col("unblended_cost").sum().alias("cost_explorer_usd"),
    )
    joined = (
        flow_bytes.rename({"bytes": "flow_log_bytes"})
        .join(billed, on=KEYS, how="full", coalesce=True)
        .with_columns(pl.col("flow_log_bytes").fill_null(0))
    )
    flow_gb = pl.col("flow_log_bytes") / billing_gb_bytes
    bill = pl.col("cost_explorer_gb").fill_null(0.0)
    allowed = pl.max_horizontal(bill * tolerance.relative, pl.lit(tolerance.absolute_gb))
    status = (
        pl.when(pl.lit(is_provisional(day, estimated, tolerance, today)))
        .then(pl.lit("WARN"))
        .when(flow_gb - bill > allowed)
        .then(pl.lit("ERROR"))
        .when(bill - flow_gb <= allowed)
        .then(pl.lit("PASS"))
        .otherwise(pl.lit("WARN"))
    )
    return (
        joined.with_columns(
            pl.lit(day).alias("usage_date"),
            pl.lit(charge).alias("charge"),
            flow_gb.alias("flow_log_gb"),
            pl.when(pl.col("cost_explorer_gb") > 0)
            .then(flow_gb / pl.col("cost_explorer_gb") * 100)
            .alias("covered_pct"),
            pl.lit(estimated).alias("estimated"),
            status.alias("status"),
            pl.lit(billing_gb_bytes).alias("billing_gb_bytes"),
        )
        .select(list(COVERAGE_SCHEMA))
        .cast(COVERAGE_SCHEMA)
        .sort(KEYS)
    )
