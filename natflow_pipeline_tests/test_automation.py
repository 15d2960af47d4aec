"""The morning's dashboard follows the day's tables (its automation condition, evaluated as the
daemon's automation sensor does), and the daily tables carry freshness policies."""

from __future__ import annotations

import tempfile

import dagster as dg

from natflow_pipeline import tables
from natflow_pipeline.definitions import defs
from natflow_pipeline.demo import sample_days
from natflow_pipeline.resources.warehouse import WarehouseResource

DASHBOARD = dg.AssetKey("nat_dashboard")


def test_the_dashboard_is_requested_once_the_days_tables_are_written(tmp_path):
    warehouse = WarehouseResource(uri=str(tmp_path / "warehouse"))
    daily = [
        a for a in defs.assets if isinstance(a, dg.AssetsDefinition) and DASHBOARD not in a.keys
    ]
    selection = dg.AssetSelection.assets(DASHBOARD)
    with tempfile.TemporaryDirectory() as home, dg.instance_for_test(temp_dir=home) as instance:
        first = dg.evaluate_automation_conditions(
            defs=defs, instance=instance, asset_selection=selection
        )
        assert first.total_requested == 0  # nothing written yet: nothing to show
        result = dg.materialize(
            daily,
            partition_key=sample_days()[0],
            resources={**defs.resources, "warehouse": warehouse},
            instance=instance,
        )
        assert result.success
        after = dg.evaluate_automation_conditions(
            defs=defs, instance=instance, asset_selection=selection, cursor=first.cursor
        )
        assert after.total_requested == 1
        assert after.get_requested_partitions(DASHBOARD) == {None}
        # and not again until a table it reads changes
        again = dg.evaluate_automation_conditions(
            defs=defs, instance=instance, asset_selection=selection, cursor=after.cursor
        )
        assert again.total_requested == 0


def test_the_gold_table_and_the_reconciliation_say_when_a_day_is_late():
    graph = defs.resolve_asset_graph()
    for table in (tables.TEAM_DAILY_COSTS, tables.NAT_COST_RECONCILIATION):
        policy = graph.get(dg.AssetKey(table.name)).freshness_policy
        assert policy is not None, table.name
