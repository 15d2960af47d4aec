"""The month a person reads: per team, this month's NAT cost against last month's, where most of
it went, and what VPC endpoints would have saved. Read from the Delta tables only.

``python -m natflow_pipeline.report --month 2026-11`` prints it (the warehouse of
``NATFLOW_WAREHOUSE_URI``, or ``--warehouse``); the dashboard shows the same table for the latest
month of its range.

Per team (every team with cost in either month):

- ``cost_usd``: the sum of ``team_daily_costs.total_usd`` (data processing + hourly) over the
  month's materialized days (``days``); ``last_month_*`` the same for the calendar month before.
- ``change_usd`` and ``change_pct`` (percent of last month's cost): null when last month has no
  materialized day (not an error); ``change_pct`` is also null when last month's cost was 0. A
  month in progress has fewer ``days`` than a finished one, so compare the two day counts.
- ``top_destination``: the external address (``top_destination_owner``: ``S3 (us-east-1)`` or
  ``internet``) with the most bytes in the team's ``top_talkers`` rows of the month, both
  directions summed (a download is the pair server -> client). ``top_talkers`` keeps each day's
  top N pairs only, so ``top_destination_bytes`` is a lower bound.
- ``endpoint_saving_usd``: what VPC endpoints would have saved of this month's cost: the sum of
  ``endpoint_savings.saving_usd`` of the month's days, counting a region's service only when its
  endpoint pays off over the month (the service's saving, all teams, is positive). The month's own
  saving, not ``monthly_saving_usd`` (a day's saving x the days of its month, a projection): it is
  comparable with ``cost_usd``, which covers the same days.

``top_destination*`` and ``endpoint_saving_usd`` are null while their table does not exist.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from datetime import date, timedelta

import polars as pl

from natflow_pipeline import settings, tables
from natflow_pipeline.storage import delta_storage_options
from natflow_pipeline.warehouse import Warehouse

#: Bytes per GiB, as the dashboard shows top talkers.
GIB = 2**30

SCHEMA: dict[str, pl.DataType] = {
    "team": pl.String,
    "days": pl.Int32,
    "cost_usd": pl.Float64,
    "last_month_days": pl.Int32,
    "last_month_cost_usd": pl.Float64,
    "change_usd": pl.Float64,
    "change_pct": pl.Float64,
    "top_destination": pl.String,
    "top_destination_owner": pl.String,
    "top_destination_bytes": pl.Int64,
    "endpoint_saving_usd": pl.Float64,
}


class MonthlySummaryError(ValueError):
    """The month asked for cannot be summarised (a malformed month, or no data for it)."""


def parse_month(month: str | date) -> date:
    """The first day of ``month`` (``YYYY-MM``, or any day of it)."""
    if isinstance(month, date):
        return month.replace(day=1)
    if not re.fullmatch(r"\d{4}-\d{2}", month.strip()):
        raise MonthlySummaryError(f"month {month!r} is not YYYY-MM (for example 2026-11)")
    year, number = (int(part) for part in month.strip().split("-"))
    if not 1 <= number <= 12:
        raise MonthlySummaryError(f"month {month!r} has no month {number} (expected YYYY-MM)")
    return date(year, number, 1)


def month_label(first: date) -> str:
    return f"{first.year:04d}-{first.month:02d}"


def previous_month(first: date) -> date:
    return (first - timedelta(days=1)).replace(day=1)


def materialized_days(store: Warehouse, first: date) -> list[date]:
    """The days of ``first``'s calendar month on which ``team_daily_costs`` has a partition."""
    return [
        day
        for day in (
            date.fromisoformat(v)
            for v in store.partition_values(tables.TEAM_DAILY_COSTS.name, tables.DAY_COLUMN)
        )
        if (day.year, day.month) == (first.year, first.month)
    ]


def latest_month(store: Warehouse) -> date:
    """The first day of the latest month ``team_daily_costs`` has a day of."""
    values = store.partition_values(tables.TEAM_DAILY_COSTS.name, tables.DAY_COLUMN)
    if not values:
        raise MonthlySummaryError(
            f"team_daily_costs has no materialized day under {store.uri}: "
            "materialize the days first"
        )
    return date.fromisoformat(values[-1]).replace(day=1)


