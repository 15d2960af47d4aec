"""NAT translation rows, their direction, and day boundaries."""

from __future__ import annotations

from datetime import date

import polars as pl

from natflow_pipeline.addresses import address_keys
from natflow_pipeline.flowlogs.nat import (
    KEPT,
    NO_DATA,
    NON_NAT,
    OTHER_DAY,
    classify,
    day_bounds,
    internal_addresses,
    orient,
)
from natflow_pipeline.flowlogs.reader import parse_text
from natflow_pipeline_tests.conftest import AWS_EXAMPLES


def test_aws_nat_gateway_example_keeps_exactly_its_two_client_side_records():
    rows = parse_text(
        (AWS_EXAMPLES / "nat-gateway-eni.log").read_bytes(), "nat-gateway-eni.log"
    ).rows
    classified = classify(rows, None)
    assert classified["outcome"].to_list() == [KEPT, NON_NAT, NON_NAT, KEPT]
    kept = orient(classified.filter(pl.col("outcome") == KEPT))
    assert kept.select("direction", "internal_addr", "external_addr").rows() == [
        ("egress", "10.0.1.5", "203.0.113.5"),
        ("ingress", "10.0.1.5", "203.0.113.5"),
    ]


def test_source_instance_eni_rows_are_not_translations():
    rows = parse_text((AWS_EXAMPLES / "nat-gateway-source-instance-eni.log").read_bytes(), "x").rows
    assert classify(rows, None)["outcome"].to_list() == [NON_NAT, NON_NAT]


def test_rows_are_placed_by_the_day_of_their_start():
    lo, hi = day_bounds(date(2026, 11, 2))
    frame = pl.DataFrame(
        {
            "srcaddr": ["10.0.0.1"] * 4,
            "dstaddr": ["10.255.0.10"] * 4,
            "pkt_srcaddr": ["10.0.0.1"] * 4,
            "pkt_dstaddr": ["52.0.0.1"] * 4,
            "bytes": [1, 2, 3, 4],
            "start": [lo - 1, lo, hi - 1, hi],
            "log_status": ["OK"] * 4,
        }
    )
    assert classify(frame, date(2026, 11, 2))["outcome"].to_list() == [
        OTHER_DAY,
        KEPT,
        KEPT,
        OTHER_DAY,
    ]


def test_nodata_and_rows_without_addresses_are_filtered_as_no_data():
    frame = pl.DataFrame(
        {
            "srcaddr": [None, "10.0.0.1"],
            "dstaddr": [None, None],
            "pkt_srcaddr": [None, "10.0.0.1"],
            "pkt_dstaddr": [None, "1.1.1.1"],
            "bytes": [None, 5],
            "start": [10, 10],
            "log_status": ["NODATA", "OK"],
        },
        schema_overrides={"bytes": pl.Int64},
    )
    assert classify(frame, None)["outcome"].to_list() == [NO_DATA, NO_DATA]


def test_direction_falls_back_to_the_leg_shape_for_public_client_space():
    frame = pl.DataFrame(
        {
            "srcaddr": ["2600:1f18::5", "10.255.0.10"],
            "dstaddr": ["10.255.0.10", "2600:1f18::5"],
            "pkt_srcaddr": ["2600:1f18::5", "64:ff9b::34d8:1"],
            "pkt_dstaddr": ["64:ff9b::34d8:1", "2600:1f18::5"],
        }
    )
    oriented = orient(frame)
    assert oriented["direction"].to_list() == ["egress", "ingress"]
    assert oriented["internal_addr"].to_list() == ["2600:1f18::5", "2600:1f18::5"]


def test_orienting_with_the_internal_addresses_known_equals_keying_the_rows():
    """read_day keys a batch's distinct addresses once and hands orient the internal ones."""
    frame = pl.DataFrame(
        {
            "srcaddr": ["10.0.1.5", "10.0.0.220", "172.31.9.9", "192.0.2.1", None],
            "dstaddr": ["10.0.0.220", "10.0.1.5", "10.0.0.220", "10.0.0.220", "10.0.0.220"],
            "pkt_srcaddr": ["10.0.1.5", "203.0.113.5", "172.31.9.9", "192.0.2.1", "100.64.0.1"],
            "pkt_dstaddr": ["203.0.113.5", "10.0.1.5", "8.8.8.8", "fd00::1", None],
        }
    )
    distinct = pl.concat([frame[c] for c in frame.columns]).unique().drop_nulls()
    internal = internal_addresses(distinct, address_keys(distinct))
    assert sorted(internal.to_list()) == [
        "10.0.0.220",
        "10.0.1.5",
        "100.64.0.1",
        "172.31.9.9",
        "fd00::1",
    ]
    assert orient(frame, internal=internal).equals(orient(frame))
    assert orient(frame)["direction"].to_list() == [
        "egress",
        "ingress",
        "egress",
        "ingress",
        "egress",
    ]
