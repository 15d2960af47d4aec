"""focus_network_costs: the sample days in FOCUS 1.2 columns (every Mandatory column of the spec),
every row valid, the totals the gold table's, the billed GB's unit and the billing account as the
run configures them, and the export CLI's Parquet and CSV files (local and on a moto S3 server)
the table."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import boto3
import dagster as dg
import polars as pl
import pytest

from natflow_pipeline import report, tables, warehouse
from natflow_pipeline.assets.focus import focus_network_costs
from natflow_pipeline.demo import sample_days
from natflow_pipeline.focus import (
    CHARGES,
    COST_COLUMNS,
    DAY_COLUMN,
    FOCUS_COLUMNS,
    FOCUS_SCHEMA,
    REQUIRED_COLUMNS,
    ROW_ORDER,
    billed_gb_unit,
    focus_rows,
    validate,
)
from natflow_pipeline.focus_export import CSV_DATETIME_FORMAT, file_name
from natflow_pipeline.ipam import UNATTRIBUTED
from natflow_pipeline.pricing import BILLING_GB_BYTES_BINARY, BILLING_GB_BYTES_DECIMAL
from natflow_pipeline.resources.pricing import PricingResource
from natflow_pipeline.resources.warehouse import WarehouseResource

ROOT = Path(__file__).resolve().parents[1]
DAYS = [date.fromisoformat(d) for d in sample_days()]

#: The Mandatory columns of FOCUS 1.2 (https://focus.finops.org/focus-specification/v1-2/), from
#: the spec's column files, FinOps-Open-Cost-and-Usage-Spec/FOCUS_Spec
#: specification/columns/<column>.md, "Feature level: Mandatory" (1.2 changed no feature level:
#: CHANGELOG.md, v1.2). Written out here, not taken from natflow_pipeline.focus, so a column the
#: module forgets fails the test.
FOCUS_1_2_MANDATORY = (
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "ContractedCost",
    "EffectiveCost",
    "InvoiceIssuerName",
    "ListCost",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "ServiceCategory",
    "ServiceName",
)
#: Conditional columns whose condition AWS meets (it publishes list prices exclusive of discounts,
#: supports negotiated pricing and more than one pricing category), and the Recommended
#: ChargeFrequency: natflow writes them too.
AWS_CONDITIONAL = ("ListUnitPrice", "ContractedUnitPrice", "PricingCategory", "ChargeFrequency")
TEAM_TAG = "natflow/team"


def focus_day(warehouse, day: date) -> pl.DataFrame:
    return warehouse.get().read_day(tables.FOCUS_NETWORK_COSTS, day).sort(ROW_ORDER)


def gold_day(warehouse, day: date) -> pl.DataFrame:
    return warehouse.get().read_day(tables.TEAM_DAILY_COSTS, day)


def test_every_mandatory_focus_1_2_column_is_in_the_schema():
    assert set(FOCUS_1_2_MANDATORY) <= set(FOCUS_SCHEMA)
    assert set(AWS_CONDITIONAL) <= set(FOCUS_SCHEMA)
    assert set(REQUIRED_COLUMNS) == set(FOCUS_1_2_MANDATORY)
    levels = {c.name: c.feature_level for c in FOCUS_COLUMNS}
    assert {levels[name] for name in FOCUS_1_2_MANDATORY} == {"Mandatory"}


def test_every_sample_row_is_focus_1_2(sample_warehouse):
    for day in DAYS:
        frame = focus_day(sample_warehouse, day)
        assert frame.height > 0, day
        missing = [c for c in (*FOCUS_1_2_MANDATORY, *AWS_CONDITIONAL) if c not in frame.columns]
        assert missing == [], day
        assert dict(frame.schema) == FOCUS_SCHEMA
        assert validate(frame) == [], day
        assert set(frame["ChargeCategory"]) == {"Usage"}
        assert frame["ChargeClass"].null_count() == frame.height  # no corrections
        assert set(frame["ChargeFrequency"]) == {"Usage-Based"}
        assert set(frame["PricingCategory"]) == {"Standard"}
        assert set(frame["ServiceCategory"]) == {"Networking"}
        assert set(frame["BillingCurrency"]) == {"USD"}
        assert set(frame["ProviderName"]) == {"AWS"}
        assert set(frame["PublisherName"]) == {"Amazon Web Services"}
        assert set(frame["InvoiceIssuerName"]) == {"Amazon Web Services, Inc."}
        assert set(frame["x_charge"]) == {charge.name for charge in CHARGES}
        assert set(frame[DAY_COLUMN]) == {day}
        midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
        assert set(frame["ChargePeriodStart"]) == {midnight}
        assert {
            (e - s).total_seconds()
            for s, e in frame.select("ChargePeriodStart", "ChargePeriodEnd").iter_rows()
        } == {86400.0}
        # the UTC calendar month of the day
        month_end = datetime(day.year + day.month // 12, day.month % 12 + 1, 1, tzinfo=UTC)
        assert set(frame["BillingPeriodStart"]) == {midnight.replace(day=1)}
        assert set(frame["BillingPeriodEnd"]) == {month_end}
        # unconfigured, the billing account is the NAT gateway's own account
        assert frame["BillingAccountId"].to_list() == frame["SubAccountId"].to_list()
        assert frame["BillingAccountName"].to_list() == frame["SubAccountId"].to_list()
        for cost in ("EffectiveCost", "ListCost", "ContractedCost"):
            assert frame[cost].to_list() == frame["BilledCost"].to_list()
        for price, cost in (
            ("ListUnitPrice", "ListCost"),
            ("ContractedUnitPrice", "ContractedCost"),
        ):
            for unit_price, quantity, amount in frame.select(
                price, "PricingQuantity", cost
            ).iter_rows():
                assert unit_price * quantity == pytest.approx(amount, rel=1e-9)
        units = dict(frame.select("x_charge", "PricingUnit").unique().iter_rows())
        # the default billed GB is 2^30 bytes: a GiB in Unit Format
        assert units == {"nat_data_processing": "GiB", "nat_gateway_hours": "Hours"}
        tags = [json.loads(text) for text in frame["Tags"]]
        assert all(set(t) == {TEAM_TAG} for t in tags)
        assert [t[TEAM_TAG] for t in tags] == frame["x_team"].to_list()


def test_unit_prices_are_the_regions_nat_prices(sample_warehouse):
    book = PricingResource().price_book()
    frame = focus_day(sample_warehouse, DAYS[0])
    for region, charge, unit_price in frame.select(
        "RegionId", "x_charge", "ListUnitPrice"
    ).iter_rows():
        expected = book.per_gb(region) if charge == "nat_data_processing" else book.per_hour(region)
        assert unit_price == pytest.approx(expected, rel=1e-9), (region, charge)


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


def row_set(frame: pl.DataFrame, row: int, **values) -> pl.DataFrame:
    """``frame`` with row ``row``'s columns set to ``values`` (same types)."""
    index = pl.int_range(pl.len())
    return frame.with_columns(
        pl.when(index == row)
        .then(pl.lit(value, dtype=frame.schema[name]))
        .otherwise(pl.col(name))
        .alias(name)
        for name, value in values.items()
    )


