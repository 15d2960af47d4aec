"""What the dashboard shows, computed from the Delta tables only (never from the pipeline's memory).

The date range: the days between ``start`` and ``end`` (inclusive, either may be open) on which
``team_daily_costs`` has a partition. Every other table is read for those days; a table (or a day
of it) that is missing is shown as missing, never as zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from natflow_pipeline import report, tables
from natflow_pipeline.ipam import UNATTRIBUTED
from natflow_pipeline.tables import Table
from natflow_pipeline.warehouse import Warehouse

#: Written by the Cost Explorer reconciliation when that part of the pipeline runs; optional here.
NOT_RECONCILED = "not reconciled"
#: An average month (365.25 / 12 = 30.44 days) for projecting a range's mean daily saving.
AVERAGE_MONTH_DAYS = 30.4
TOP_PAIRS_SHOWN = 20


class DashboardError(ValueError):
    """Nothing to render for the requested range."""


@dataclass(frozen=True)
class DashboardData:
    days: list[date]
    costs: pl.DataFrame
    top_talkers: pl.DataFrame | None
    endpoint_savings: pl.DataFrame | None
    reconciliation: pl.DataFrame | None
    #: :func:`natflow_pipeline.report.monthly_summary` of the range's latest month (its days in
    #: the range, against the same days of the month before, or the whole month before when the
    #: range covers the month); ``None`` when not loaded from a warehouse.
    month_summary: pl.DataFrame | None = None
    #: What ``month_summary`` compares (:func:`natflow_pipeline.report.comparison`).
    month_comparison: report.Comparison | None = None
    #: team_daily_network_costs' rows of the range; ``None`` while the table does not exist.
    network_costs: pl.DataFrame | None = None

    @property
    def month(self) -> date:
        """The first day of the range's latest month."""
        return self.last.replace(day=1)

    @property
    def first(self) -> date:
        return self.days[0]

    @property
    def last(self) -> date:
        return self.days[-1]


def load(store: Warehouse, start: date | None = None, end: date | None = None) -> DashboardData:
    """The tables' rows for the materialized days of ``team_daily_costs`` in ``[start, end]``."""
    if start and end and start > end:
        raise DashboardError(f"dashboard range starts {start} after it ends {end}")
    days = [
        d
        for d in (
            date.fromisoformat(v)
            for v in store.partition_values(tables.TEAM_DAILY_COSTS.name, tables.DAY_COLUMN)
        )
        if (start is None or d >= start) and (end is None or d <= end)
    ]
    if not days:
        raise DashboardError(
            "no materialized day of team_daily_costs in "
            f"{start or 'the beginning'}..{end or 'today'} "
            f"under {store.uri}: materialize the days first"
        )
    compared = report.comparison(store, days[-1], days)
    return DashboardData(
        days=days,
        costs=_read(store, tables.TEAM_DAILY_COSTS, days),
        top_talkers=_read_if_written(store, tables.TOP_TALKERS, days),
        endpoint_savings=_read_if_written(store, tables.ENDPOINT_SAVINGS, days),
        reconciliation=_read_if_written(store, tables.NAT_COST_RECONCILIATION, days),
        month_summary=report.summarise(store, compared),
        month_comparison=compared,
        network_costs=_read_if_written(store, tables.TEAM_DAILY_NETWORK_COSTS, days),
    )


def _read(store: Warehouse, table: Table, days: list[date]) -> pl.DataFrame:
    return store.scan(table.name).filter(pl.col(table.partition_column).is_in(days)).collect()


def _read_if_written(store: Warehouse, table: Table, days: list[date]) -> pl.DataFrame | None:
    """The days' rows of ``table``; ``None`` while the table does not exist."""
    return _read(store, table, days) if store.exists(table.name) else None


def cost_by_team_day(costs: pl.DataFrame) -> pl.DataFrame:
    """usage_date x team: total_usd, gb, bytes (teams ordered by their range total, largest
    first)."""
    return (
        costs.group_by("usage_date", "team")
        .agg(pl.col("total_usd").sum(), pl.col("gb").sum(), pl.col("bytes").sum())
        .with_columns(pl.col("total_usd").sum().over("team").alias("_team_total"))
        .sort(["_team_total", "team", "usage_date"], descending=[True, False, False])
        .drop("_team_total")
    )


