"""The daily-table pattern (``natflow_pipeline.tables`` and ``natflow_pipeline.assets.daily``):
every table is an asset, each materialization carries Dagster's standard table metadata and the
numbers a person reads are rounded, while the tables keep full precision."""

from __future__ import annotations

import tempfile
from datetime import date

import dagster as dg
import polars as pl
import pytest

from natflow_pipeline import tables
from natflow_pipeline.assets.flow_logs import (
    OBSERVE_END_TAG,
    OBSERVE_START_TAG,
    ObserveRange,
    raw_flow_logs,
)
from natflow_pipeline.definitions import defs
from natflow_pipeline.demo import sample_days
from natflow_pipeline.resources.warehouse import WarehouseResource

#: Assets that are not Delta tables: the observed deliveries and the HTML dashboard.
NOT_TABLES = {"raw_flow_logs", "nat_dashboard"}


@pytest.fixture(scope="module")
def two_days(tmp_path_factory) -> tuple[WarehouseResource, list[dg.AssetMaterialization]]:
    """Two sample days materialized through Dagster, and every materialization they reported."""
    warehouse = WarehouseResource(uri=str(tmp_path_factory.mktemp("daily-tables")))
    assets = [a for a in defs.assets if isinstance(a, dg.AssetsDefinition)]
    resources = {**defs.resources, "warehouse": warehouse}
    events: list[dg.AssetMaterialization] = []
    with tempfile.TemporaryDirectory() as home, dg.instance_for_test(temp_dir=home) as instance:
        for day in sample_days()[:2]:
            result = dg.materialize(
                assets, partition_key=day, resources=resources, instance=instance
            )
            assert result.success
            events += [
                e.event_specific_data.materialization
                for e in result.get_asset_materialization_events()
            ]
    return warehouse, events


def test_every_table_is_an_asset_and_every_asset_but_two_a_table():
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    names = {t.name for t in tables.TABLES}
    assert len(names) == len(tables.TABLES)
    assert names == keys - NOT_TABLES


def test_each_write_reports_rows_uri_and_columns(two_days):
    warehouse, events = two_days
    store = warehouse.get()
    by_name = {t.name: t for t in tables.TABLES}
    seen = set()
    for event in events:
        name = event.asset_key.to_user_string()
        if name in NOT_TABLES:
            continue
        seen.add(name)
        table, meta = by_name[name], event.metadata
        stored = store.scan(name).collect()
        if event.partition:
            day = date.fromisoformat(event.partition)
            rows = stored.filter(pl.col(table.partition_column) == day).height
            assert meta["dagster/partition_row_count"].value == rows, name
        assert meta["dagster/uri"].value == store.table_uri(name)
        columns = [c.name for c in meta["dagster/column_schema"].value.columns]
        assert sorted(columns) == sorted(stored.columns), name
        # the table's rows at the version this write made (a later day adds to the latest)
        assert meta["dagster/row_count"].value == store.row_count(name, meta["delta_version"].value)
    assert seen == {t.name for t in tables.TABLES}


def test_declared_schemas_are_what_is_written(two_days):
    warehouse, _ = two_days
    store = warehouse.get()
    for table in tables.TABLES:
        if table.schema is None or not store.exists(table.name):
            continue
        written = store.scan(table.name).collect_schema()
        assert dict(written) == dict(table.schema), table.name


def test_amounts_are_rounded_for_people_and_typed_alike_on_every_day(two_days):
    warehouse, events = two_days
    costs = [e for e in events if e.asset_key.to_user_string() == tables.TEAM_DAILY_COSTS.name]
    assert len(costs) == 2
    for event in costs:
        meta = {k: v.value for k, v in event.metadata.items()}
        assert meta["gb"] == round(meta["gb"], 3)
        for money in ("data_processing_usd", "hourly_usd", "total_usd", "unattributed_usd"):
            assert meta[money] == round(meta[money], 4), money
            assert meta[money] == round(meta[money], 2) or abs(meta[money]) < 1, money
        assert 0.0 <= meta["unattributed_bytes_pct"] <= 100.0
    first, second = ({k: type(v.value) for k, v in e.metadata.items()} for e in costs)
    assert first == second
    # the table keeps full precision: its GB are not rounded to the megabyte
    day = warehouse.get().read_day(tables.TEAM_DAILY_COSTS, date.fromisoformat(sample_days()[0]))
    assert any(v != round(v, 3) for v in day["gb"])


def test_an_observation_lists_only_recent_days_unless_given_a_range():
    keys = ["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05"]
    today = date(2026, 11, 5)
    assert ObserveRange().days(keys, today) == ["2026-11-03", "2026-11-04", "2026-11-05"]
    assert ObserveRange(recent_days=1).days(keys, today) == ["2026-11-05"]
    ranged = ObserveRange(start_date="2026-11-01", end_date="2026-11-02")
    assert ranged.days(keys, today) == ["2026-11-01", "2026-11-02"]
    assert ObserveRange(start_date="2026-11-04").days(keys, today) == ["2026-11-04", "2026-11-05"]


def test_observing_a_range_versions_exactly_those_days():
    # dagster has no public observe() in 1.13; dagster._core.definitions.observe is what
    # `dagster asset materialize` of an observable source runs in process.
    from dagster._core.definitions.observe import observe

    days = sample_days()
    with tempfile.TemporaryDirectory() as home, dg.instance_for_test(temp_dir=home) as instance:
        result = observe(
            [raw_flow_logs],
            instance=instance,
            resources={"flow_logs": defs.resources["flow_logs"]},
            tags={OBSERVE_START_TAG: days[0], OBSERVE_END_TAG: days[1]},
        )
        observed = {e.partition for e in result.get_asset_observation_events()}
        assert observed == set(days[:2])
        # by default only recent days are listed: the sample's days are long past
        result = observe(
            [raw_flow_logs], instance=instance, resources={"flow_logs": defs.resources["flow_logs"]}
        )
        assert result.success and not result.get_asset_observation_events()
