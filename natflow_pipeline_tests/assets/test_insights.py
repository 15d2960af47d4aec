"""The insights assets in the code location, materialized with the rest of the graph."""

from __future__ import annotations

import polars as pl
from deltalake import DeltaTable

from natflow_pipeline.definitions import defs
from natflow_pipeline.endpoint_savings import SCHEMA as SAVINGS_SCHEMA
from natflow_pipeline.top_talkers import SCHEMA as TALKERS_SCHEMA

INSIGHTS = {"top_talkers", "endpoint_savings", "nat_dashboard"}


def test_insights_assets_are_in_the_code_location_and_grouped():
    nodes = {n.key.to_user_string(): n for n in defs.resolve_asset_graph().asset_nodes}
    assert INSIGHTS <= set(nodes)
    assert {nodes[k].group_name for k in INSIGHTS} == {"insights"}
    assert nodes["nat_dashboard"].partitions_def is None
    assert (
        nodes["top_talkers"].partitions_def is not None
        and nodes["endpoint_savings"].partitions_def is not None
    )
    assert "insights" in defs.resources


def test_daily_insight_tables_are_delta_partitioned_by_day(sample_warehouse):
    store = sample_warehouse.get()
    for table, schema in (("top_talkers", TALKERS_SCHEMA), ("endpoint_savings", SAVINGS_SCHEMA)):
        assert DeltaTable(store.table_uri(table)).metadata().partition_columns == ["usage_date"]
        assert store.partition_values(table, "usage_date") == [
            "2026-11-01",
            "2026-11-02",
            "2026-11-03",
        ]
        frame = store.scan(table).collect()
        assert {c: frame.schema[c] for c in schema} == schema
    per_day = store.scan("top_talkers").group_by("usage_date").len().collect()
    assert per_day["len"].to_list() == [100, 100, 100]


def test_the_sample_run_wrote_the_dashboard_of_every_day(sample_warehouse):
    page = sample_warehouse.get().uri + "/reports/natflow-dashboard.html"
    text = open(page, encoding="utf-8").read()
    assert "2026-11-01 .. 2026-11-03" in text
    # the sample's Cost Explorer file matches its traffic: every day reconciles
    assert "not reconciled" not in text
    assert text.count(">PASS</span>") >= 3
    savings = sample_warehouse.get().scan("endpoint_savings").collect()
    assert savings.filter(pl.col("saving_usd") <= 0).is_empty()
