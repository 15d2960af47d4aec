"""The facts the gold table's asset checks test, as plain functions on frames.

Kept apart from Dagster so each rule can be tested on a few hand-made rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone

import polars as pl

from natflow_pipeline.ipam import UNATTRIBUTED

HOURS = list(range(24))
GAPS_SCHEMA: dict[str, pl.DataType] = {
    "account_id": pl.String,
    "region": pl.String,
    "interface_id": pl.String,
    "missing_hours": pl.List(pl.Int64),
}


@dataclass(frozen=True)
class RowAccounting:
    """Rows read = kept + filtered + rejected over the day's files, and every kept row is costed."""

    rows_read: int
    rows_kept: int
    rows_filtered: int
    rows_rejected: int
    flows_costed: int

    @property
    def balanced(self) -> bool:
        return self.rows_read == self.rows_kept + self.rows_filtered + self.rows_rejected

    @property
    def passed(self) -> bool:
        return self.balanced and self.flows_costed == self.rows_kept


def row_accounting(files: pl.DataFrame, costs: pl.DataFrame) -> RowAccounting:
    """``files``: the day's rows of ``flow_log_files``; ``costs``: the day's gold rows."""
    total = files.select(
        pl.col("rows_read").sum(),
        pl.col("rows_kept").sum(),
        (pl.col("rows_non_nat") + pl.col("rows_no_data") + pl.col("rows_other_day"))
        .sum()
        .alias("filtered"),
        pl.col("rows_rejected").sum(),
    ).row(0)
    read, kept, filtered, rejected = (int(v or 0) for v in total)
    return RowAccounting(read, kept, filtered, rejected, int(costs["flows"].sum() or 0))


@dataclass(frozen=True)
class Attribution:
    total_bytes: int
    unattributed_bytes: int
    top_unattributed: pl.DataFrame  # internal_addr, bytes, flows

    @property
    def share(self) -> float:
        return self.unattributed_bytes / self.total_bytes if self.total_bytes else 0.0


def attribution(enriched: pl.DataFrame, top: int = 10) -> Attribution:
    """Share of the day's NAT bytes whose internal address no IPAM prefix names a team for, and
    the internal addresses carrying most of them (the ones to add to NetBox first).

    ``enriched``: NAT rows with ``team``, ``internal_addr`` and ``bytes``, or such rows already
    summed per address with a ``flows`` column (the rows each stands for), which is far smaller."""
    lost = enriched.filter(pl.col("team") == UNATTRIBUTED)
    flows = pl.col("flows").sum() if "flows" in enriched.columns else pl.len()
    top_addresses = (
        lost.group_by("internal_addr")
        .agg(pl.col("bytes").sum().cast(pl.Int64), flows.cast(pl.Int64).alias("flows"))
        .sort(["bytes", "internal_addr"], descending=[True, False])
        .head(top)
    )
    return Attribution(
        int(enriched["bytes"].sum() or 0), int(lost["bytes"].sum() or 0), top_addresses
    )


@dataclass(frozen=True)
class Completeness:
    interfaces: int
    gaps: pl.DataFrame = field(
        default_factory=pl.DataFrame
    )  # account_id, region, interface_id, missing_hours

    @property
    def passed(self) -> bool:
        return self.gaps.is_empty()


def completeness(day: date, recent: pl.DataFrame) -> Completeness:
    """Every NAT interface seen in the recent days must have NAT records in every UTC hour of
    ``day``.

    ``recent``: account_id, region, interface_id, usage_date, start (epoch seconds) of the NAT rows
    of ``day`` and the days before it. An hour with no record of a gateway that carries traffic
    every day means a delivery is missing (or late), and the day's bytes would be short.
    """
    interfaces = recent.select("account_id", "region", "interface_id").unique()
    if interfaces.is_empty():  # a list literal does not broadcast onto zero rows in Polars 2.1
        return Completeness(0, pl.DataFrame(schema=GAPS_SCHEMA))
    midnight = int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp())
    seen = (
        recent.filter(pl.col("usage_date") == day)
        .select(
            "account_id",
            "region",
            "interface_id",
            ((pl.col("start") - midnight) // 3600).cast(pl.Int64).alias("hour"),
        )
        .unique()
        .group_by("account_id", "region", "interface_id")
        .agg(pl.col("hour"))
    )
    gaps = (
        interfaces.join(seen, on=["account_id", "region", "interface_id"], how="left")
        .with_columns(pl.col("hour").fill_null(pl.lit([], dtype=pl.List(pl.Int64))))
        .with_columns(
            pl.lit(HOURS, dtype=pl.List(pl.Int64))
            .list.set_difference(pl.col("hour"))
            .list.sort()
            .alias("missing_hours")
        )
        .filter(pl.col("missing_hours").list.len() > 0)
        .select("account_id", "region", "interface_id", "missing_hours")
        .sort("account_id", "region", "interface_id")
    )
    return Completeness(interfaces.height, gaps)
