"""The one price catalogue: every charge priced and sourced in every catalogued region, one
override mechanism, a loud error for a missing (charge, region), and the NAT and endpoint prices
unchanged from the two tables it replaced."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from natflow_pipeline.endpoint_pricing import EndpointPriceBook, UnknownEndpointPrice
from natflow_pipeline.endpoint_savings import endpoint_savings
from natflow_pipeline.price_catalogue import (
    CATALOGUE,
    CHARGE_INFO,
    CHARGES,
    UnknownPrice,
    charges_table,
    prices_table,
    read_overrides,
)
from natflow_pipeline.pricing import PriceBook, UnknownRegionPrice
from natflow_pipeline.resources.insights import InsightsResource
from natflow_pipeline.resources.pricing import PricingResource, pricing_from_env
from natflow_pipeline_tests.flow_rows import GB, frame, row

#: The regions the two old tables priced (NAT gateway and interface endpoint alike).
REGIONS = [
    "ap-southeast-1",
    "eu-central-1",
    "eu-west-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
]

#: The old pricing.NAT_GATEWAY_PRICES, region -> (USD per GB, USD per gateway-hour).
OLD_NAT = {
    "us-east-1": (0.045, 0.045),
    "us-east-2": (0.045, 0.045),
    "us-west-1": (0.048, 0.048),
    "us-west-2": (0.045, 0.045),
    "ap-southeast-1": (0.059, 0.059),
    "eu-west-1": (0.048, 0.048),
    "eu-central-1": (0.052, 0.052),
}
#: The old endpoint_pricing.INTERFACE_ENDPOINT_PRICES, region -> (USD per AZ-hour, USD per GB).
OLD_INTERFACE = {
    "us-east-1": (0.01, 0.01),
    "us-east-2": (0.01, 0.01),
    "us-west-2": (0.01, 0.01),
    "us-west-1": (0.011, 0.01),
    "eu-west-1": (0.011, 0.01),
    "eu-central-1": (0.012, 0.01),
    "ap-southeast-1": (0.013, 0.01),
}


def test_every_charge_has_a_price_source_and_date_in_every_catalogued_region():
    assert CATALOGUE.regions() == REGIONS
    assert set(CHARGE_INFO) == set(CHARGES) and len(CHARGES) == 8
    for charge in CHARGES:
        for region in REGIONS:
            price = CATALOGUE.price(charge, region)
            assert price.charge == charge and price.usd >= 0
            assert price.unit == CHARGE_INFO[charge].unit
            assert re.match(r"https://(aws\.amazon\.com|docs\.aws\.amazon\.com)/", price.source)
            assert date.fromisoformat(price.read_on)
            assert price.status in ("verified", "corroborated", "unverified")
            assert price.provenance.startswith(f"{price.status}: ")
    assert not CATALOGUE.overrides()


def test_nat_and_endpoint_prices_are_the_old_tables_numbers():
    for region, (per_gb, per_hour) in OLD_NAT.items():
        assert CATALOGUE.usd("nat_gateway_gb", region) == per_gb
        assert CATALOGUE.usd("nat_gateway_hour", region) == per_hour
        assert (PriceBook().per_gb(region), PriceBook().per_hour(region)) == (per_gb, per_hour)
    for region, (per_az_hour, per_gb) in OLD_INTERFACE.items():
        assert CATALOGUE.usd("interface_endpoint_hour", region) == per_az_hour
        assert CATALOGUE.usd("interface_endpoint_gb", region) == per_gb
    assert PriceBook().prices() == OLD_NAT
    assert EndpointPriceBook().prices() == OLD_INTERFACE
    # gateway endpoints are free in every region, catalogued or not
    assert CATALOGUE.usd("gateway_endpoint", "us-east-1") == 0.0
    assert CATALOGUE.usd("gateway_endpoint", "sa-east-1") == 0.0


def test_the_new_charges_carry_aws_list_prices_marked_unverified():
    for region in REGIONS:
        assert CATALOGUE.usd("tgw_gb", region) == 0.02
        assert CATALOGUE.usd("inter_az_gb", region) == 0.01
        for charge in ("tgw_gb", "tgw_attachment_hour", "inter_az_gb"):
            assert CATALOGUE.price(charge, region).status == "unverified"
    assert CATALOGUE.usd("tgw_attachment_hour", "us-east-1") == 0.05


def test_an_override_replaces_exactly_one_charge_in_one_region_and_says_so():
    overridden = CATALOGUE.with_overrides({"tgw_gb": {"eu-west-1": 0.025}})
    changed = set(overridden.entries) - set(CATALOGUE.entries)
    assert [(p.charge, p.region, p.usd) for p in changed] == [("tgw_gb", "eu-west-1", 0.025)]
    assert set(CATALOGUE.entries) - set(overridden.entries) == {
        CATALOGUE.price("tgw_gb", "eu-west-1")
    }
    (price,) = overridden.overrides()
    assert price.status == "override" and price.provenance == "override (price_overrides)"
    assert overridden.usd("tgw_gb", "us-east-1") == 0.02  # the other regions keep theirs
    assert overridden.usd("tgw_attachment_hour", "eu-west-1") == 0.05  # and the other charges


def test_the_one_setting_reaches_nat_and_endpoint_prices_and_the_metadata(monkeypatch, tmp_path):
    overrides = {
        "nat_gateway_gb": {"us-east-1": 0.05},
        "interface_endpoint_gb": {"us-east-1": 0.005},
        "gateway_endpoint": {"us-east-1": 0.001},
    }
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(overrides))
    for value in (json.dumps(overrides), str(path)):
        monkeypatch.setenv("NATFLOW_PRICE_OVERRIDES", value)
        pricing = pricing_from_env()
        assert pricing.price_overrides == overrides
    book = pricing.price_book()
    # team_daily_costs' prices_used metadata is {usd_per_gb, usd_per_hour, source: provenance}
    assert (book.per_gb("us-east-1"), book.per_hour("us-east-1")) == (0.05, 0.045)
    assert book.provenance("us-east-1") == (
        "nat_gateway_gb: override (price_overrides); "
        "nat_gateway_hour: verified: VPC pricing page (read 2026-11-27)"
    )
    endpoints = InsightsResource().endpoint_price_book(pricing.catalogue())
    assert (endpoints.per_az_hour("us-east-1"), endpoints.per_gb("us-east-1")) == (0.01, 0.005)
    rows = [
        row("payments", "10.10.1.5", "16.15.0.9", 10 * GB, "S3", "us-east-1"),
        row("payments", "10.10.1.5", "3.218.0.1", 10 * GB, "API_GATEWAY", "us-east-1"),
    ]
    savings = endpoint_savings(frame(rows), book, endpoints).sort("aws_service")
    assert savings["nat_usd_per_gb"].to_list() == [0.05, 0.05]
    assert savings["endpoint_usd_per_gb"].to_list() == [0.005, 0.001]
    assert savings["price_source"][1] == "override (price_overrides)"
    monkeypatch.setenv("NATFLOW_PRICE_OVERRIDES", "")
    assert pricing_from_env().price_overrides == {}


def test_the_shorthand_settings_are_the_same_overrides():
    pricing = PricingResource(nat_prices={"sa-east-1": [0.093, 0.094]})
    assert pricing.price_book().provenance("sa-east-1") == "override (nat_prices)"
    book = InsightsResource(interface_endpoint_prices={"sa-east-1": [0.02, 0.005]})
    assert book.endpoint_price_book().prices()["sa-east-1"] == (0.02, 0.005)
    both = PricingResource(
        nat_prices={"us-east-1": [0.05, 0.045]},
        price_overrides={"nat_gateway_gb": {"us-east-1": 0.06}},
    )
    with pytest.raises(ValueError, match="nat_gateway_gb in us-east-1 is overridden twice"):
        both.price_book().per_gb("us-east-1")


@pytest.mark.parametrize(
    ("charge", "error", "shorthand"),
    [
        ("nat_gateway_gb", UnknownRegionPrice, "nat_prices"),
        ("nat_gateway_hour", UnknownRegionPrice, "nat_prices"),
        ("interface_endpoint_hour", UnknownEndpointPrice, "interface_endpoint_prices"),
        ("interface_endpoint_gb", UnknownEndpointPrice, "interface_endpoint_prices"),
        ("tgw_gb", UnknownPrice, None),
        ("tgw_attachment_hour", UnknownPrice, None),
        ("inter_az_gb", UnknownPrice, None),
    ],
)
def test_a_missing_region_fails_naming_the_region_the_charge_and_the_override(
    charge, error, shorthand
):
    with pytest.raises(error) as raised:
        CATALOGUE.price(charge, "sa-east-1")
    message = str(raised.value)
    assert "region 'sa-east-1'" in message
    assert f'{{"{charge}": {{"sa-east-1": <usd>}}}} in price_overrides' in message
    assert "NATFLOW_PRICE_OVERRIDES" in message
    assert (shorthand is None) or f"under {shorthand}" in message
    assert (raised.value.region, raised.value.charge) == ("sa-east-1", charge)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"nat_gateway": {"us-east-1": 0.05}}, "unknown charge 'nat_gateway'"),
        ({"tgw_gb": {"us-east-1": -0.01}}, "must not be negative"),
        ({"tgw_gb": {"us-east-1": "cheap"}}, "must be a number of USD"),
        ({"tgw_gb": {"*": 0.01}}, "needs a region name"),
    ],
)
def test_a_bad_override_fails_loudly(overrides, message):
    with pytest.raises(ValueError, match=message):
        CATALOGUE.with_overrides(overrides)
    with pytest.raises(ValueError, match=message):
        read_overrides(json.dumps(overrides))


def test_an_unreadable_override_setting_names_the_variable(tmp_path):
    with pytest.raises(ValueError, match="cannot read NATFLOW_PRICE_OVERRIDES file"):
        read_overrides(str(tmp_path / "missing.json"))
    with pytest.raises(ValueError, match=r"NATFLOW_PRICE_OVERRIDES \(inline JSON\) is not JSON"):
        read_overrides("{nat_gateway_gb: 1}")
    with pytest.raises(ValueError, match="must be"):
        read_overrides('{"nat_gateway_gb": 0.05}')


def test_the_catalogue_refuses_a_price_listed_twice():
    price = CATALOGUE.price("tgw_gb", "us-east-1")
    with pytest.raises(ValueError, match="more than once"):
        type(CATALOGUE)((*CATALOGUE.entries, replace(price, usd=0.03)))


def test_docs_pricing_holds_the_generated_tables():
    page = (Path(__file__).resolve().parents[1] / "docs" / "pricing.md").read_text()
    assert charges_table() in page and prices_table() in page
