"""The month a person reads: per team, this month's NAT cost against last month's, where most of
it went, and what VPC endpoints would have saved. Read from the Delta tables only.

``python -m natflow_pipeline.report --month 2026-11`` prints it (the warehouse of
``NATFLOW_WAREHOUSE_URI``, or ``--warehouse``); the dashboard shows the same table for the latest
month of its range.

What is compared (:func:`comparison`): a month whose days run from its 1st to its last day is
compared whole with the whole month before. A month in progress (its latest day is not the month's
last, or, on the dashboard, the range ends or starts inside it) is compared on the same days of
the month: 2026-11-01..05 against 2026-10-01..05 ("Nov 1-5 vs Oct 1-5"), never five days against
31 (every team would show about -84%). Day-of-month numbers past the end of the month before are
its last days: Mar 1-30 against Feb 1-28. The output says which comparison it shows.

Per team (every team with cost in either of the two periods):

- ``cost_usd``: the sum of ``team_daily_costs.total_usd`` (data processing + hourly) over the
  month's materialized days (``days``); ``last_month_*`` the same over the compared days of the
  calendar month before (``last_month_days``: those of them materialized).
- ``change_usd`` and ``change_pct`` (percent of last month's cost): null when last month has no
  materialized day in the compared days (not an error); ``change_pct`` is also null when last
  month's cost was 0.
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
import calendar
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from natflow_pipeline import tables
from natflow_pipeline.warehouse import Warehouse, warehouse_from_settings

#: Bytes per GiB, as the dashboard shows top talkers.
GIB = 2**30
#: Month abbreviations of the comparison's label (not the locale's).
MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

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


def month_length(first: date) -> int:
    return calendar.monthrange(first.year, first.month)[1]


@dataclass(frozen=True)
class Comparison:
    """The two periods a summary compares: this month's days and the month before's."""

    #: First days of the two calendar months.
    month: date
    last_month: date
    #: This month's materialized days summed, and the month before's compared days materialized.
    days: list[date]
    last_days: list[date]
    #: Day-of-month span compared (first, last) when this month is incomplete; ``None``: whole
    #: month against whole month.
    span: tuple[int, int] | None

    @property
    def whole_months(self) -> bool:
        return self.span is None

    @property
    def last_span(self) -> tuple[int, int] | None:
        """The span's days in the month before (capped at its last day); ``None`` when whole
        months are compared or the month before has none of the span's days."""
        if self.span is None or self.span[0] > month_length(self.last_month):
            return None
        return self.span[0], min(self.span[1], month_length(self.last_month))

    @property
    def period(self) -> str:
        """``2026-11`` (the whole month) or ``Nov 1-5`` (its days compared)."""
        return _period(self.month, self.span, self._years_differ)

    @property
    def last_period(self) -> str:
        """``2026-10``, ``Oct 1-5``, or ``Feb (no day 30-31)`` when it has none of the days."""
        if self.span is not None and self.last_span is None:
            first, last = self.span
            return f"{MONTH_ABBR[self.last_month.month - 1]} (no day {first}-{last})"
        return _period(self.last_month, self.last_span, self._years_differ)

    @property
    def label(self) -> str:
        """``Nov 1-5 vs Oct 1-5``, ``Jan 1-5 2027 vs Dec 1-5 2026``, or ``2026-11 vs 2026-10``."""
        return f"{self.period} vs {self.last_period}"

    @property
    def kind(self) -> str:
        """Which comparison, in words: ``whole months``, or ``2026-11 incomplete, against the
        same days of 2026-10``."""
        if self.whole_months:
            return "whole months"
        before = month_label(self.last_month)
        return f"{month_label(self.month)} incomplete, against the same days of {before}"

    @property
    def _years_differ(self) -> bool:
        return self.month.year != self.last_month.year


def _period(first: date, span: tuple[int, int] | None, with_year: bool) -> str:
    if span is None:
        return month_label(first)
    days = str(span[0]) if span[0] == span[1] else f"{span[0]}-{span[1]}"
    text = f"{MONTH_ABBR[first.month - 1]} {days}"
    return f"{text} {first.year}" if with_year else text


def comparison(
    store: Warehouse, month: str | date, days: Sequence[date] | None = None
) -> Comparison:
    """What :func:`monthly_summary` compares for ``month`` (see the module's docstring).

    ``days``: when given, "this month" is only those of its materialized days (the dashboard's
    range), and the month is incomplete unless they run from its 1st to its last day.
    """
    first = parse_month(month)
    this_days = materialized_days(store, first)
    if days is not None:
        wanted = set(days)
        this_days = [d for d in this_days if d in wanted]
    if not this_days:
        raise MonthlySummaryError(
            f"no materialized day of {month_label(first)} in team_daily_costs under {store.uri}: "
            f"materialize the month's days first"
        )
    before = previous_month(first)
    span = (this_days[0].day, this_days[-1].day)
    if span == (1, month_length(first)):
        return Comparison(first, before, this_days, materialized_days(store, before), None)
    compared = Comparison(first, before, this_days, [], span)
    last_span = compared.last_span
    last_days = (
        []
        if last_span is None
        else [d for d in materialized_days(store, before) if last_span[0] <= d.day <= last_span[1]]
    )
    return Comparison(first, before, this_days, last_days, span)


def materialized_days(store: Warehouse, first: date) -> list[date]:
    """The days of ``first``'s calendar month on which ``team_daily_costs`` has a partition
    (oldest first)."""
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
    range); :func:`comparison` decides which days of the month before they are compared with.
    """
    return summarise(store, comparison(store, month, days))


def summarise(store: Warehouse, compared: Comparison) -> pl.DataFrame:
    """:func:`monthly_summary` of a :func:`comparison`."""
    this_days, last_days = compared.days, compared.last_days
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


def text_table(summary: pl.DataFrame, last_period: str = "last month") -> str:
    """The summary as a fixed-width text table: money to the cent, changes signed.
    ``last_period`` heads last month's cost (:attr:`Comparison.last_period`: ``Oct 1-5``)."""
    headers = [
        "team",
        "days",
        "cost",
        last_period,
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


def describe(store: Warehouse, compared: Comparison) -> str:
    """The heading line: which periods are compared, how many days of each are materialized,
    which warehouse. ``NAT cost by team, Nov 1-5 vs Oct 1-5 (2026-11 incomplete, against the
    same days of 2026-10): 5 day(s) against 5; warehouse: ...``"""
    days = len(compared.days)
    if compared.last_days:
        counts = f"{days} day(s) against {len(compared.last_days)}"
    else:
        counts = f"{days} day(s); {compared.last_period} has no data, change not shown"
    return f"NAT cost by team, {compared.label} ({compared.kind}): {counts}; warehouse: {store.uri}"


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
        compared = comparison(store, first)
        summary = summarise(store, compared)
    except MonthlySummaryError as exc:
        print(f"natflow report: {exc}", file=sys.stderr)
        return 2
    print(describe(store, compared))
    print(text_table(summary, compared.last_period))
    return 0


if __name__ == "__main__":
    sys.exit(main())
