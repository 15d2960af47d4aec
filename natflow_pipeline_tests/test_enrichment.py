"""The day's attribution (one row per distinct address) joined back to the NAT rows gives exactly
what enriching every row gives, so storing addresses instead of rows loses nothing; and the gold
table's aggregate by address class equals aggregating the joined rows."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from natflow_pipeline import aws_ip_ranges, ipam, tables
from natflow_pipeline.costs import NAT_COLUMNS, PARTIAL_KEYS, aggregate, aggregate_attributed
from natflow_pipeline.demo import sample_days
from natflow_pipeline.endpoint_pricing import EndpointPriceBook
from natflow_pipeline.endpoint_savings import endpoint_savings
from natflow_pipeline.enrichment import (
    ATTRIBUTION_SCHEMA,
    EXTERNAL_SIDE,
    INTERNAL_SIDE,
    attach,
    attribution_of,
    attribution_table,
    enrich,
    reusable_answers,
)
from natflow_pipeline.flowlogs.day import NAT_FLOWS_SCHEMA
from natflow_pipeline.paths import DEFAULT_IP_RANGES, DEFAULT_IPAM_EXPORT
from natflow_pipeline.pricing import PriceBook
from natflow_pipeline.top_talkers import DEFAULT_TOP_N, top_talkers

DAY = date(2026, 11, 2)


@pytest.fixture(scope="module")
def intervals() -> tuple[pl.DataFrame, pl.DataFrame]:
    """The embedded IPAM export and ip-ranges.json, as the sample days are attributed with."""
    export = ipam.load_export(DEFAULT_IPAM_EXPORT)
    snapshot = ipam.snapshot(export["prefixes"], export["ip_addresses"], export.get("tenants", []))
    ranges = aws_ip_ranges.parse(DEFAULT_IP_RANGES.read_bytes(), str(DEFAULT_IP_RANGES))
    return ipam.lookup_intervals(snapshot), aws_ip_ranges.lookup_intervals(ranges)


def nat_rows(pairs: list[tuple[str | None, str | None]], region: str = "us-east-1") -> pl.DataFrame:
    """NAT rows with every nat_flows column, from (internal, external) address pairs."""
    n = len(pairs)
    columns = {c: [None] * n for c in NAT_FLOWS_SCHEMA}
    columns.update(
        usage_date=[date(2026, 11, 2)] * n,
        region=[region] * n,
        direction=["egress"] * n,
        internal_addr=[p[0] for p in pairs],
        external_addr=[p[1] for p in pairs],
        bytes=list(range(100, 100 + n)),
        start=[1_793_577_600 + 60 * i for i in range(n)],
        source_line=list(range(n)),
    )
    return pl.DataFrame(columns, schema=NAT_FLOWS_SCHEMA)


@pytest.mark.parametrize("day", sample_days())
def test_attaching_the_attribution_equals_enriching_every_row_on_the_sample(
    sample_warehouse, intervals, day
):
    flows = sample_warehouse.get().read_partition(
        "nat_flows", "usage_date", date.fromisoformat(day)
    )
    assert flows.height > 1000
    expected = enrich(flows, *intervals)
    assert_frame_equal(attach(flows, attribution_of(flows, *intervals)), expected)
    # the stored table's day, with its extra columns, attaches the same
    stored = sample_warehouse.get().read_partition(
        tables.ADDRESS_ATTRIBUTION.name, "usage_date", date.fromisoformat(day)
    )
    assert_frame_equal(attach(flows, stored), expected)
    # and a LazyFrame stays lazy until collected
    assert_frame_equal(attach(flows.lazy(), stored).collect(), expected)


def test_attaching_equals_enriching_on_the_edge_cases(intervals):
    flows = nat_rows(
        [
            ("10.10.1.50", "16.15.156.7"),  # an address object (identity) to S3 us-east-1
            ("10.10.1.51", "64:ff9b::100f:9c07"),  # payments, inherited; NAT64 of 16.15.156.7
            ("10.99.0.1", "198.51.100.7"),  # no team anywhere; the internet
            ("2600:1f18:4a00:10::5", "2600:1ff8:2c00::1"),  # IPv6 both sides
            ("10.10.1.50", "10.10.1.50"),  # the same text on both sides
            (None, None),  # nulls match nothing and stay
            ("10.10.1.50", "16.15.156.7"),  # a repeat
        ]
    )
    got = attach(flows, attribution_of(flows, *intervals))
    assert_frame_equal(got, enrich(flows, *intervals))
    assert got["team"].to_list() == [
        "identity",
        "payments",
        "unattributed",
        "data-platform",
        "identity",
        "unattributed",
        "identity",
    ]
    assert got["aws_service"].to_list()[:2] == ["S3", "S3"]
    assert got["destination_class"].to_list()[:3] == [
        "aws_same_region",
        "aws_same_region",
        "internet",
    ]


def test_the_attribution_lists_each_distinct_address_once_per_side(intervals):
    flows = nat_rows(
        [
            ("10.10.1.50", "16.15.156.7"),
            ("10.99.0.1", "16.15.156.7"),
            ("10.10.1.50", "198.51.100.7"),
            (None, None),
        ]
    )
    got = attribution_of(flows.lazy(), *intervals).sort("side", "address")
    assert got.select("side", "address").rows() == [
        (EXTERNAL_SIDE, "16.15.156.7"),
        (EXTERNAL_SIDE, "198.51.100.7"),
        (INTERNAL_SIDE, "10.10.1.50"),
        (INTERNAL_SIDE, "10.99.0.1"),
    ]
    internal = got.filter(pl.col("side") == INTERNAL_SIDE)
    external = got.filter(pl.col("side") == EXTERNAL_SIDE)
    assert internal["team"].to_list() == ["identity", ipam.UNATTRIBUTED]
    assert internal.select(pl.col(list(aws_ip_ranges.MATCH_SCHEMA)).is_null().all()).row(0) == (
        True,
        True,
        True,
    )
    assert external["team"].is_null().all() and external["aws_service"].to_list() == ["S3", None]
    assert {c: got.schema[c] for c in got.columns} == {
        c: ATTRIBUTION_SCHEMA[c] for c in got.columns
    }


def test_text_that_is_not_an_address_stays_listed_unmatched_beside_the_matches(intervals):
    flows = nat_rows(
        [("10.10.1.50", "16.15.156.7"), ("not-an-address", "999.1.1.1"), ("10.99.0.1", "")]
    )
    got = attribution_of(flows, *intervals).sort("side", "address")
    assert got.select("side", "address", "team", "aws_service").rows() == [
        (EXTERNAL_SIDE, "", None, None),
        (EXTERNAL_SIDE, "16.15.156.7", None, "S3"),
        (EXTERNAL_SIDE, "999.1.1.1", None, None),
        (INTERNAL_SIDE, "10.10.1.50", "identity", None),
        (INTERNAL_SIDE, "10.99.0.1", ipam.UNATTRIBUTED, None),
        (INTERNAL_SIDE, "not-an-address", ipam.UNATTRIBUTED, None),
    ]
    assert {c: got.schema[c] for c in got.columns} == {
        c: ATTRIBUTION_SCHEMA[c] for c in got.columns
    }


@pytest.mark.parametrize("day", sample_days())
def test_answers_known_from_earlier_rows_give_what_matching_gives(sample_warehouse, intervals, day):
    flows = sample_warehouse.get().read_partition(
        "nat_flows", "usage_date", date.fromisoformat(day)
    )
    first, rest = flows.head(flows.height // 2), flows.tail(flows.height - flows.height // 2)
    got = attribution_of(rest, *intervals, known=attribution_of(first, *intervals))
    assert_frame_equal(
        got.sort("side", "address"), attribution_of(rest, *intervals).sort("side", "address")
    )


def test_known_answers_are_taken_as_they_are_and_only_for_the_rows_addresses(intervals):
    """An address the known answers list is not matched again; one the rows lack is not listed."""
    stale = nat_rows([("10.10.1.50", "16.15.156.7"), ("10.0.0.9", "203.0.113.9")])
    known = attribution_of(stale, *intervals).with_columns(pl.lit("stale").alias("team"))
    got = attribution_of(
        nat_rows([("10.10.1.50", "16.15.156.7"), ("10.99.0.1", "16.15.156.7")]),
        *intervals,
        known=known,
    )
    assert got.sort("side", "address").select("address", "team").rows() == [
        ("16.15.156.7", "stale"),
        ("10.10.1.50", "stale"),
        ("10.99.0.1", ipam.UNATTRIBUTED),
    ]


def test_intervals_are_built_only_when_an_address_is_not_known(intervals):
    ipam_intervals, aws_intervals = intervals
    flows = nat_rows([("10.10.1.50", "16.15.156.7"), ("10.99.0.1", "198.51.100.7")])
    external = reusable_answers(
        attribution_table(flows, DAY, *intervals, "2026-11-02", "token-1"), "token-1"
    )
    assert external is not None and external["address"].sort().to_list() == [
        "16.15.156.7",
        "198.51.100.7",
    ]
    assert reusable_answers(
        attribution_table(flows, DAY, *intervals, "2026-11-02", "token-1"), "token-2"
    ).is_empty()

    def not_needed() -> pl.DataFrame:
        raise AssertionError("ip-ranges flattened although every external address was known")

    got = attribution_of(flows, ipam_intervals, not_needed, known=external)
    assert_frame_equal(
        got.sort("side", "address"), attribution_of(flows, *intervals).sort("side", "address")
    )
    calls = []
    attribution_of(
        nat_rows([("10.10.1.50", "192.0.2.1")]),
        ipam_intervals,
        lambda: calls.append(1) or aws_intervals,
        known=external,
    )
    assert calls == [1]


def test_the_stored_attribution_holds_every_address_of_the_day_and_what_answered(sample_warehouse):
    store = sample_warehouse.get()
    day = date.fromisoformat(sample_days()[0])
    stored = store.read_partition(tables.ADDRESS_ATTRIBUTION.name, "usage_date", day)
    flows = store.read_partition(
        "nat_flows", "usage_date", day, columns=["internal_addr", "external_addr"]
    )
    assert dict(stored.schema) == ATTRIBUTION_SCHEMA
    assert set(stored.filter(pl.col("side") == INTERNAL_SIDE)["address"]) == set(
        flows["internal_addr"]
    )
    assert set(stored.filter(pl.col("side") == EXTERNAL_SIDE)["address"]) == set(
        flows["external_addr"]
    )
    assert stored.select("side", "address").is_unique().all()
    assert stored["ipam_snapshot_date"].unique().to_list() == [day.isoformat()]
    assert stored["ip_ranges_sync_token"].n_unique() == 1 and stored.height < flows.height


def sorted_partials(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(*PARTIAL_KEYS, "flows", "bytes").sort(PARTIAL_KEYS, nulls_last=True)


@pytest.mark.parametrize("day", sample_days())
def test_the_gold_aggregate_by_address_class_equals_aggregating_attached_rows(
    sample_warehouse, day
):
    store = sample_warehouse.get()
    flows = store.read_partition(
        "nat_flows", "usage_date", date.fromisoformat(day), columns=list(NAT_COLUMNS)
    )
    stored = store.read_partition(
        tables.ADDRESS_ATTRIBUTION.name, "usage_date", date.fromisoformat(day)
    )
    expected = aggregate(attach(flows, stored))
    assert expected["flows"].sum() == flows.height
    assert_frame_equal(
        sorted_partials(aggregate_attributed(flows, stored)), sorted_partials(expected)
    )


def test_the_gold_aggregate_by_address_class_on_the_edge_cases(intervals):
    flows = nat_rows(
        [
            ("10.10.1.50", "16.15.156.7"),
            ("10.99.0.1", "64:ff9b::100f:9c07"),
            (None, None),
            ("10.10.2.9", "198.51.100.7"),
        ]
    )
    attribution = attribution_of(flows, *intervals)
    # an internal address the attribution does not list: unattributed, as attach makes it
    partial = attribution.filter(pl.col("address") != "10.10.2.9")
    for given in (attribution, partial):
        got = sorted_partials(aggregate_attributed(flows, given))
        assert_frame_equal(got, sorted_partials(aggregate(attach(flows, given))))
    assert set(aggregate_attributed(flows, partial)["team"]) == {"identity", ipam.UNATTRIBUTED}


def test_an_attribution_that_lists_an_address_twice_fails_by_name(intervals):
    flows = nat_rows([("10.10.1.50", "16.15.156.7"), (None, "198.51.100.7")])
    attribution = attribution_of(flows, *intervals)
    twice = pl.concat(
        [
            attribution,
            attribution.filter(pl.col("address") == "10.10.1.50").with_columns(
                pl.lit("other").alias("team")
            ),
        ]
    )
    with pytest.raises(
        ValueError,
        match=r"lists 1 internal_addr value\(s\) more than once \(e\.g\. 10\.10\.1\.50\)",
    ):
        aggregate_attributed(flows, twice)
    # a null address in a hand-made attribution is no answer: the row without an address stays
    # unattributed
    with_null = pl.concat(
        [
            attribution,
            attribution.filter(pl.col("side") == "internal").with_columns(
                pl.lit(None, dtype=pl.String).alias("address")
            ),
        ]
    )
    assert_frame_equal(
        sorted_partials(aggregate_attributed(flows, with_null)),
        sorted_partials(aggregate(attach(flows, attribution))),
    )


@pytest.mark.parametrize("day", sample_days())
def test_the_insight_tables_equal_what_every_enriched_row_gives(sample_warehouse, intervals, day):
    """top_talkers and endpoint_savings, built from nat_flows + the attribution, are what the
    row-level enrichment (the former enriched_nat_flows) gives, exactly."""
    store = sample_warehouse.get()
    enriched = enrich(
        store.read_partition("nat_flows", "usage_date", date.fromisoformat(day)), *intervals
    )
    stored = {
        t: store.read_partition(t, "usage_date", date.fromisoformat(day)).drop("usage_date")
        for t in ("top_talkers", "endpoint_savings")
    }
    assert_frame_equal(
        stored["top_talkers"], top_talkers(enriched, DEFAULT_TOP_N).drop("usage_date")
    )
    assert_frame_equal(
        stored["endpoint_savings"],
        endpoint_savings(enriched, PriceBook(), EndpointPriceBook()).drop("usage_date"),
    )
    assert stored["top_talkers"].height == DEFAULT_TOP_N and stored["endpoint_savings"].height > 0
