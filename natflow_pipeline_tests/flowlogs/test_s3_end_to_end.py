"""nat_flows materialized from a real (moto) S3 bucket through s3fs: both key layouts, hourly and
daily folders, gzip text and Parquet, two accounts x two regions, several flow log ids, and
deliveries crossing midnight in both directions. Expected bytes come from the deliveries' own
construction, never from the pipeline."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta, timezone

import boto3
import dagster as dg
import polars as pl
import pytest

from natflow_pipeline.assets.flow_logs import nat_flows, raw_flow_logs
from natflow_pipeline.flowlogs.day import NAT_FLOWS_SCHEMA
from natflow_pipeline.resources.flow_logs import FlowLogSource
from natflow_pipeline.resources.warehouse import WarehouseResource
from natflow_pipeline_tests.flowlogs.deliveries import Delivery, epoch

BUCKET = "natflow-e2e"
PREFIX = "prod/flowlogs"
A, B = "111111111111", "222222222222"
EAST, WEST = "us-east-1", "eu-west-1"
DAY = date(2026, 11, 2)
DAYS = (DAY - timedelta(days=1), DAY, DAY + timedelta(days=1))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def build_deliveries() -> dict[str, Delivery]:
    d = {
        # the day before: delivered in its own folder, read by 2026-11-01 only
        "a_east_prev": Delivery(A, EAST, "fl-0aaa", at("2026-11-01T23:55"), "plain", hourly=True),
        # the day's first delivery holds the previous day's last minutes (left to 2026-11-01)
        "a_east_first": Delivery(
            A, EAST, "fl-0aaa", at("2026-11-02T00:05"), "plain", hourly=True, field_order_seed=1
        ),
        "a_east_noon": Delivery(
            A, EAST, "fl-0bbb", at("2026-11-02T12:10"), "plain", hourly=False, fmt="parquet"
        ),
        "a_west": Delivery(
            A, WEST, "fl-0ccc", at("2026-11-02T13:05"), "hive", hourly=True, fmt="parquet"
        ),
        "b_east": Delivery(
            B, EAST, "fl-0ddd", at("2026-11-02T18:05"), "hive", hourly=False, field_order_seed=2
        ),
        # the next day's first window holds this day's last minutes (and the next day's first)
        "b_west_late": Delivery(
            B, WEST, "fl-0eee", at("2026-11-03T00:10"), "plain", hourly=False, fmt="parquet"
        ),
        "b_east_late": Delivery(
            B, EAST, "fl-0ddd", at("2026-11-03T00:20"), "hive", hourly=True, field_order_seed=3
        ),
        # after the lateness window: the next day's only
        "b_west_next": Delivery(
            B, WEST, "fl-0eee", at("2026-11-03T01:30"), "plain", hourly=False, fmt="parquet"
        ),
    }
    d["a_east_prev"].connection(
        epoch("2026-11-01T23:40:00"), 1_001, 20_001, "10.1.0.5", "52.216.1.10"
    )
    d["a_east_first"].connection(
        epoch("2026-11-01T23:57:10"), 1_002, 20_002, "10.1.0.6", "52.216.1.11"
    )
    d["a_east_first"].connection(
        epoch("2026-11-02T00:02:00"), 1_003, 20_003, "10.1.0.7", "203.0.113.9"
    )
    d["a_east_first"].no_data(epoch("2026-11-02T00:03:00"))
    d["a_east_noon"].connection(
        epoch("2026-11-02T11:50:00"), 1_004, 20_004, "10.1.2.8", "52.216.1.12"
    )
    d["a_east_noon"].connection(
        epoch("2026-11-02T12:00:00"), 1_005, 20_005, "10.1.2.9", "198.51.100.4"
    )
    d["a_west"].connection(epoch("2026-11-02T12:55:00"), 1_006, 20_006, "10.2.0.5", "3.5.64.1")
    d["a_west"].connection(
        epoch("2026-11-02T12:56:00"), 1_007, 20_007, "2600:1f18:aaaa::5", "64:ff9b::cb00:7109"
    )
    d["b_east"].connection(epoch("2026-11-02T17:59:59"), 1_008, 20_008, "10.3.0.5", "52.94.0.1")
    d["b_west_late"].connection(
        epoch("2026-11-02T23:58:00"), 1_009, 20_009, "10.4.0.5", "52.218.0.1"
    )
    d["b_west_late"].connection(
        epoch("2026-11-03T00:03:00"), 1_010, 20_010, "10.4.0.6", "52.218.0.2"
    )
    d["b_east_late"].connection(
        epoch("2026-11-02T23:50:00"), 1_011, 20_011, "10.3.0.7", "203.0.113.20"
    )
    d["b_east_late"].connection(
        epoch("2026-11-03T00:10:00"), 1_012, 20_012, "10.3.0.8", "203.0.113.21"
    )
    d["b_west_next"].connection(
        epoch("2026-11-03T01:20:00"), 1_013, 20_013, "10.4.0.7", "52.218.0.3"
    )
    return d


def expected_bytes(deliveries: dict[str, Delivery], day: date) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = defaultdict(int)
    for delivery in deliveries.values():
        if delivery.nat_bytes_by_day.get(day):
            out[(delivery.account, delivery.region)] += delivery.nat_bytes_by_day[day]
    return dict(out)


@pytest.fixture(scope="module")
def s3_run(moto_server, tmp_path_factory):
    """Upload the deliveries to a moto bucket and materialize the three days from s3://."""
    deliveries = build_deliveries()
    s3 = boto3.client("s3", endpoint_url=moto_server)
    s3.create_bucket(Bucket=BUCKET)
    for delivery in deliveries.values():
        s3.put_object(Bucket=BUCKET, Key=delivery.key(PREFIX), Body=delivery.body())
    warehouse = WarehouseResource(uri=str(tmp_path_factory.mktemp("warehouse")))
    source = FlowLogSource(uri=f"s3://{BUCKET}/{PREFIX}", s3_endpoint_url=moto_server)
    metadata = {}
    with dg.instance_for_test() as instance:
        for day in DAYS:
            result = dg.materialize(
                [raw_flow_logs, nat_flows],
                partition_key=day.isoformat(),
                resources={"flow_logs": source, "warehouse": warehouse},
                instance=instance,
            )
            assert result.success
            event = result.asset_materializations_for_node("nat_flows")[0]
            metadata[day] = {k: v.value for k, v in event.metadata.items()}
    return deliveries, warehouse, metadata


