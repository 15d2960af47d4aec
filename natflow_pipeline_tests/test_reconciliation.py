"""Reconciliation rules on hand-made rows: tolerance, estimated and young days, missing sides."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from natflow_pipeline.reconciliation import SCHEMA, Tolerance, reconcile, worst_status

DAY = date(2026, 11, 2)
TODAY = date(2026, 11, 27)
GB = 2**30


def flows(*rows: tuple[str, str, int]) -> pl.DataFrame:
    return pl.DataFrame(
        rows, schema={"account_id": pl.String, "region": pl.String, "bytes": pl.Int64}, orient="row"
    )


def billed(*rows: tuple[str, str, float]) -> pl.DataFrame:
    return pl.DataFrame(
        [(a, r, gb, gb * 0.045) for a, r, gb in rows],
        schema={
            "account_id": pl.String,
            "region": pl.String,
            "usage_quantity": pl.Float64,
            "unblended_cost": pl.Float64,
        },
        orient="row",
    )


def run(
    flow: pl.DataFrame,
    ce: pl.DataFrame,
    estimated: bool = False,
    today: date = TODAY,
    gb_bytes: int = GB,
) -> pl.DataFrame:
    return reconcile(DAY, flow, ce, estimated, gb_bytes, Tolerance(), today)


def test_within_one_percent_passes_and_beyond_fails():
    table = run(
        flows(("1", "us-east-1", 100 * GB), ("2", "eu-west-1", 100 * GB)),
        billed(("1", "us-east-1", 100.9), ("2", "eu-west-1", 102.0)),
    )
    assert table.schema == pl.Schema(SCHEMA)
    assert table["status"].to_list() == ["PASS", "ERROR"]
    assert table["difference_gb"].to_list() == pytest.approx([-0.9, -2.0])
    assert table["difference_pct"].to_list() == pytest.approx([-0.9 / 100.9 * 100, -2 / 102 * 100])
    assert worst_status(table) == "ERROR"


def test_an_estimated_or_young_day_warns_instead_of_failing():
    far_off = (flows(("1", "us-east-1", 100 * GB)), billed(("1", "us-east-1", 150.0)))
    assert run(*far_off, estimated=True)["status"].to_list() == ["WARN"]
    assert run(*far_off, today=date(2026, 11, 3))["status"].to_list() == ["WARN"]
    assert run(*far_off, today=date(2026, 11, 4))["status"].to_list() == ["ERROR"]


def test_a_side_with_no_row_is_an_error_on_a_final_day():
    table = run(flows(("1", "us-east-1", 10 * GB)), billed(("3", "us-west-2", 5.0)))
    rows = {r["account_id"]: r for r in table.rows(named=True)}
    assert (
        rows["1"]["cost_explorer_gb"] is None
        and rows["1"]["status"] == "ERROR"
        and rows["1"]["difference_pct"] is None
    )
    assert rows["3"]["flow_log_gb"] == 0 and rows["3"]["status"] == "ERROR"


def test_tiny_usage_below_the_absolute_floor_passes():
    assert run(flows(), billed(("1", "us-east-1", 0.000008)))["status"].to_list() == ["PASS"]


def test_the_gb_definition_is_visible_as_a_seven_percent_gap():
    decimal_bill = billed(("1", "us-east-1", 100 * GB / 10**9))
    assert run(flows(("1", "us-east-1", 100 * GB)), decimal_bill, gb_bytes=10**9)[
        "status"
    ].to_list() == ["PASS"]
    table = run(flows(("1", "us-east-1", 100 * GB)), decimal_bill, gb_bytes=GB)
    assert table["status"].to_list() == ["ERROR"]
    assert table["difference_pct"].item() == pytest.approx((10**9 / GB - 1) * 100)
    assert table["billing_gb_bytes"].item() == GB


def test_a_day_with_no_nat_usage_anywhere_passes_once_final_and_warns_before():
    table = run(flows(), billed())
    assert table.is_empty() and worst_status(table) == "PASS"
    assert worst_status(table, provisional=True) == "WARN"
