"""The whole asset graph on the embedded default, against the generator's ground truth."""

from __future__ import annotations

import hashlib
import threading
from datetime import date

import dagster as dg
import polars as pl
import pytest
from deltalake import DeltaTable

from natflow_pipeline.assets.flow_logs import nat_flows
from natflow_pipeline.costs import SCHEMA as COST_SCHEMA
from natflow_pipeline.definitions import defs
from natflow_pipeline.demo import materialize_days, sample_days
from natflow_pipeline.flowlogs.day import NatFlowStream
from natflow_pipeline.resources.warehouse import WarehouseResource
from natflow_pipeline.warehouse import Warehouse

TABLES = (
    "nat_flows",
    "ipam_prefixes",
    "address_attribution",
    "team_daily_costs",
    "flow_log_files",
    "aws_ip_ranges",
)
TRUTH_KEYS = ["team", "source_account_id", "aws_service", "destination_class", "direction"]


def costs_of(warehouse: WarehouseResource, day: str) -> pl.DataFrame:
    return warehouse.get().read_partition("team_daily_costs", "usage_date", date.fromisoformat(day))


@pytest.mark.parametrize("day", sample_days())
def test_per_team_bytes_equal_the_ground_truth_exactly(sample_warehouse, ground_truth, day):
    expected = pl.DataFrame(
        ground_truth["days"][day]["by_team"],
        schema={**{k: pl.String for k in TRUTH_KEYS}, "bytes": pl.Int64},
    )
    got = costs_of(sample_warehouse, day).group_by(TRUTH_KEYS).agg(pl.col("bytes").sum())
    assert got.sort(TRUTH_KEYS, nulls_last=True).equals(
        expected.select(got.columns).sort(TRUTH_KEYS, nulls_last=True)
    )
    assert got["bytes"].sum() == ground_truth["days"][day]["nat_bytes"]


def test_every_team_of_the_sample_company_appears(sample_warehouse):
    teams = set(costs_of(sample_warehouse, sample_days()[0])["team"])
    assert teams == {
        "payments",
        "checkout",
        "search",
        "ml-training",
        "data-platform",
        "identity",
        "observability",
        "unattributed",
    }


def test_gold_table_keeps_its_contract(sample_warehouse):
    schema = costs_of(sample_warehouse, sample_days()[0]).schema
    for column, dtype in COST_SCHEMA.items():
        assert schema[column] == dtype, column
    table = DeltaTable(sample_warehouse.get().table_uri("team_daily_costs"))
    assert table.metadata().partition_columns == ["usage_date"]


def test_cost_is_bytes_times_the_regions_price(sample_warehouse):
    costs = costs_of(sample_warehouse, sample_days()[1])
    assert set(costs["region"]) == {"us-east-1"}
    expected = costs["bytes"] / 2**30 * 0.045
    assert (costs["data_processing_usd"] - expected).abs().max() < 1e-12
    # a day of one gateway's hours (24 x $0.045) is shared out entirely
    assert costs["hourly_usd"].sum() == pytest.approx(24 * 0.045)


def test_rows_are_accounted_for_per_file(sample_warehouse):
    files = sample_warehouse.get().scan("flow_log_files").collect()
    filtered = pl.col("rows_non_nat") + pl.col("rows_no_data") + pl.col("rows_other_day")
    assert files.filter(
        pl.col("rows_read") != pl.col("rows_kept") + filtered + pl.col("rows_rejected")
    ).is_empty()
    # each day reads 24 deliveries of its own folder + the next day's first one
    assert files.group_by("usage_date").len()["len"].to_list() == [25, 25, 25]
    for day in files.partition_by("usage_date"):
        day = day.sort("delivered_at")
        first, late = day.row(0, named=True), day.row(-1, named=True)
        # the day's first delivery holds the previous day's last hour: filtered as another day
        assert first["rows_other_day"] > 0
        # the next day's first delivery holds this day's last hour: kept here
        assert late["delivered_at"].date() > day["usage_date"][0]
        assert late["rows_kept"] > 0 and late["rows_other_day"] == 0
        assert day["rows_other_day"].sum() == first["rows_other_day"]


def table_digest(warehouse: WarehouseResource, table: str) -> str:
    frame = warehouse.get().scan(table).collect()
    frame = frame.select(sorted(frame.columns)).sort(sorted(frame.columns), nulls_last=True)
    # CSV, not IPC: IPC bytes depend on how string buffers were built, CSV only on the content.
    return hashlib.sha256(frame.write_csv().encode()).hexdigest()


def test_materializing_a_day_again_leaves_every_table_identical(tmp_path):
    warehouse = WarehouseResource(uri=str(tmp_path / "wh"))
    days = sample_days()[:2]
    materialize_days(days, {"warehouse": warehouse})
    before = {t: table_digest(warehouse, t) for t in TABLES}
    materialize_days(days[1:], {"warehouse": warehouse})
    after = {t: table_digest(warehouse, t) for t in TABLES}
    assert before == after
    assert (
        warehouse.get().scan("nat_flows").select(pl.col("usage_date").n_unique()).collect().item()
        == 2
    )


def test_polars_and_pandas_read_back_the_same_numbers(sample_warehouse):
    uri = sample_warehouse.get().table_uri("team_daily_costs")
    by_polars = (
        pl.read_delta(uri)
        .group_by("usage_date", "team")
        .agg(pl.col("bytes").sum(), pl.col("total_usd").sum())
    )
    frame = DeltaTable(uri).to_pandas()
    by_pandas = frame.groupby(["usage_date", "team"], as_index=False)[["bytes", "total_usd"]].sum()
    joined = by_polars.join(
        pl.from_pandas(by_pandas).with_columns(pl.col("usage_date").cast(pl.Date)),
        on=["usage_date", "team"],
        suffix="_pd",
    )
    assert joined.height == by_polars.height == len(by_pandas)
    assert (joined["bytes"] == joined["bytes_pd"]).all()
    assert ((joined["total_usd"] - joined["total_usd_pd"]).abs() < 1e-9).all()


def test_a_delta_write_that_fails_partway_surfaces_its_error_and_stops_the_reading_threads(
    tmp_path, monkeypatch
):
    def fails_after_one_batch(self, table, batches, column, value):
        next(iter(batches))
        raise OSError("the store went away")

    closed: list[bool] = []
    close = NatFlowStream.close

    def recorded_close(stream: NatFlowStream) -> None:
        close(stream)
        closed.append(stream.closed_early)
        # gone now, not later when Dagster lets go of the exception and the stream with it
        assert not [
            t
            for t in threading.enumerate()
            if t.name.startswith(("natflow-classify", "natflow-read"))
        ]

    monkeypatch.setattr(Warehouse, "write_partition_stream", fails_after_one_batch)
    monkeypatch.setattr(NatFlowStream, "close", recorded_close)
    resources = {**defs.resources, "warehouse": WarehouseResource(uri=str(tmp_path / "wh"))}
    result = dg.materialize(
        [nat_flows], partition_key=sample_days()[0], resources=resources, raise_on_error=False
    )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert "the store went away" in str(
        failure.step_failure_data.error
    )  # the write's error, not another
    assert closed == [True]