def test_validate_checks_the_partition_day_against_the_charge_period(sample_warehouse):
    good = focus_day(sample_warehouse, DAYS[0])
    bad = row_set(good, 2, **{DAY_COLUMN: DAYS[0] + timedelta(days=1)})
    assert validate(bad) == [
        f"row 2, column {DAY_COLUMN}: {DAYS[0] + timedelta(days=1)} is not the UTC day of "
        f"ChargePeriodStart {good['ChargePeriodStart'][2]}"
    ]


@pytest.mark.parametrize("shift", [timedelta(0), -timedelta(hours=1)])
def test_validate_checks_a_charge_period_ends_after_it_starts(sample_warehouse, shift):
    good = focus_day(sample_warehouse, DAYS[0])
    start = good["ChargePeriodStart"][1]
    problems = validate(row_set(good, 1, ChargePeriodEnd=start + shift))
    assert problems == [
        f"row 1, column ChargePeriodEnd: {start + shift} is not after ChargePeriodStart {start}"
    ]


def test_validate_checks_a_billing_period_ends_after_it_starts(sample_warehouse):
    good = focus_day(sample_warehouse, DAYS[0])
    start = good["BillingPeriodStart"][0]
    problems = validate(row_set(good, 0, BillingPeriodEnd=start))
    assert problems == [
        f"row 0, column BillingPeriodEnd: {start} is not after BillingPeriodStart {start}"
    ]


