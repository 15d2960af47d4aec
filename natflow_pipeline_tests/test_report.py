"""The per-team monthly summary (natflow_pipeline.report): exact numbers on small hand-written
Delta tables (a month in progress against the same days of the month before, whole months, a
January against the December before), the same numbers recomputed from the tables of 36 generated
days (October and the first days of November 2026), the command line, and the dashboard's "This
month by team"."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest

from natflow_pipeline import tables
from natflow_pipeline.dashboard.data import load
from natflow_pipeline.dashboard.render import render
from natflow_pipeline.paths import PROJECT_ROOT
from natflow_pipeline.report import (
    GIB,
    Comparison,
    MonthlySummaryError,
    comparison,
    monthly_summary,
    parse_month,
)
from natflow_pipeline.resources.warehouse import WarehouseResource
from natflow_pipeline.warehouse import Warehouse
from natflow_pipeline_tests.generated_months import NOVEMBER, OCTOBER, generated_months

D = date.fromisoformat

#: team_daily_costs: (day, team, total_usd); binary fractions, so sums are exact. November has
#: its 1st and 2nd: it is compared with October 1-2, not with the whole of October.
COSTS = [
    ("2026-10-01", "payments", 1.0),
    ("2026-10-02", "payments", 1.0),
    ("2026-10-02", "search", 4.0),
    ("2026-10-02", "legacy", 1.0),  # gone in November
    ("2026-10-30", "payments", 3.0),  # after October 2: not compared with November 1-2
    ("2026-10-31", "payments", 2.0),
    ("2026-10-31", "search", 4.0),
    ("2026-11-01", "payments", 2.5),
    ("2026-11-01", "payments", 1.5),  # a second row of the day (another account)
    ("2026-11-02", "payments", 3.5),
    ("2026-11-02", "search", 1.0),
    ("2026-11-01", "newteam", 0.25),  # new in November
]
#: top_talkers: (day, team, pkt_srcaddr, pkt_dstaddr, external_addr, src_kind, src_owner,
#: dst_owner, bytes)
TALKERS = [
    (
        "2026-10-31",
        "payments",
        "10.1.0.5",
        "8.8.8.8",
        "8.8.8.8",
        "internal",
        "payments",
        "internet",
        10_000,
    ),  # fmt: skip
    (
        "2026-11-01",
        "payments",
        "10.1.0.5",
        "52.216.1.1",
        "52.216.1.1",
        "internal",
        "payments",
        "S3 (us-east-1)",
        100,
    ),  # fmt: skip
    (
        "2026-11-01",
        "payments",
        "52.216.1.1",
        "10.1.0.5",
        "52.216.1.1",
        "aws",
        "S3 (us-east-1)",
        "payments",
        300,
    ),  # fmt: skip
    (
        "2026-11-02",
        "payments",
        "10.1.0.5",
        "203.0.113.9",
        "203.0.113.9",
        "internal",
        "payments",
        "internet",
        350,
    ),  # fmt: skip
    (
        "2026-11-02",
        "search",
        "10.2.0.7",
        "203.0.113.5",
        "203.0.113.5",
        "internal",
        "search",
        "internet",
        200,
    ),  # fmt: skip
    (
        "2026-11-02",
        "search",
        "198.51.100.7",
        "10.2.0.7",
        "198.51.100.7",
        "internet",
        "internet",
        "search",
        200,
    ),  # fmt: skip
]
#: endpoint_savings: (day, team, region, aws_service, saving_usd)
SAVINGS = [
    ("2026-10-31", "payments", "us-east-1", "S3", 8.0),
    ("2026-11-01", "payments", "us-east-1", "S3", 0.75),
    ("2026-11-02", "payments", "us-east-1", "S3", 0.5),
    ("2026-11-01", "search", "us-east-1", "S3", 0.25),
    # not worth an endpoint over the month (-0.25 + 0.125 < 0): not counted
    ("2026-11-01", "payments", "us-east-1", "API_GATEWAY", -0.25),
    ("2026-11-01", "search", "us-east-1", "API_GATEWAY", 0.125),
    # worth it over the month (-0.5 + 1.0 > 0), though not on 2026-11-01: both days counted
    ("2026-11-01", "search", "eu-west-1", "API_GATEWAY", -0.5),
    ("2026-11-02", "search", "eu-west-1", "API_GATEWAY", 1.0),
]


def _write(store: Warehouse, table: tables.Table, frame: pl.DataFrame) -> None:
    for (day,), rows in frame.group_by(tables.DAY_COLUMN):
        store.write_partition(table.name, rows, tables.DAY_COLUMN, day)


def _frame(rows: list[tuple], columns: list[str]) -> pl.DataFrame:
    frame = pl.DataFrame(rows, schema=columns, orient="row")
    return frame.with_columns(pl.col("usage_date").str.to_date())


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    store = Warehouse(str(tmp_path_factory.mktemp("small-report") / "warehouse"))
    costs = _frame(COSTS, ["usage_date", "team", "total_usd"])
    _write(store, tables.TEAM_DAILY_COSTS, costs.with_columns(account_id=pl.lit("111111111111")))
    talkers = _frame(
        TALKERS,
        [
            "usage_date",
            "team",
            "pkt_srcaddr",
            "pkt_dstaddr",
            "external_addr",
            "src_kind",
            "src_owner",
            "dst_owner",
            "bytes",
        ],  # fmt: skip
    ).with_columns(
        pl.col("bytes").cast(pl.Int64),
        dst_kind=pl.when(pl.col("src_kind") == "internal")
        .then(pl.lit("aws"))
        .otherwise(pl.lit("internal")),
    )
    _write(store, tables.TOP_TALKERS, talkers)
    savings = _frame(SAVINGS, ["usage_date", "team", "region", "aws_service", "saving_usd"])
    # the projection is not what the summary adds up
    _write(store, tables.ENDPOINT_SAVINGS, savings.with_columns(monthly_saving_usd=pl.lit(999.0)))
    return store


def test_summary_numbers_are_exact(small: Warehouse):
    summary = monthly_summary(small, "2026-11")
    assert summary.columns == [
        "team",
        "days",
        "cost_usd",
        "last_month_days",
        "last_month_cost_usd",
        "change_usd",
        "change_pct",
        "top_destination",
        "top_destination_owner",
        "top_destination_bytes",
        "endpoint_saving_usd",
    ]
    # November 1-2 against October 1-2 (not the whole of October: payments' 7.0, search's 8.0)
    assert summary.rows() == [
        # payments: both directions with 52.216.1.1 (100 + 300) beat 350 bytes to 203.0.113.9
        ("payments", 2, 7.5, 2, 2.0, 5.5, 275.0, "52.216.1.1", "S3 (us-east-1)", 400, 1.25),
        # search: a tie at 200 bytes goes to the lower address; saving 0.25 + (-0.5 + 1.0)
        ("search", 2, 1.0, 2, 4.0, -3.0, -75.0, "198.51.100.7", "internet", 200, 0.75),
        # new this month: last month had days but no cost of the team, so no percentage
        ("newteam", 2, 0.25, 2, 0.0, 0.25, None, None, None, None, 0.0),
        # gone this month: still listed, at zero
        ("legacy", 2, 0.0, 2, 1.0, -1.0, -100.0, None, None, None, 0.0),
    ]
    compared = comparison(small, "2026-11")
    assert compared.label == "Nov 1-2 vs Oct 1-2" and not compared.whole_months
    assert compared.kind == "2026-11 incomplete, against the same days of 2026-10"
    assert compared.last_days == [D("2026-10-01"), D("2026-10-02")]


def test_a_month_without_a_month_before_has_null_changes(small: Warehouse):
    october = monthly_summary(small, date(2026, 10, 17))  # any day names its month
    # October's days run from its 1st to its 31st: a whole month, against September (no data)
    assert comparison(small, "2026-10").label == "2026-10 vs 2026-09"
    assert october.select("team", "days", "cost_usd").rows() == [
        ("search", 4, 8.0),
        ("payments", 4, 7.0),
        ("legacy", 4, 1.0),
    ]
    for column in ("last_month_days", "last_month_cost_usd", "change_usd", "change_pct"):
        assert october[column].null_count() == october.height, column
    assert october.filter(pl.col("team") == "payments")["top_destination"].item() == "8.8.8.8"
    assert october.filter(pl.col("team") == "payments")["endpoint_saving_usd"].item() == 8.0


#: Across a year: November and December 2026 whole (their 1st and last days), January 2027 in
#: progress (1-3).
TURN_OF_YEAR = [
    ("2026-11-01", "a", 1.0),
    ("2026-11-30", "a", 1.0),
    ("2026-12-01", "a", 2.0),
    ("2026-12-02", "b", 1.0),
    ("2026-12-03", "a", 4.0),
    ("2026-12-31", "a", 8.0),  # after December 3: not compared with January 1-3
    ("2027-01-01", "a", 2.0),
    ("2027-01-02", "b", 1.5),
    ("2027-01-03", "a", 1.0),
]


@pytest.fixture(scope="module")
def turn_of_year(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    store = Warehouse(str(tmp_path_factory.mktemp("turn-of-year") / "warehouse"))
    _write(
        store, tables.TEAM_DAILY_COSTS, _frame(TURN_OF_YEAR, ["usage_date", "team", "total_usd"])
    )
    return store


def test_january_is_compared_with_the_same_days_of_the_december_before(turn_of_year: Warehouse):
    compared = comparison(turn_of_year, "2027-01")
    assert (compared.month, compared.last_month) == (D("2027-01-01"), D("2026-12-01"))
    assert compared.label == "Jan 1-3 2027 vs Dec 1-3 2026"  # years differ: both named
    assert compared.last_days == [D("2026-12-01"), D("2026-12-02"), D("2026-12-03")]
    summary = monthly_summary(turn_of_year, "2027-01")
    assert summary.select(
        "team",
        "days",
        "cost_usd",
        "last_month_days",
        "last_month_cost_usd",
        "change_usd",
        "change_pct",
    ).rows() == [  # fmt: skip
        ("a", 3, 3.0, 3, 6.0, -3.0, -50.0),  # December 1-3: 2 + 4 (the 31st's 8 not counted)
        ("b", 3, 1.5, 3, 1.0, 0.5, 50.0),
    ]


def test_a_whole_month_is_compared_with_the_whole_month_before(turn_of_year: Warehouse):
    compared = comparison(turn_of_year, "2026-12")
    assert compared.whole_months and compared.label == "2026-12 vs 2026-11"
    assert compared.kind == "whole months"
    summary = monthly_summary(turn_of_year, "2026-12")
    assert summary.select(
        "team",
        "days",
        "cost_usd",
        "last_month_days",
        "last_month_cost_usd",
        "change_usd",
        "change_pct",
    ).rows() == [  # fmt: skip
        ("a", 4, 14.0, 2, 2.0, 12.0, 600.0),
        ("b", 4, 1.0, 2, 0.0, 1.0, None),
    ]
    # The dashboard's range can hold part of a whole month: then its days are compared.
    part = comparison(turn_of_year, "2026-12", [D("2026-12-02"), D("2026-12-03")])
    assert part.label == "Dec 2-3 vs Nov 2-3" and part.last_days == []
    assert monthly_summary(turn_of_year, "2026-12", part.days)["change_usd"].to_list() == [
        None,
        None,
    ]


def test_day_numbers_past_the_end_of_the_month_before_are_its_last_days():
    def compared(span: tuple[int, int]) -> Comparison:
        return Comparison(D("2027-03-01"), D("2027-02-01"), [], [], span)

    assert compared((1, 30)).label == "Mar 1-30 vs Feb 1-28"
    assert compared((28, 31)).label == "Mar 28-31 vs Feb 28"
    assert compared((30, 31)).label == "Mar 30-31 vs Feb (no day 30-31)"
    assert compared((30, 31)).last_span is None


def test_a_month_with_no_data_is_an_error_naming_the_month_and_the_warehouse(small: Warehouse):
    with pytest.raises(MonthlySummaryError) as raised:
        monthly_summary(small, "2026-12")
    assert "2026-12" in str(raised.value) and small.uri in str(raised.value)
    with pytest.raises(MonthlySummaryError, match="not YYYY-MM"):
        parse_month("Nov 2026")
    with pytest.raises(MonthlySummaryError, match="no month 13"):
        parse_month("2026-13")


def test_without_top_talkers_or_savings_those_columns_are_null(small: Warehouse, tmp_path: Path):
    store = Warehouse(str(tmp_path / "costs-only"))
    _write(store, tables.TEAM_DAILY_COSTS, small.scan(tables.TEAM_DAILY_COSTS.name).collect())
    summary = monthly_summary(store, "2026-11")
    assert summary["cost_usd"].to_list() == [7.5, 1.0, 0.25, 0.0]
    for column in ("top_destination", "top_destination_bytes", "endpoint_saving_usd"):
        assert summary[column].null_count() == 4, column


# --- 36 generated days: the summary recomputed from the tables another way -------------------


@pytest.fixture(scope="module")
def months(tmp_path_factory: pytest.TempPathFactory) -> WarehouseResource:
    return generated_months(tmp_path_factory)


def _month_cost(store: Warehouse, days: list[str]) -> dict[str, float]:
    frame = store.scan("team_daily_costs").collect()
    totals: dict[str, float] = {}
    for team, day, usd in frame.select("team", "usage_date", "total_usd").iter_rows():
        if day.isoformat() in days:
            totals[team] = totals.get(team, 0.0) + usd
    return totals


#: November 1-5 is compared with the same days of October.
OCTOBER_1_5 = [d for d in OCTOBER if int(d[-2:]) <= len(NOVEMBER)]


def test_generated_months_summary_matches_the_tables(months: WarehouseResource):
    store = months.get()
    summary = monthly_summary(store, "2026-11")
    november, october = _month_cost(store, NOVEMBER), _month_cost(store, OCTOBER_1_5)
    assert OCTOBER_1_5 == ["2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04", "2026-10-05"]
    # 5 days against 5 days of the same generator: the total moves by far less than the -84%
    # five days against October's 31 showed
    total, before = sum(november.values()), sum(october.values())
    assert 0.5 < total / before < 2
    assert set(summary["team"]) == set(november) | set(october)
    assert len(set(summary["team"])) >= 8
    talkers = store.scan("top_talkers").collect()
    savings = store.scan("endpoint_savings").collect()
    in_november = [D(d) for d in NOVEMBER]
    for row in summary.iter_rows(named=True):
        team = row["team"]
        assert (row["days"], row["last_month_days"]) == (len(NOVEMBER), len(OCTOBER_1_5))
        assert row["cost_usd"] == pytest.approx(november.get(team, 0.0), rel=1e-12)
        assert row["last_month_cost_usd"] == pytest.approx(october.get(team, 0.0), rel=1e-12)
        assert row["change_usd"] == pytest.approx(row["cost_usd"] - row["last_month_cost_usd"])
        assert row["change_pct"] == pytest.approx(
            (row["cost_usd"] / row["last_month_cost_usd"] - 1) * 100
        )
        # top destination: the team's external address with the most bytes, both directions
        by_address: dict[str, int] = {}
        for address, size in (
            talkers.filter((pl.col("team") == team) & pl.col("usage_date").is_in(in_november))
            .select("external_addr", "bytes")
            .iter_rows()
        ):
            by_address[address] = by_address.get(address, 0) + size
        best = max(by_address.values())
        assert row["top_destination_bytes"] == best
        assert row["top_destination"] == min(a for a, b in by_address.items() if b == best)
        # the saving: this month's saving_usd of the services that pay off over the month
        month = savings.filter(pl.col("usage_date").is_in(in_november))
        paying = {
            key
            for key, total in month.group_by("region", "aws_service")
            .agg(pl.col("saving_usd").sum())
            .select(pl.struct("region", "aws_service"), "saving_usd")
            .iter_rows()
            if total > 0
            for key in [(key["region"], key["aws_service"])]
        }
        expected = sum(
            usd
            for region, service, usd in month.filter(pl.col("team") == team)
            .select("region", "aws_service", "saving_usd")
            .iter_rows()
            if (region, service) in paying
        )
        assert row["endpoint_saving_usd"] == pytest.approx(expected, abs=1e-12)
    assert summary["endpoint_saving_usd"].sum() > 0
    assert summary["cost_usd"].to_list() == sorted(summary["cost_usd"], reverse=True)


def _report(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "natflow_pipeline.report", *args],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def test_the_command_prints_the_summary_as_a_table(months: WarehouseResource):
    done = _report("--month", "2026-11", "--warehouse", months.uri)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == (
        "NAT cost by team, Nov 1-5 vs Oct 1-5 (2026-11 incomplete, against the same days of "
        f"2026-10): 5 day(s) against 5; warehouse: {months.uri}"
    )
    assert lines[1].split() == [
        "team",
        "days",
        "cost",
        "Oct",
        "1-5",
        "change",
        "change",
        "%",
        "top",
        "destination",
        "GiB",
        "endpoint",
        "saving",
    ]
    summary = monthly_summary(months.get(), "2026-11")
    body = lines[3 : 3 + summary.height]
    for line, row in zip(body, summary.iter_rows(named=True), strict=True):
        cells = re.split(r"\s{2,}", line.strip())
        assert cells[0] == row["team"]
        assert cells[1] == str(len(NOVEMBER))
        assert cells[2] == f"${row['cost_usd']:,.2f}"
        assert cells[3] == f"${row['last_month_cost_usd']:,.2f}"
        sign = "+" if row["change_usd"] >= 0 else "-"
        assert cells[4] == f"{sign}${abs(row['change_usd']):,.2f}"
        assert cells[5] == f"{row['change_pct']:+,.1f}%"
        assert cells[6] == f"{row['top_destination_owner']} {row['top_destination']}"
        assert cells[7] == f"{row['top_destination_bytes'] / GIB:,.2f}"
        assert cells[8] == f"${row['endpoint_saving_usd']:,.2f}"
    total = re.split(r"\s{2,}", lines[-1].strip())
    assert total[:3] == [
        "total",
        f"${summary['cost_usd'].sum():,.2f}",
        f"${summary['last_month_cost_usd'].sum():,.2f}",
    ]


def test_the_command_reads_the_settings_warehouse_and_defaults_to_the_latest_month(
    months: WarehouseResource,
):
    by_setting = _report(env={"NATFLOW_WAREHOUSE_URI": months.uri})
    assert by_setting.returncode == 0, by_setting.stderr
    assert by_setting.stdout == _report("--month", "2026-11", "--warehouse", months.uri).stdout
    october = _report("--month", "2026-10", "--warehouse", months.uri)
    assert october.stdout.splitlines()[0] == (
        "NAT cost by team, 2026-10 vs 2026-09 (whole months): 31 day(s); 2026-09 has no data, "
        f"change not shown; warehouse: {months.uri}"
    )
    assert october.stdout.splitlines()[1].split()[:4] == ["team", "days", "cost", "2026-09"]
    first_row = re.split(r"\s{2,}", october.stdout.splitlines()[3].strip())
    assert first_row[3:6] == ["–", "–", "–"]


def test_the_command_fails_clearly_on_a_month_without_data(months: WarehouseResource, tmp_path):
    done = _report("--month", "2026-12", "--warehouse", months.uri)
    assert done.returncode == 2 and done.stdout == ""
    assert "2026-12" in done.stderr and months.uri in done.stderr
    empty = _report("--warehouse", str(tmp_path / "nothing"))
    assert empty.returncode == 2 and str(tmp_path / "nothing") in empty.stderr


class _Table(HTMLParser):
    """The cells of the table ``<table id=...>``."""

    def __init__(self, table_id: str) -> None:
        super().__init__()
        self.table_id, self.inside, self.rows, self.cell = table_id, False, [], None

    def handle_starttag(self, tag, attrs):
        if tag == "table" and dict(attrs).get("id") == self.table_id:
            self.inside = True
        elif self.inside and tag == "tr":
            self.rows.append([])
        elif self.inside and tag in ("td", "th"):
            self.cell = ""

    def handle_endtag(self, tag):
        if tag == "table":
            self.inside = False
        elif self.inside and tag in ("td", "th"):
            self.rows[-1].append(self.cell)
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def month_table(page: str) -> list[list[str]]:
    parser = _Table("month-by-team")
    parser.feed(page)
    return parser.rows


def test_the_dashboard_shows_this_month_by_team(months: WarehouseResource):
    store = months.get()
    page = render(load(store))  # every day: the latest month is November 1-5, against Oct 1-5
    assert "<h2>This month by team</h2>" in page
    assert (
        "<b>Nov 1-5 vs Oct 1-5</b> (2026-11 incomplete, against the same days of 2026-10): "
        "5 day(s) in the range (2026-11-01 .. 2026-11-05) against 5 day(s) of Oct 1-5."
    ) in page
    header, *rows = month_table(page)
    assert header[:4] == ["team", "days", "cost (USD)", "Oct 1-5 (USD)"]
    summary = monthly_summary(store, "2026-11")
    assert [r[0] for r in rows] == summary["team"].to_list()
    for cells, row in zip(rows, summary.iter_rows(named=True), strict=True):
        assert cells[2] == f"{row['cost_usd']:,.2f}"
        assert cells[3] == f"{row['last_month_cost_usd']:,.2f}"
        assert cells[4] == f"{row['change_usd']:+,.2f}"
        assert cells[5] == f"{row['change_pct']:+,.1f}%"
        assert cells[6] == f"{row['top_destination_owner']} {row['top_destination']}"
        assert cells[8] == f"{row['endpoint_saving_usd']:,.2f}"


def test_the_dashboards_month_is_the_ranges_days_of_it(months: WarehouseResource):
    store = months.get()
    page = render(load(store, D("2026-10-20"), D("2026-11-02")))
    # October 1-2 are outside the range, but they are what November 1-2 is compared with
    assert "<b>Nov 1-2 vs Oct 1-2</b>" in page
    assert "2 day(s) in the range (2026-11-01 .. 2026-11-02) against 2 day(s) of Oct 1-2" in page
    expected = monthly_summary(store, "2026-11", [D("2026-11-01"), D("2026-11-02")])
    header, *rows = month_table(page)
    assert header[3] == "Oct 1-2 (USD)"
    assert [r[2] for r in rows] == [f"{v:,.2f}" for v in expected["cost_usd"]]
    assert [r[3] for r in rows] == [f"{v:,.2f}" for v in expected["last_month_cost_usd"]]
    # a range covering October: whole months; September has no data, so no change is shown
    october = render(load(store, D("2026-10-01"), D("2026-10-31")))
    assert "<b>2026-10 vs 2026-09</b> (whole months)" in october
    assert "2026-09 has no data, so no change is shown" in october
    assert {tuple(r[3:6]) for r in month_table(october)[1:]} == {("–", "–", "–")}
