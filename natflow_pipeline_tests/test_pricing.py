"""The price table: every commercial region, a number only where a source backs it."""

from natflow_pipeline.pricing import NAT_GATEWAY_PRICES, REGIONS, PriceBook


def test_every_region_has_a_status_and_only_sourced_regions_have_prices():
    assert len({r.region for r in REGIONS}) == len(REGIONS) >= 34
    for entry in REGIONS:
        assert entry.status in ("verified", "corroborated", "unverified", "unknown")
        assert (
            (entry.per_gb is None)
            == (entry.status == "unknown")
            == (entry.region not in NAT_GATEWAY_PRICES)
        )
    verified = {r.region: (r.per_gb, r.per_hour) for r in REGIONS if r.status == "verified"}
    assert verified == {
        "us-east-1": (0.045, 0.045),
        "us-east-2": (0.045, 0.045),
        "eu-west-1": (0.048, 0.048),
        "ap-southeast-1": (0.059, 0.059),
    }


def test_provenance_says_where_a_price_came_from():
    book = PriceBook({"sa-east-1": (0.093, 0.093)})
    assert book.provenance("sa-east-1") == "override (nat_prices)"
    assert book.provenance("us-east-1").startswith("verified: VPC pricing page (read 2026-11-27)")
    assert book.provenance("ap-northeast-1") == "none"