@pytest.mark.parametrize("column", COST_COLUMNS)
@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_validate_rejects_a_cost_that_is_not_a_number(sample_warehouse, column, value):
    good = focus_day(sample_warehouse, DAYS[0])
    problems = validate(row_set(good, 3, **{column: value}))
    assert f"row 3, column {column}: {value} is not a number (Numeric Format)" in problems
    # only the number, and the unit price it no longer matches, are named
    assert {p.split(":")[0] for p in problems} <= {
        f"row 3, column {column}",
        "row 3, column ListUnitPrice",
        "row 3, column ContractedUnitPrice",
    }


@pytest.mark.parametrize(
    "tags",
    ['["natflow/team", "payments"]', '"payments"', "42", "null", '{"natflow/team": {"a": 1}}', ""],
)
def test_validate_requires_tags_to_be_a_json_object(sample_warehouse, tags):
    good = focus_day(sample_warehouse, DAYS[0])
    problems = validate(row_set(good, 0, Tags=tags))
    assert problems == [f"row 0, column Tags: {tags!r} is not a JSON object (Key-Value Format)"]


def test_validate_checks_the_columns_added_for_focus_1_2(sample_warehouse):
    good = focus_day(sample_warehouse, DAYS[0])
    for name in ("BillingAccountId", "BillingPeriodStart", "ContractedCost", "PublisherName"):
        assert validate(good.drop(name)) == [f"column {name}: required by FOCUS 1.2, missing"]
    cases = {
        "ChargeClass": ("Refund", "'Refund' is not an allowed value (Correction)"),
        "ChargeFrequency": ("Hourly", "'Hourly' is not an allowed value"),
        "PricingCategory": ("On-Demand", "'On-Demand' is not an allowed value"),
        "BillingAccountId": (None, "null, but FOCUS does not allow nulls here"),
        "InvoiceIssuerName": (None, "null, but FOCUS does not allow nulls here"),
        "ListUnitPrice": (None, "null on a Usage row"),
        "ContractedUnitPrice": (123.0, "123.0 x PricingQuantity"),
    }
    for column, (value, message) in cases.items():
        problems = validate(row_set(good, 4, **{column: value}))
        assert len(problems) == 1 and problems[0].startswith(
            f"row 4, column {column}: {message}"
        ), (
            column,
            problems,
        )


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


@pytest.mark.parametrize(
    ("billing_gb_bytes", "unit"),
    [(BILLING_GB_BYTES_BINARY, "GiB"), (BILLING_GB_BYTES_DECIMAL, "GB")],
)
def test_a_charge_without_cost_or_quantity_has_no_row(billing_gb_bytes, unit):
    assert billed_gb_unit(billing_gb_bytes) == unit
    processed = [3 * billing_gb_bytes, billing_gb_bytes]
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
            "bytes": processed,
            "gb": [3.0, 1.0],
            "data_processing_usd": [0.135, 0.045],
            "hourly_usd": [0.0, 0.0],  # hourly_allocation: none
            "total_usd": [0.135, 0.045],
            "gateway_hours": [24, 24],
        },
        schema=tables.TEAM_DAILY_COSTS.schema,
    )
    frame = focus_rows(gold, gb_unit=billed_gb_unit(billing_gb_bytes))
    assert validate(frame) == []
    assert frame["x_charge"].to_list() == ["nat_data_processing"] * 2
    assert frame["ConsumedQuantity"].to_list() == [float(b) for b in processed]
    assert frame["ConsumedUnit"].to_list() == ["B", "B"]
    assert frame["PricingQuantity"].to_list() == [3.0, 1.0]
    assert frame["PricingUnit"].to_list() == [unit, unit]
    assert frame["ListUnitPrice"].to_list() == pytest.approx([0.045, 0.045])
    empty = focus_rows(gold.clear(), gb_unit=unit)
    assert empty.is_empty() and dict(empty.schema) == FOCUS_SCHEMA