def unattributed_share(costs: pl.DataFrame) -> pl.DataFrame:
    """Per day: the share of NAT bytes and of cost whose internal side no IPAM prefix names."""
    unattributed = pl.col("team") == UNATTRIBUTED
    return (
        costs.group_by("usage_date")
        .agg(
            (pl.col("bytes").filter(unattributed).sum() / pl.col("bytes").sum()).alias(
                "bytes_share"
            ),
            (pl.col("total_usd").filter(unattributed).sum() / pl.col("total_usd").sum()).alias(
                "cost_share"
            ),
            pl.col("bytes").filter(unattributed).sum().alias("unattributed_bytes"),
        )
        .with_columns(pl.col("bytes_share", "cost_share").fill_nan(0.0))
        .sort("usage_date")
    )


def top_pairs(top_talkers: pl.DataFrame, shown: int = TOP_PAIRS_SHOWN) -> pl.DataFrame:
    """The biggest pairs of the range: bytes summed over the days each pair was in its day's top N
    (a lower bound for a pair that fell out of the top on some day), and on how many days it was."""
    keys = ["pkt_srcaddr", "pkt_dstaddr", "region", "direction", "src_owner", "dst_owner"]
    return (
        top_talkers.group_by(keys)
        .agg(
            pl.col("bytes").sum(),
            pl.col("usage_date").n_unique().alias("days_in_top"),
            pl.col("rank").min().alias("best_rank"),
        )
        .sort(["bytes", "pkt_srcaddr", "pkt_dstaddr"], descending=[True, False, False])
        .head(shown)
    )


def savings_projection(savings: pl.DataFrame, days: int) -> pl.DataFrame:
    """Per service x team: the range's mean daily saving x 30.4 days (an average month). A day with
    no eligible traffic counts as a zero-saving day, so ``days`` is the range's day count."""
    return (
        savings.group_by("region", "aws_service", "endpoint_type", "endpoint_service", "team")
        .agg(pl.col("gb").sum(), pl.col("saving_usd").sum(), pl.col("recommended").all())
        .with_columns(
            (pl.col("saving_usd") / days * AVERAGE_MONTH_DAYS).alias("monthly_saving_usd")
        )
        .sort(["monthly_saving_usd", "aws_service", "team"], descending=[True, False, False])
    )


#: The charges of the per-team split, in the order shown (a column absent from the table: not
#: computed).
NETWORK_CHARGES: tuple[tuple[str, str], ...] = (
    ("nat_usd", "NAT"),
    ("tgw_usd", "TGW"),
    ("cross_az_usd", "cross-AZ"),
)


def network_split(network_costs: pl.DataFrame) -> pl.DataFrame:
    """Per team over the range: each charge's USD (null where the table lacks its column) and
    their total, largest first."""
    sums = [
        (pl.col(c).sum() if c in network_costs.columns else pl.lit(None, dtype=pl.Float64)).alias(c)
        for c, _ in NETWORK_CHARGES
    ]
    return (
        network_costs.group_by("team")
        .agg(sums)
        .with_columns(
            pl.sum_horizontal([pl.col(c).fill_null(0.0) for c, _ in NETWORK_CHARGES]).alias(
                "total_usd"
            )
        )
        .sort(["total_usd", "team"], descending=[True, False])
    )


def reconciliation_status(reconciliation: pl.DataFrame | None, days: list[date]) -> pl.DataFrame:
    """One row per day and (account, region) reconciled, or one ``not reconciled`` row for a day
    the reconciliation table does not have (or when the table does not exist)."""
    columns = {
        "usage_date": pl.Date,
        "account_id": pl.String,
        "region": pl.String,
        "flow_log_gb": pl.Float64,
        "cost_explorer_gb": pl.Float64,
        "difference_pct": pl.Float64,
        "estimated": pl.Boolean,
        "status": pl.String,
    }
    found = (
        pl.DataFrame(schema=columns)
        if reconciliation is None
        else reconciliation.select([pl.col(c).cast(t) for c, t in columns.items()])
    )
    missing = pl.DataFrame({"usage_date": days}, schema={"usage_date": pl.Date}).join(
        found, on="usage_date", how="anti"
    )
    missing = missing.select(
        [
            pl.col("usage_date"),
            *(
                pl.lit(None, dtype=t).alias(c)
                for c, t in columns.items()
                if c not in ("usage_date", "status")
            ),
            pl.lit(NOT_RECONCILED).alias("status"),
        ]
    )
    return pl.concat([found, missing]).sort("usage_date", "account_id", "region", nulls_last=True)
