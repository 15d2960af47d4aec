"""ip-ranges.json: validation and the AMAZON superset rule, on the bundled real snapshot."""

from __future__ import annotations

import json

import polars as pl
import pytest

from natflow_pipeline import aws_ip_ranges
from natflow_pipeline.addresses import address_keys, longest_prefix_match
from natflow_pipeline.paths import DEFAULT_IP_RANGES


@pytest.fixture(scope="module")
def bundled() -> pl.DataFrame:
    return aws_ip_ranges.parse(DEFAULT_IP_RANGES.read_bytes(), str(DEFAULT_IP_RANGES))


def services(ranges: pl.DataFrame, addresses: list[str]) -> dict[str, tuple]:
    probe = pl.DataFrame({"addr": addresses}).with_columns(key=address_keys(pl.Series(addresses)))
    out = longest_prefix_match(
        probe, "key", aws_ip_ranges.lookup_intervals(ranges), ["aws_service", "aws_region"]
    )
    return {a: (s, r) for a, s, r in out.select("addr", "aws_service", "aws_region").iter_rows()}


def test_bundled_snapshot_is_the_documented_one(bundled):
    assert bundled["sync_token"].unique().to_list() == ["1787411825"]
    assert bundled.height == 10668 + 6160


def test_a_named_service_beats_amazon_for_the_same_prefix():
    doc = {
        "syncToken": "1",
        "createDate": "2026-01-01-00-00-00",
        "prefixes": [
            {
                "ip_prefix": "52.216.0.0/15",
                "region": "us-east-1",
                "service": "AMAZON",
                "network_border_group": "us-east-1",
            },
            {
                "ip_prefix": "52.216.0.0/15",
                "region": "us-east-1",
                "service": "S3",
                "network_border_group": "us-east-1",
            },
            {
                "ip_prefix": "52.0.0.0/8",
                "region": "GLOBAL",
                "service": "AMAZON",
                "network_border_group": "GLOBAL",
            },
            {
                "ip_prefix": "52.217.0.0/16",
                "region": "us-east-1",
                "service": "EC2",
                "network_border_group": "us-east-1",
            },
            {
                "ip_prefix": "3.5.0.0/19",
                "region": "us-east-1",
                "service": "S3",
                "network_border_group": "us-east-1",
            },
            {
                "ip_prefix": "3.5.0.0/19",
                "region": "us-east-1",
                "service": "EC2",
                "network_border_group": "us-east-1",
            },
            {
                "ip_prefix": "3.5.0.0/19",
                "region": "us-east-1",
                "service": "AMAZON",
                "network_border_group": "us-east-1",
            },
        ],
        "ipv6_prefixes": [],
    }
    ranges = aws_ip_ranges.parse(json.dumps(doc), "doc")
    assert services(ranges, ["52.216.1.1", "52.217.1.1", "52.1.1.1", "8.8.8.8", "3.5.1.1"]) == {
        "52.216.1.1": ("S3", "us-east-1"),
        "3.5.1.1": ("S3", "us-east-1"),  # listed under S3, EC2 and AMAZON: the narrowest names it
        "52.217.1.1": ("EC2", "us-east-1"),  # most specific
        "52.1.1.1": ("AMAZON", "GLOBAL"),
        "8.8.8.8": (None, None),
    }


def test_real_snapshot_matches_known_service_addresses(bundled):
    got = services(bundled, ["52.216.0.1", "52.94.0.1", "203.0.113.5"])
    assert got["52.216.0.1"] == ("S3", "us-east-1")
    assert got["52.94.0.1"] == ("DYNAMODB", "us-east-1")
    assert got["203.0.113.5"] == (None, None)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"createDate": "2026-01-01-00-00-00", "prefixes": [], "ipv6_prefixes": []}, "syncToken"),
        (
            {"syncToken": "1", "createDate": "yesterday", "prefixes": [], "ipv6_prefixes": []},
            "createDate",
        ),
        (
            {"syncToken": "1", "createDate": "2026-01-01-00-00-00", "ipv6_prefixes": []},
            "prefixes missing",
        ),
        (
            {
                "syncToken": "1",
                "createDate": "2026-01-01-00-00-00",
                "prefixes": [{"ip_prefix": "1.0.0.0/8"}],
                "ipv6_prefixes": [],
            },
            r"prefixes\[0\] lacks",
        ),
    ],
)
def test_malformed_documents_are_refused_with_the_reason(doc, message):
    with pytest.raises(aws_ip_ranges.IpRangesError, match=message):
        aws_ip_ranges.parse(json.dumps(doc), "https://example.invalid/ip-ranges.json")
