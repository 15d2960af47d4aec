"""endpoint_savings: what gateway and interface endpoints would save, against hand-worked
numbers."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from natflow_pipeline.endpoint_pricing import EndpointPriceBook, UnknownEndpointPrice
from natflow_pipeline.endpoint_savings import endpoint_savings, excluded_aws_bytes
from natflow_pipeline.pricing import PriceBook
from natflow_pipeline_tests.flow_rows import GB, frame, row

NAT = PriceBook()  # us-east-1: $0.045 per GB processed
ENDPOINTS = EndpointPriceBook()  # us-east-1: $0.01 per endpoint-AZ-hour, $0.01 per GB; 3 AZs


def savings_of(rows: list[dict], endpoints: EndpointPriceBook = ENDPOINTS) -> pl.DataFrame:
    return endpoint_savings(frame(rows), NAT, endpoints)


def test_gateway_endpoint_saves_the_whole_nat_processing_charge():
    got = savings_of(
        [row("payments", "10.10.1.5", "16.15.0.9", 40 * GB, "S3", "us-east-1", direction="ingress")]
    )
    (line,) = got.iter_rows(named=True)
    assert (line["endpoint_type"], line["endpoint_service"]) == (
        "gateway",
        "com.amazonaws.us-east-1.s3",
    )
    assert line["gb"] == 40.0
    assert line["nat_processing_usd"] == pytest.approx(40 * 0.045)
    assert line["endpoint_processing_usd"] == line["endpoint_hourly_usd"] == 0.0
    assert line["saving_usd"] == pytest.approx(1.8)
    assert line["days_in_month"] == 30  # November
    assert line["monthly_saving_usd"] == pytest.approx(1.8 * 30)
    assert line["break_even_gb_per_day"] == 0.0 and line["recommended"]
    assert "no charge" in line["price_source"]


def test_interface_endpoint_pays_off_above_its_break_even_volume():
    # 100 GB a day to API Gateway from two teams (60/40): one endpoint in 3 AZs costs
    # 0.01 x 3 x 24 = $0.72/day
    rows = [
        row("payments", "10.10.1.5", "3.218.0.1", 60 * GB, "API_GATEWAY", "us-east-1"),
        row(
            "search",
            "10.20.1.7",
            "3.218.0.1",
            40 * GB,
            "API_GATEWAY",
            "us-east-1",
            account="222222222222",
        ),
    ]
    got = savings_of(rows).sort("team")
    assert got["endpoint_type"].unique().to_list() == ["interface"]
    assert got["endpoint_service"].unique().to_list() == ["com.amazonaws.us-east-1.execute-api"]
    assert got["endpoint_hourly_usd"].to_list() == pytest.approx([0.72 * 0.6, 0.72 * 0.4])
    assert got["endpoint_processing_usd"].to_list() == pytest.approx([0.6, 0.4])
    assert got["saving_usd"].sum() == pytest.approx(100 * 0.045 - 100 * 0.01 - 0.72)
    assert got["service_saving_usd"].to_list() == pytest.approx([2.78, 2.78])
    assert got["break_even_gb_per_day"].to_list() == pytest.approx([0.72 / 0.035] * 2)
    assert got["recommended"].all()
    assert got["service_gb"].to_list() == pytest.approx([100.0, 100.0])
    assert "verified" in got["price_source"][0] and "unverified" not in got["price_source"][0]


def test_interface_endpoint_below_break_even_is_not_recommended():
    got = savings_of(
        [row("payments", "10.10.1.5", "3.218.0.1", 10 * GB, "API_GATEWAY", "us-east-1")]
    )
    assert got["saving_usd"].item() == pytest.approx(10 * 0.035 - 0.72)
    assert got["saving_usd"].item() < 0 and not got["recommended"].item()


def test_az_count_and_price_overrides_change_the_endpoint_cost():
    rows = [row("payments", "10.10.1.5", "3.218.0.1", 50 * GB, "API_GATEWAY", "us-east-1")]
    two_azs = savings_of(rows, EndpointPriceBook(az_count=2))
    assert two_azs["endpoint_hourly_usd"].item() == pytest.approx(0.01 * 2 * 24)
    overridden = savings_of(rows, EndpointPriceBook({"us-east-1": (0.02, 0.005)}, az_count=1))
    assert overridden["endpoint_hourly_usd"].item() == pytest.approx(0.48)
    assert overridden["endpoint_processing_usd"].item() == pytest.approx(0.25)
    assert overridden["price_source"].item() == "override (interface_endpoint_prices)"
    with pytest.raises(ValueError, match="endpoint_az_count"):
        EndpointPriceBook(az_count=0)


def test_only_same_region_traffic_to_a_service_with_an_endpoint_counts():
    rows = [
        row("payments", "10.10.1.5", "16.15.0.9", 1 * GB, "S3", "us-east-1"),
        row(
            "payments", "10.10.1.5", "3.5.0.1", 2 * GB, "S3", "eu-west-1"
        ),  # other region: no endpoint here
        row(
            "payments", "10.10.1.5", "44.192.0.1", 3 * GB, "EC2", "us-east-1"
        ),  # instances' public addresses
        row(
            "payments", "10.10.1.5", "52.94.0.1", 4 * GB, "AMAZON", "us-east-1"
        ),  # which API is unknowable
        row("payments", "10.10.1.5", "198.51.100.4", 5 * GB),  # internet
    ]
    got = savings_of(rows)
    assert got["aws_service"].to_list() == ["S3"] and got["bytes"].item() == 1 * GB
    excluded = excluded_aws_bytes(frame(rows))
    assert dict(zip(excluded["aws_service"], excluded["bytes"], strict=True)) == {
        "AMAZON": 4 * GB,
        "EC2": 3 * GB,
        "S3": 2 * GB,
    }
    # every AWS byte is in the table or counted as excluded
    assert got["bytes"].sum() + excluded["bytes"].sum() == 10 * GB


def test_monthly_projection_uses_the_days_of_that_month():
    got = savings_of(
        [
            row(
                "payments",
                "10.10.1.5",
                "16.15.0.9",
                GB,
                "DYNAMODB",
                "us-east-1",
                day=date(2028, 2, 10),
            )
        ]
    )
    assert got["days_in_month"].item() == 29
    assert got["monthly_saving_usd"].item() == pytest.approx(0.045 * 29)


def test_an_interface_candidate_in_a_region_without_endpoint_price_fails_clearly():
    rows = [
        row(
            "payments", "10.10.1.5", "3.218.0.1", GB, "API_GATEWAY", "sa-east-1", region="sa-east-1"
        )
    ]
    with pytest.raises(UnknownEndpointPrice, match="sa-east-1.*interface_endpoint_prices"):
        endpoint_savings(frame(rows), PriceBook({"sa-east-1": (0.093, 0.093)}), ENDPOINTS)


def test_sample_savings_agree_with_the_gold_tables_processing_cost(sample_warehouse):
    """The NAT cost an endpoint would save is exactly the gold table's data-processing cost of those
    rows."""
    store = sample_warehouse.get()
    savings = store.scan("endpoint_savings").collect()
    costs = (
        store.scan("team_daily_costs")
        .collect()
        .filter(
            (pl.col("destination_class") == "aws_same_region")
            & pl.col("aws_service").is_in(["S3", "DYNAMODB"])
        )
    )
    keys = ["usage_date", "team", "aws_service"]
    a = savings.group_by(keys).agg(pl.col("bytes").sum(), pl.col("nat_processing_usd").sum())
    b = costs.group_by(keys).agg(pl.col("bytes").sum(), pl.col("data_processing_usd").sum())
    joined = a.join(b, on=keys, how="full", coalesce=True, suffix="_gold")
    assert joined.height == a.height == b.height == 3 * 8 * 2
    assert (joined["bytes"] == joined["bytes_gold"]).all()
    assert ((joined["nat_processing_usd"] - joined["data_processing_usd"]).abs() < 1e-12).all()
    assert set(savings["endpoint_type"]) == {"gateway"} and savings["recommended"].all()