def test_a_billed_gb_of_another_size_has_no_unit():
    with pytest.raises(ValueError, match="no FOCUS unit"):
        billed_gb_unit(1000**2)


def test_the_asset_takes_the_unit_from_pricing_and_the_account_from_its_config(
    sample_warehouse, tmp_path
):
    """focus_network_costs alone, over a sample day's team_daily_costs re-priced in decimal GB
    (the whole graph would not reconcile with the sample's Cost Explorer figures), with
    ``billing_gb_bytes: 10^9`` and a configured payer account."""
    day = DAYS[0]
    book = PricingResource(billing_gb_bytes=BILLING_GB_BYTES_DECIMAL).price_book()
    gold = gold_day(sample_warehouse, day).with_columns(
        (pl.col("bytes") / BILLING_GB_BYTES_DECIMAL).alias("gb")
    )
    gold = gold.with_columns(
        (pl.col("gb") * pl.col("region").map_elements(book.per_gb, pl.Float64)).alias(
            "data_processing_usd"
        )
    ).with_columns((pl.col("data_processing_usd") + pl.col("hourly_usd")).alias("total_usd"))
    store = WarehouseResource(uri=str(tmp_path / "warehouse"))
    table = tables.TEAM_DAILY_COSTS
    store.get().write_partition(table.name, gold.cast(table.schema), table.partition_column, day)
    config = {"billing_account_id": "210987654321", "billing_account_name": "Example payer"}
    result = dg.materialize(
        [focus_network_costs],
        partition_key=day.isoformat(),
        resources={
            "warehouse": store,
            "pricing": PricingResource(billing_gb_bytes=BILLING_GB_BYTES_DECIMAL),
        },
        run_config={"ops": {"focus_network_costs": {"config": config}}},
    )
    assert result.success
    frame = focus_day(store, day)
    assert validate(frame) == []
    processing = frame.filter(pl.col("x_charge") == "nat_data_processing")
    assert set(processing["PricingUnit"]) == {"GB"}
    gb = processing.select(pl.col("ConsumedQuantity") / 10**9 - pl.col("PricingQuantity"))
    assert gb.to_series().abs().max() < 1e-9  # a GB is 10^9 bytes
    for region, unit_price in processing.select("RegionId", "ListUnitPrice").iter_rows():
        assert unit_price == pytest.approx(book.per_gb(region), rel=1e-9)
    assert set(frame["BillingAccountId"]) == {"210987654321"}
    assert set(frame["BillingAccountName"]) == {"Example payer"}
    assert "210987654321" not in set(frame["SubAccountId"])
    assert abs(frame["BilledCost"].sum() - gold["total_usd"].sum()) < 1e-9


def test_the_cli_and_the_report_read_the_same_warehouse_setting():
    assert report.warehouse_from_settings is warehouse.warehouse_from_settings


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


def test_the_cli_reads_the_warehouse_option_over_the_setting(sample_warehouse, tmp_path):
    out = tmp_path / "focus"
    result = export(
        {"NATFLOW_WAREHOUSE_URI": str(tmp_path / "no-warehouse")},
        *("--start", sample_days()[0], "--end", sample_days()[0], "--format", "parquet"),
        *("--to", str(out), "--warehouse", sample_warehouse.uri),
    )
    assert result.returncode == 0, result.stderr
    written = pl.read_parquet(out / file_name(DAYS[0], "parquet"))
    assert written.equals(focus_day(sample_warehouse, DAYS[0]))


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
