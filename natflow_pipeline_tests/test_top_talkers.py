"""top_talkers: the seed article's pair query, on NAT rows, with both sides named."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from natflow_pipeline import tables
from natflow_pipeline.enrichment import attach
from natflow_pipeline.top_talkers import NAT_COLUMNS, top_talkers, top_talkers_of
from natflow_pipeline_tests.flow_rows import frame, row


def test_pairs_are_ranked_by_bytes_with_both_sides_named():
    rows = frame(
        [
            row("payments", "10.10.1.5", "16.15.0.9", 700, "S3", "us-east-1"),
            row("payments", "10.10.1.5", "16.15.0.9", 300, "S3", "us-east-1"),  # same pair: summed
            row(
                "payments", "10.10.1.5", "16.15.0.9", 5_000, "S3", "us-east-1", direction="ingress"
            ),  # the reverse pair
            row("search", "10.20.1.7", "198.51.100.4", 2_000),
            row("unattributed", "10.99.0.1", "3.5.0.1", 10, "S3", "eu-west-1"),
        ]
    )
    got = top_talkers(rows, top_n=3)
    assert got["rank"].to_list() == [1, 2, 3]
    assert got["bytes"].to_list() == [5_000, 2_000, 1_000]
    first, second, third = got.iter_rows(named=True)
    assert (first["pkt_srcaddr"], first["src_kind"], first["src_owner"]) == (
        "16.15.0.9",
        "aws",
        "S3 (us-east-1)",
    )
    assert (first["pkt_dstaddr"], first["dst_kind"], first["dst_owner"]) == (
        "10.10.1.5",
        "internal",
        "payments",
    )
    assert (second["src_owner"], second["dst_kind"], second["dst_owner"]) == (
        "search",
        "internet",
        "internet",
    )
    assert (third["direction"], third["flows"], third["packets"]) == ("egress", 2, 2)
    assert got["share_of_day_bytes"].to_list() == pytest.approx(
        [5_000 / 8_010, 2_000 / 8_010, 1_000 / 8_010]
    )


def test_each_day_is_ranked_on_its_own_and_ties_break_by_address():
    day1, day2 = date(2026, 11, 1), date(2026, 11, 2)
    rows = frame(
        [
            row("a", "10.0.0.2", "198.51.100.1", 50, day=day1),
            row("a", "10.0.0.1", "198.51.100.1", 50, day=day1),
            row("b", "10.0.0.3", "198.51.100.1", 99, day=day2),
        ]
    )
    got = top_talkers(rows, top_n=5)
    assert got.filter(pl.col("usage_date") == day1)["pkt_srcaddr"].to_list() == [
        "10.0.0.1",
        "10.0.0.2",
    ]
    assert got.filter(pl.col("usage_date") == day2)["rank"].to_list() == [1]


def test_top_n_must_be_positive():
    with pytest.raises(ValueError, match="top_n"):
        top_talkers(frame([]), top_n=0)


def test_sample_top_talkers_match_the_articles_query(sample_warehouse):
    """The same numbers as SELECT pkt_srcaddr, pkt_dstaddr, sum(bytes) GROUP BY 1,2 ORDER BY 3
    DESC."""
    store = sample_warehouse.get()
    for day in store.partition_values("top_talkers", "usage_date"):
        stored = store.read_partition("top_talkers", "usage_date", date.fromisoformat(day)).sort(
            "rank"
        )
        flows = store.read_partition("nat_flows", "usage_date", date.fromisoformat(day))
        enriched = attach(
            flows,
            store.read_partition(
                tables.ADDRESS_ATTRIBUTION.name, "usage_date", date.fromisoformat(day)
            ),
        )
        article = (
            flows.group_by("pkt_srcaddr", "pkt_dstaddr")
            .agg(pl.col("bytes").sum())
            .sort("bytes", descending=True)
        )
        assert stored.height == 100
        assert stored["rank"].to_list() == list(range(1, 101))
        assert stored["bytes"].to_list() == article["bytes"].head(100).to_list()
        # every other column is a function of the pair: grouping by the pair alone gives as many
        # pairs
        assert (
            enriched.select(pl.struct("pkt_srcaddr", "pkt_dstaddr").n_unique()).item()
            == top_talkers(enriched, 10**9).height
        )
        assert stored.filter(pl.col("src_kind") == pl.col("dst_kind")).is_empty()


@pytest.mark.parametrize("top_n", [1, 100, 10**9])
def test_ranking_pairs_before_attaching_gives_what_ranking_attached_rows_gives(
    sample_warehouse, top_n
):
    """top_talkers_of (sum per pair, attach the top N) == top_talkers on every row attached."""
    store = sample_warehouse.get()
    for day in store.partition_values("top_talkers", "usage_date"):
        flows = store.read_partition("nat_flows", "usage_date", date.fromisoformat(day))
        attribution = store.read_partition(
            tables.ADDRESS_ATTRIBUTION.name, "usage_date", date.fromisoformat(day)
        )
        expected = top_talkers(attach(flows, attribution), top_n)
        assert 0 < expected.height <= top_n
        assert_frame_equal(top_talkers_of(flows.select(NAT_COLUMNS), attribution, top_n), expected)
