"""focus_network_costs: the sample days in FOCUS 1.2 columns, every row valid, the totals the gold
table's, and the export CLI's Parquet and CSV files (local and on a moto S3 server) the table."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import boto3
import polars as pl
import pytest

from natflow_pipeline import tables
from natflow_pipeline.demo import sample_days
from natflow_pipeline.focus import (
    CHARGES,
    DAY_COLUMN,
    FOCUS_SCHEMA,
    REQUIRED_COLUMNS,
    ROW_ORDER,
    focus_rows,
    validate,
)
from natflow_pipeline.focus_export import CSV_DATETIME_FORMAT, file_name
from natflow_pipeline.ipam import UNATTRIBUTED

ROOT = Path(__file__).resolve().parents[1]
DAYS = [date.fromisoformat(d) for d in sample_days()]


def focus_day(warehouse, day: date) -> pl.DataFrame:
    return warehouse.get().read_day(tables.FOCUS_NETWORK_COSTS, day).sort(ROW_ORDER)


def gold_day(warehouse, day: date) -> pl.DataFrame:
    return warehouse.get().read_day(tables.TEAM_DAILY_COSTS, day)


def test_every_sample_row_is_focus_1_2(sample_warehouse):
    for day in DAYS:
        frame = focus_day(sample_warehouse, day)
        assert frame.height > 0, day
        assert set(REQUIRED_COLUMNS) <= set(frame.columns)
        assert dict(frame.schema) == FOCUS_SCHEMA
        assert validate(frame) == [], day
        assert set(frame["ChargeCategory"]) == {"Usage"}
        assert set(frame["ServiceCategory"]) == {"Networking"}
        assert set(frame["BillingCurrency"]) == {"USD"}
        assert set(frame["x_charge"]) == {charge.name for charge in CHARGES}
        assert set(frame[DAY_COLUMN]) == {day}
        midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
        assert set(frame["ChargePeriodStart"]) == {midnight}
        assert {
            (e - s).total_seconds()
            for s, e in frame.select("ChargePeriodStart", "ChargePeriodEnd").iter_rows()
        } == {86400.0}
        teams = [json.loads(tags)["team"] for tags in frame["Tags"]]
        assert teams == frame["x_team"].to_list()


def test_validate_names_the_row_and_column_of_every_violation(sample_warehouse):
    good = focus_day(sample_warehouse, DAYS[0])
    index = pl.int_range(pl.len())
    bad = good.with_columns(
        pl.when(index == 1).then(pl.lit("Use")).otherwise("ChargeCategory").alias("ChargeCategory"),
        pl.when(index == 2)
        .then(None)
        .when(index == 7)
        .then(pl.lit("usd"))
        .otherwise("BillingCurrency")
        .alias("BillingCurrency"),
        pl.when(index == 3).then(pl.lit("{not json")).otherwise("Tags").alias("Tags"),
        pl.when(index == 4).then(pl.lit("gigabytes")).otherwise("PricingUnit").alias("PricingUnit"),
        pl.when(index == 5).then(None).otherwise("ConsumedQuantity").alias("ConsumedQuantity"),
        pl.when(index == 6)
        .then(pl.lit("Networks"))
        .otherwise("ServiceCategory")
        .alias("ServiceCategory"),
        pl.lit("x").alias("Team"),
    ).drop("ProviderName")
    problems = validate(bad)
    expected = [
        "column ProviderName: required by FOCUS 1.2, missing",
        "column Team: a custom column must start with 'x_'",
        "row 1, column ChargeCategory: 'Use' is not an allowed value",
        "row 2, column BillingCurrency: null, but FOCUS does not allow nulls here",
        "row 3, column Tags: '{not json' is not a JSON object",
        "row 4, column PricingUnit: 'gigabytes' is not a unit in Unit Format",
        "row 5, column ConsumedQuantity: None on a Usage row",
        "row 5, column ConsumedUnit: ConsumedUnit must be null exactly when ConsumedQuantity is",
        "row 6, column ServiceCategory: 'Networks' is not an allowed value",
        "row 7, column BillingCurrency: 'usd' is not an ISO 4217 code",
    ]
    for message in expected:
        assert any(p.startswith(message) for p in problems), (message, problems)
    assert len(problems) == len(expected)
    # a wrong type is named by column
    retyped = good.with_columns(pl.col("BilledCost").cast(pl.String))
    assert validate(retyped) == ["column BilledCost: type String, expected Float64"]


def test_totals_are_the_gold_tables_per_day_and_team(sample_warehouse):
    for day in DAYS:
        gold = gold_day(sample_warehouse, day)
        frame = focus_day(sample_warehouse, day)
        gold_by_team = gold.group_by("team").agg(
            pl.col("total_usd").sum(),
            pl.col("data_processing_usd").sum(),
            pl.col("hourly_usd").sum(),
            pl.col("gb").sum(),
        )
        focus_by_team = frame.group_by("x_team").agg(
            pl.col("BilledCost").sum().alias("billed"),
            pl.col("BilledCost")
            .filter(pl.col("x_charge") == "nat_data_processing")
            .sum()
            .alias("processing"),
            pl.col("BilledCost")
            .filter(pl.col("x_charge") == "nat_gateway_hours")
            .sum()
            .alias("hourly"),
            pl.col("PricingQuantity")
            .filter(pl.col("x_charge") == "nat_data_processing")
            .sum()
            .alias("gb"),
        )
        joined = gold_by_team.join(
            focus_by_team, left_on="team", right_on="x_team", how="full", coalesce=True
        )
        assert joined.height == gold_by_team.height == focus_by_team.height, day
        for row in joined.iter_rows(named=True):
            assert round(row["billed"], 2) == round(row["total_usd"], 2), row
            assert abs(row["billed"] - row["total_usd"]) < 1e-9, row
            assert abs(row["processing"] - row["data_processing_usd"]) < 1e-9, row
            assert abs(row["hourly"] - row["hourly_usd"]) < 1e-9, row
            assert abs(row["gb_right"] - row["gb"]) < 1e-9, row  # billed GB
        # each gateway's hours, shared to teams, add up to the hours it was charged for
        hours = (
            frame.filter(pl.col("x_charge") == "nat_gateway_hours")
            .group_by("ResourceId")
            .agg(pl.col("PricingQuantity").sum())
        )
        charged = gold.group_by("interface_id").agg(pl.col("gateway_hours").first())
        for resource, quantity in hours.iter_rows():
            expected = charged.filter(pl.col("interface_id") == resource)["gateway_hours"][0]
            assert abs(quantity - expected) < 1e-9


def test_a_charge_without_cost_or_quantity_has_no_row():
    gold = pl.DataFrame(
        {
            "usage_date": [date(2026, 11, 1)] * 2,
            "team": ["payments", UNATTRIBUTED],
            "account_id": ["111111111111"] * 2,
            "source_account_id": [None, None],
            "region": ["us-east-1"] * 2,
            "interface_id": ["eni-1"] * 2,
            "direction": ["egress"] * 2,
            "destination_class": ["internet"] * 2,
            "aws_service": [None, None],
            "flows": [3, 1],
            "bytes": [3 * 2**30, 2**30],
            "gb": [3.0, 1.0],
            "data_processing_usd": [0.135, 0.045],
            "hourly_usd": [0.0, 0.0],  # hourly_allocation: none
            "total_usd": [0.135, 0.045],
            "gateway_hours": [24, 24],
        },
        schema=tables.TEAM_DAILY_COSTS.schema,
    )
    frame = focus_rows(gold)
    assert validate(frame) == []
    assert frame["x_charge"].to_list() == ["nat_data_processing"] * 2
    assert frame["ConsumedQuantity"].to_list() == [3.0 * 2**30, float(2**30)]
    assert frame["ConsumedUnit"].to_list() == ["B", "B"]
    assert frame["PricingUnit"].to_list() == ["GB", "GB"]
    empty = focus_rows(gold.clear())
    assert empty.is_empty() and dict(empty.schema) == FOCUS_SCHEMA


def export(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "natflow_pipeline.focus_export", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def read_csv(data: bytes) -> pl.DataFrame:
    """A CSV export back in the table's types."""
    raw = pl.read_csv(io.BytesIO(data), schema={name: pl.String for name in FOCUS_SCHEMA})
    converted = []
    for name, dtype in FOCUS_SCHEMA.items():
        if isinstance(dtype, pl.Datetime):
            converted.append(
                pl.col(name).str.to_datetime(CSV_DATETIME_FORMAT, time_unit="us", time_zone="UTC")
            )
        elif dtype == pl.Date:
            converted.append(pl.col(name).str.to_date())
        else:
            converted.append(pl.col(name).cast(dtype))
    return raw.select(converted)


