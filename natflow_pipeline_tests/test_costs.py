"""Pricing the gold table: GB, data processing, the gateway-hours share."""

from __future__ import annotations

from datetime import date, datetime, timezone

import polars as pl
import pytest

from natflow_pipeline.costs import SCHEMA, team_daily_costs
from natflow_pipeline.pricing import PriceBook, UnknownRegionPrice

DAY = date(2026, 11, 2)
MIDNIGHT = int(datetime(2026, 11, 2, tzinfo=timezone.utc).timestamp())


def enriched(rows: list[tuple[str, str, int, int]], region: str = "us-east-1") -> pl.DataFrame:
    """(team, interface, bytes, hour) rows."""
    return pl.DataFrame(
        [
            {
                "usage_date": DAY,
                "team": team,
                "account_id": "9",
                "source_account_id": None,
                "region": region,
                "interface_id": eni,
                "direction": "egress",
                "destination_class": "internet",
                "aws_service": None,
                "bytes": nbytes,
                "start": MIDNIGHT + hour * 3600,
            }
            for team, eni, nbytes, hour in rows
        ],
        schema_overrides={"source_account_id": pl.String, "aws_service": pl.String},
    )


ROWS = [("a", "eni-1", 3 * 2**30, 0), ("b", "eni-1", 2**30, 5), ("a", "eni-2", 2**30, 0)]


@pytest.mark.parametrize(
    ("allocation", "shares"),
    [
        ("proportional", {("a", "eni-1"): 0.75, ("b", "eni-1"): 0.25, ("a", "eni-2"): 1.0}),
        ("even", {("a", "eni-1"): 0.5, ("b", "eni-1"): 0.5, ("a", "eni-2"): 1.0}),
        ("none", {("a", "eni-1"): 0.0, ("b", "eni-1"): 0.0, ("a", "eni-2"): 0.0}),
    ],
)
def test_each_gateways_day_of_hours_is_shared_out_by_the_chosen_rule(allocation, shares):
    costs = team_daily_costs(enriched(ROWS), PriceBook(), allocation)
    assert costs.schema == pl.Schema(SCHEMA)
    got = {(r["team"], r["interface_id"]): r["hourly_usd"] for r in costs.rows(named=True)}
    assert got == pytest.approx({k: v * 24 * 0.045 for k, v in shares.items()})
    assert costs["data_processing_usd"].to_list() == pytest.approx([3 * 0.045, 0.045, 0.045])
    assert (
        costs["total_usd"] - costs["data_processing_usd"] - costs["hourly_usd"]
    ).abs().max() < 1e-12


def test_hours_seen_charges_only_the_hours_with_nat_records():
    costs = team_daily_costs(enriched(ROWS), PriceBook(), "proportional", "hours_seen")
    hours = {r["interface_id"]: r["gateway_hours"] for r in costs.rows(named=True)}
    assert hours == {"eni-1": 2, "eni-2": 1}
    assert costs.filter(pl.col("interface_id") == "eni-1")["hourly_usd"].sum() == pytest.approx(
        2 * 0.045
    )


def test_decimal_gb_and_price_overrides_apply():
    costs = team_daily_costs(
        enriched([("a", "eni-1", 10**9, 0)], "sa-east-1"),
        PriceBook({"sa-east-1": (0.1, 0.2)}, 10**9),
    )
    assert costs["gb"].item() == 1.0 and costs["data_processing_usd"].item() == pytest.approx(0.1)
    assert costs["hourly_usd"].item() == pytest.approx(24 * 0.2)


def test_a_region_without_a_known_price_is_an_error_not_free():
    with pytest.raises(
        UnknownRegionPrice,
        match="no NAT gateway price for region 'sa-east-1'; add it under nat_prices",
    ):
        team_daily_costs(enriched([("a", "eni-1", 1, 0)], "sa-east-1"), PriceBook())
    with pytest.raises(ValueError, match="billing_gb_bytes must be"):
        PriceBook(billing_gb_bytes=1000)


@pytest.mark.parametrize("gateway_hours", ["full_day", "hours_seen"])
def test_a_day_priced_from_batch_aggregates_equals_the_day_priced_whole(gateway_hours):
    """The benchmark's job (and any streaming caller) aggregates a batch of rows at a time."""
    from natflow_pipeline.costs import aggregate, combine, price

    rows = enriched(
        [
            ("a", "eni-1", 3 * 2**30, 0),
            ("b", "eni-1", 2**30, 5),
            ("a", "eni-2", 2**30, 0),
            ("a", "eni-1", 7, 5),
            ("b", "eni-2", 11, 23),
        ]
    )
    whole = team_daily_costs(rows, PriceBook(), "proportional", gateway_hours)
    batches = [rows.slice(0, 2), rows.slice(2, 1), rows.slice(3)]
    streamed = price(
        combine([aggregate(b) for b in batches]), PriceBook(), "proportional", gateway_hours
    )
    assert streamed.equals(whole)