def monthly_summary(
    store: Warehouse, month: str | date, days: Sequence[date] | None = None
) -> pl.DataFrame:
    """One row per team (:data:`SCHEMA`), the costliest first; see the module's docstring.

    ``days``: when given, "this month" is only those of its materialized days (the dashboard's
    range); last month is always the whole calendar month before.
    """
    first = parse_month(month)
    label = month_label(first)
    this_days = materialized_days(store, first)
    if days is not None:
        wanted = set(days)
        this_days = [d for d in this_days if d in wanted]
    if not this_days:
        raise MonthlySummaryError(
            f"no materialized day of {label} in team_daily_costs under {store.uri}: "
            f"materialize the month's days first"
        )
    last_days = materialized_days(store, previous_month(first))

    this = _team_cost(store, this_days, "cost_usd")
    last = _team_cost(store, last_days, "last_month_cost_usd")
    summary = (
        this.join(last, on="team", how="full", coalesce=True)
        .with_columns(
            pl.lit(len(this_days)).alias("days"),
            pl.col("cost_usd").fill_null(0.0),
            pl.lit(len(last_days) or None).alias("last_month_days"),
        )
        .with_columns(
            # a last month with days: a team absent from it cost nothing then
            pl.when(pl.col("last_month_days").is_not_null())
            .then(pl.col("last_month_cost_usd").fill_null(0.0))
            .alias("last_month_cost_usd")
        )
        .with_columns((pl.col("cost_usd") - pl.col("last_month_cost_usd")).alias("change_usd"))
        .with_columns(
            pl.when(pl.col("last_month_cost_usd") != 0)
            .then(pl.col("change_usd") / pl.col("last_month_cost_usd") * 100)
            .alias("change_pct")
        )
        .join(_top_destinations(store, this_days), on="team", how="left")
        .join(_endpoint_savings(store, this_days), on="team", how="left")
    )
    if store.exists(tables.ENDPOINT_SAVINGS.name):
        summary = summary.with_columns(pl.col("endpoint_saving_usd").fill_null(0.0))
    return summary.select([pl.col(c).cast(t) for c, t in SCHEMA.items()]).sort(
        ["cost_usd", "team"], descending=[True, False]
    )


def _month_rows(store: Warehouse, table: tables.Table, days: list[date]) -> pl.LazyFrame:
    return store.scan(table.name).filter(pl.col(table.partition_column).is_in(days))


def _team_cost(store: Warehouse, days: list[date], name: str) -> pl.DataFrame:
    if not days:
        return pl.DataFrame(schema={"team": pl.String, name: pl.Float64})
    return (
        _month_rows(store, tables.TEAM_DAILY_COSTS, days)
        .group_by("team")
        .agg(pl.col("total_usd").sum().cast(pl.Float64).alias(name))
        .collect()
    )


def _top_destinations(store: Warehouse, days: list[date]) -> pl.DataFrame:
    schema = {
        "team": pl.String,
        "top_destination": pl.String,
        "top_destination_owner": pl.String,
        "top_destination_bytes": pl.Int64,
    }
    if not store.exists(tables.TOP_TALKERS.name):
        return pl.DataFrame(schema=schema)
    external_owner = (
        pl.when(pl.col("src_kind") == "internal")
        .then(pl.col("dst_owner"))
        .otherwise(pl.col("src_owner"))
    )
    return (
        _month_rows(store, tables.TOP_TALKERS, days)
        .group_by("team", "external_addr")
        .agg(pl.col("bytes").sum(), external_owner.first().alias("owner"))
        .sort(["team", "bytes", "external_addr"], descending=[False, True, False])
        .group_by("team", maintain_order=True)
        .first()
        .select(
            "team",
            pl.col("external_addr").alias("top_destination"),
            pl.col("owner").alias("top_destination_owner"),
            pl.col("bytes").cast(pl.Int64).alias("top_destination_bytes"),
        )
        .collect()
    )