def read_back(fmt: str, data: bytes) -> pl.DataFrame:
    return pl.read_parquet(io.BytesIO(data)) if fmt == "parquet" else read_csv(data)


def assert_files_equal_table(sample_warehouse, fmt: str, read) -> None:
    for day in DAYS:
        written = read_back(fmt, read(file_name(day, fmt)))
        assert written.equals(focus_day(sample_warehouse, day)), (fmt, day)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_the_cli_writes_a_local_folder(sample_warehouse, tmp_path, fmt):
    out = tmp_path / "focus"
    result = export(
        {"NATFLOW_WAREHOUSE_URI": sample_warehouse.uri},
        *("--start", sample_days()[0], "--end", sample_days()[-1], "--format", fmt),
        *("--to", str(out)),
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == [file_name(d, fmt) for d in DAYS]
    assert_files_equal_table(sample_warehouse, fmt, lambda name: (out / name).read_bytes())


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_the_cli_writes_an_s3_prefix(moto_server, sample_warehouse, fmt):
    s3 = boto3.client("s3", endpoint_url=moto_server)
    bucket = f"natflow-focus-{fmt}"
    s3.create_bucket(Bucket=bucket)
    result = export(
        {
            "NATFLOW_WAREHOUSE_URI": sample_warehouse.uri,
            "NATFLOW_S3_ENDPOINT_URL": moto_server,
            "NATFLOW_S3_REGION": "us-east-1",
        },
        *("--start", sample_days()[0], "--end", sample_days()[-1], "--format", fmt),
        *("--to", f"s3://{bucket}/finops/focus/"),
    )
    assert result.returncode == 0, result.stderr
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == [f"finops/focus/{file_name(d, fmt)}" for d in DAYS]
    assert_files_equal_table(
        sample_warehouse,
        fmt,
        lambda name: s3.get_object(Bucket=bucket, Key=f"finops/focus/{name}")["Body"].read(),
    )


def test_the_cli_names_the_table_and_the_days_it_lacks(sample_warehouse, tmp_path):
    out = tmp_path / "none"
    args = ("--format", "csv", "--to", str(out))
    result = export(
        {"NATFLOW_WAREHOUSE_URI": sample_warehouse.uri},
        *("--start", sample_days()[-1], "--end", "2026-11-05", *args),
    )
    assert result.returncode == 1
    assert "focus_network_costs" in result.stderr
    assert "2026-11-04, 2026-11-05" in result.stderr and sample_days()[-1] not in result.stderr
    assert not out.exists()  # nothing written when a day is missing
    empty = tmp_path / "empty-warehouse"
    result = export(
        {"NATFLOW_WAREHOUSE_URI": str(empty)},
        *("--start", sample_days()[0], "--end", sample_days()[0], *args),
    )
    assert result.returncode == 1
    assert f"focus_network_costs: no table at {empty}/focus_network_costs" in result.stderr