@pytest.mark.parametrize("day", DAYS)
def test_bytes_per_account_and_region_equal_what_was_uploaded(s3_run, day):
    deliveries, warehouse, _ = s3_run
    flows = warehouse.get().read_partition("nat_flows", "usage_date", day)
    got = {
        (r["account_id"], r["region"]): r["bytes"]
        for r in flows.group_by("account_id", "region").agg(pl.col("bytes").sum()).to_dicts()
    }
    assert got == expected_bytes(deliveries, day)


def test_the_day_covers_two_accounts_two_regions_both_layouts_and_formats(s3_run):
    deliveries, warehouse, metadata = s3_run
    files = warehouse.get().read_partition("flow_log_files", "usage_date", DAY)
    read = {
        d: deliveries[d]
        for d in ("a_east_first", "a_east_noon", "a_west", "b_east", "b_west_late", "b_east_late")
    }
    assert sorted(files["file"]) == sorted(f"s3://{BUCKET}/{d.key(PREFIX)}" for d in read.values())
    assert set(zip(files["account_id"], files["region"], strict=True)) == {
        (A, EAST),
        (A, WEST),
        (B, EAST),
        (B, WEST),
    }
    assert {d.layout for d in read.values()} == {"plain", "hive"} and {
        d.fmt for d in read.values()
    } == {"text", "parquet"}
    assert {d.hourly for d in read.values()} == {True, False}
    flows = warehouse.get().read_partition("nat_flows", "usage_date", DAY)
    assert (
        flows["source_file"].str.ends_with(".log.parquet").any()
        and flows["source_file"].str.ends_with(".log.gz").any()
    )
    assert flows.filter(pl.col("internal_addr") == "2600:1f18:aaaa::5")[
        "external_addr"
    ].unique().to_list() == ["64:ff9b::cb00:7109"]
    assert metadata[DAY]["files_listed"] == 6 and metadata[DAY]["files_read"] == 6


