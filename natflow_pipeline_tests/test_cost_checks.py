"""The gold table's check rules on hand-made rows."""

from __future__ import annotations

from datetime import date, datetime, timezone

import polars as pl

from natflow_pipeline.cost_checks import attribution, completeness, row_accounting

DAY = date(2026, 11, 2)
MIDNIGHT = int(datetime(2026, 11, 2, tzinfo=timezone.utc).timestamp())


def nat_rows(*rows: tuple[date, str, int]) -> pl.DataFrame:
    return pl.DataFrame(
        [(d, "999999999999", "us-east-1", eni, start) for d, eni, start in rows],
        schema={
            "usage_date": pl.Date,
            "account_id": pl.String,
            "region": pl.String,
            "interface_id": pl.String,
            "start": pl.Int64,
        },
        orient="row",
    )


def test_an_interface_missing_hours_today_or_silent_since_yesterday_is_reported():
    full_day = [(DAY, "eni-a", MIDNIGHT + h * 3600 + 59) for h in range(24)]
    partial = [(DAY, "eni-b", MIDNIGHT + h * 3600) for h in range(24) if h not in (3, 17)]
    yesterday_only = [(date(2026, 11, 1), "eni-c", MIDNIGHT - 60)]
    result = completeness(DAY, nat_rows(*full_day, *partial, *yesterday_only))
    assert result.interfaces == 3 and not result.passed
    gaps = {r["interface_id"]: r["missing_hours"] for r in result.gaps.rows(named=True)}
    assert gaps == {"eni-b": [3, 17], "eni-c": list(range(24))}


def test_every_hour_covered_passes():
    assert completeness(
        DAY, nat_rows(*[(DAY, "eni-a", MIDNIGHT + h * 3600) for h in range(24)])
    ).passed


def test_no_interface_seen_at_all_passes_with_no_gaps():
    result = completeness(DAY, nat_rows())
    assert result.passed and result.interfaces == 0 and "missing_hours" in result.gaps.columns


def test_attribution_share_and_top_unattributed_addresses():
    enriched = pl.DataFrame(
        {
            "team": ["payments", "unattributed", "unattributed", "unattributed"],
            "internal_addr": ["10.0.0.1", "10.40.3.9", "10.40.3.7", "10.40.3.9"],
            "bytes": [900, 30, 50, 20],
        }
    )
    result = attribution(enriched)
    assert result.share == 0.1
    assert result.top_unattributed.rows() == [("10.40.3.7", 50, 1), ("10.40.3.9", 50, 2)]


def test_attribution_of_rows_summed_per_address_counts_the_rows_they_stand_for():
    per_address = pl.DataFrame(
        {
            "team": ["payments", "unattributed", "unattributed"],
            "internal_addr": ["10.0.0.1", "10.40.3.9", "10.40.3.7"],
            "bytes": [900, 50, 50],
            "flows": [3, 2, 1],
        }
    )
    result = attribution(per_address)
    assert result.share == 0.1
    assert result.top_unattributed.rows() == [("10.40.3.7", 50, 1), ("10.40.3.9", 50, 2)]


def test_row_accounting_needs_balanced_files_and_every_kept_row_costed():
    files = pl.DataFrame(
        {
            "rows_read": [10, 5],
            "rows_kept": [4, 2],
            "rows_non_nat": [4, 2],
            "rows_no_data": [1, 0],
            "rows_other_day": [0, 1],
            "rows_rejected": [1, 0],
        }
    )
    assert row_accounting(files, pl.DataFrame({"flows": [4, 2]})).passed
    assert not row_accounting(files, pl.DataFrame({"flows": [4, 1]})).passed
    assert not row_accounting(
        files.with_columns(pl.col("rows_read") + 1), pl.DataFrame({"flows": [6]})
    ).balanced