def _endpoint_savings(store: Warehouse, days: list[date]) -> pl.DataFrame:
    if not store.exists(tables.ENDPOINT_SAVINGS.name):
        return pl.DataFrame(schema={"team": pl.String, "endpoint_saving_usd": pl.Float64})
    return (
        _month_rows(store, tables.ENDPOINT_SAVINGS, days)
        .filter(pl.col("saving_usd").sum().over("region", "aws_service") > 0)
        .group_by("team")
        .agg(pl.col("saving_usd").sum().cast(pl.Float64).alias("endpoint_saving_usd"))
        .collect()
    )


def text_table(summary: pl.DataFrame) -> str:
    """The summary as a fixed-width text table: money to the cent, changes signed."""
    headers = [
        "team",
        "days",
        "cost",
        "last month",
        "change",
        "change %",
        "top destination",
        "GiB",
        "endpoint saving",
    ]
    rows = [
        [
            r["team"],
            str(r["days"]),
            _usd(r["cost_usd"]),
            "–" if r["last_month_cost_usd"] is None else _usd(r["last_month_cost_usd"]),
            "–" if r["change_usd"] is None else _usd(r["change_usd"], signed=True),
            "–" if r["change_pct"] is None else f"{r['change_pct']:+,.1f}%",
            destination(r),
            "–"
            if r["top_destination_bytes"] is None
            else f"{r['top_destination_bytes'] / GIB:,.2f}",
            "–" if r["endpoint_saving_usd"] is None else _usd(r["endpoint_saving_usd"]),
        ]
        for r in summary.iter_rows(named=True)
    ]
    total = [
        "total",
        "",
        _usd(float(summary["cost_usd"].sum())),
        "–"
        if summary["last_month_cost_usd"].null_count() == summary.height
        else _usd(float(summary["last_month_cost_usd"].sum())),
        "",
        "",
        "",
        "",
        "–"
        if summary["endpoint_saving_usd"].null_count() == summary.height
        else _usd(float(summary["endpoint_saving_usd"].sum())),
    ]
    left = {0, 6}  # text columns; numbers align right
    widths = [max(len(line[i]) for line in [headers, *rows, total]) for i in range(len(headers))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if i in left else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows), rule, line(total)])


def _usd(value: float, signed: bool = False) -> str:
    sign = ("+" if value >= 0 else "-") if signed else ("-" if value < 0 else "")
    return f"{sign}${abs(value):,.2f}"


def destination(row: dict) -> str:
    """``S3 (us-east-1) 52.216.48.49``: who the top destination is, then its address."""
    if row["top_destination"] is None:
        return "–"
    return f"{row['top_destination_owner']} {row['top_destination']}"


def describe(store: Warehouse, first: date, summary: pl.DataFrame) -> str:
    """The heading line: which month, how many days of each month, which warehouse."""
    days = int(summary["days"][0]) if summary.height else 0
    last = summary["last_month_days"][0] if summary.height else None
    before = month_label(previous_month(first))
    compared = f"{before}: {last} day(s)" if last else f"{before}: no data, change not shown"
    return (
        f"NAT cost by team, {month_label(first)} ({days} day(s) materialized) "
        f"against {compared}; warehouse: {store.uri}"
    )


def warehouse_from_settings(uri: str | None = None) -> Warehouse:
    """The warehouse of the code location's settings (``uri`` overrides its location)."""
    return Warehouse(
        uri or settings.warehouse_uri(),
        delta_storage_options(settings.s3_endpoint_url(), settings.s3_region()),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m natflow_pipeline.report",
        description="Per-team NAT cost of a month against the month before, from the Delta tables.",
    )
    parser.add_argument(
        "--month", help="YYYY-MM (default: the latest month team_daily_costs has a day of)"
    )
    parser.add_argument(
        "--warehouse", help="warehouse folder or s3:// URI (default: NATFLOW_WAREHOUSE_URI)"
    )
    args = parser.parse_args(argv)
    store = warehouse_from_settings(args.warehouse)
    try:
        first = parse_month(args.month) if args.month else latest_month(store)
        summary = monthly_summary(store, first)
    except MonthlySummaryError as exc:
        print(f"natflow report: {exc}", file=sys.stderr)
        return 2
    print(describe(store, first, summary))
    print(text_table(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