def test_every_row_of_the_day_is_counted_exactly(s3_run):
    deliveries, _, metadata = s3_run
    meta = metadata[DAY]
    read = [
        deliveries[d]
        for d in ("a_east_first", "a_east_noon", "a_west", "b_east", "b_west_late", "b_east_late")
    ]
    lo, hi = epoch("2026-11-02T00:00:00"), epoch("2026-11-03T00:00:00")
    records = [r for d in read for r in d.records]
    in_day = [r for r in records if lo <= r["start"] < hi]
    assert meta["rows_read"] == len(records) == 4 * 11 + 1
    assert meta["rows_filtered_other_day"] == len(records) - len(in_day) == 4 * 3
    assert meta["rows_filtered_no_data"] == 1
    assert meta["rows_kept"] == 2 * 8 and meta["rows_filtered_non_nat"] == 2 * 8
    assert meta["rows_rejected"] == 0
    assert meta["rows_read"] == meta["rows_kept"] + meta["rows_filtered"] + meta["rows_rejected"]
    assert meta["rows_identity"] == "read 45 = kept 16 + filtered 29 + rejected 0"
    assert meta["nat_bytes"] == sum(expected_bytes(deliveries, DAY).values())


def test_records_crossing_midnight_land_in_exactly_one_day(s3_run):
    deliveries, warehouse, _ = s3_run
    flows = warehouse.get().scan("nat_flows").collect()
    uploaded = sum(sum(d.nat_bytes_by_day.values()) for d in deliveries.values())
    assert flows["bytes"].sum() == uploaded
    # the 23:57 record in 2026-11-02's first delivery belongs to 2026-11-01; the 00:03 record in
    # 2026-11-03's first delivery (read by both days) belongs to 2026-11-03 only
    late = flows.filter(pl.col("start") == epoch("2026-11-01T23:57:10"))
    assert late["usage_date"].unique().to_list() == [date(2026, 11, 1)] and late.height == 2
    early = flows.filter(pl.col("start") == epoch("2026-11-03T00:03:00"))
    assert early["usage_date"].unique().to_list() == [date(2026, 11, 3)] and early.height == 2
    assert (
        flows.select(pl.struct("source_file", "source_line").is_duplicated().any()).item() is False
    )


def test_parquet_and_text_rows_arrive_typed_alike(s3_run):
    _, warehouse, _ = s3_run
    flows = warehouse.get().read_partition("nat_flows", "usage_date", DAY)
    assert flows.schema == pl.Schema(NAT_FLOWS_SCHEMA)
    parquet_row = flows.filter(
        pl.col("start") == epoch("2026-11-02T12:55:00"), pl.col("direction") == "egress"
    ).row(0, named=True)
    text_row = flows.filter(
        pl.col("start") == epoch("2026-11-02T17:59:59"), pl.col("direction") == "egress"
    ).row(0, named=True)
    for row, addr, nbytes in ((parquet_row, "10.2.0.5", 1_006), (text_row, "10.3.0.5", 1_008)):
        assert row["internal_addr"] == addr and row["bytes"] == nbytes and row["packets"] == 1
        assert row["pkt_srcaddr"] == addr and row["interface_id"].startswith("eni-")
