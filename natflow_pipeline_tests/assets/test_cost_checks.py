"""The cost checks on the embedded default: reconciliation passes offline, a missing delivery
blocks the day, and unattributed traffic warns with the addresses to fix in NetBox."""

from __future__ import annotations

import shutil
from datetime import date

import dagster as dg
import polars as pl

from natflow_pipeline import tables
from natflow_pipeline.definitions import defs
from natflow_pipeline.demo import sample_days
from natflow_pipeline.paths import DEFAULT_FLOW_LOGS
from natflow_pipeline.reconciliation import SCHEMA as RECONCILIATION_SCHEMA
from natflow_pipeline.resources.cost_checks import CostChecksResource
from natflow_pipeline.resources.flow_logs import FlowLogSource
from natflow_pipeline.resources.warehouse import WarehouseResource


def test_the_sample_reconciles_with_its_cost_explorer_file_on_every_day(sample_warehouse):
    table = (
        sample_warehouse.get()
        .scan(tables.NAT_COST_RECONCILIATION.name)
        .collect()
        .sort("usage_date")
    )
    assert table.schema == pl.Schema(RECONCILIATION_SCHEMA)
    assert [d.isoformat() for d in table["usage_date"]] == sample_days()
    assert set(table["status"]) == {"PASS"}
    assert set(zip(table["account_id"], table["region"], strict=True)) == {
        ("999999999999", "us-east-1")
    }
    assert table["difference_pct"].abs().max() < 1e-6
    assert not table["estimated"].any()


def evaluations(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {
        e.check_name: e
        for e in result.get_asset_check_evaluations()
        if e.asset_key == dg.AssetKey("team_daily_costs")
    }


def test_a_missing_hourly_delivery_fails_the_day_and_blocks_reconciliation(tmp_path):
    flowlogs = tmp_path / "flowlogs"
    shutil.copytree(DEFAULT_FLOW_LOGS, flowlogs)
    (missing,) = flowlogs.rglob("*_20261102T1005Z_*.log.gz")  # holds the records of 09:00-10:00
    missing.unlink()
    resources = {
        **defs.resources,
        "flow_logs": FlowLogSource(uri=str(flowlogs)),
        "warehouse": WarehouseResource(uri=str(tmp_path / "wh")),
        "cost_checks": CostChecksResource(max_unattributed_share=0.01),
    }
    assets = [a for a in defs.assets if isinstance(a, dg.AssetsDefinition)]
    result = dg.materialize(
        assets, partition_key="2026-11-02", resources=resources, raise_on_error=False
    )
    checks = evaluations(result)
    complete = checks["nat_interfaces_complete"]
    assert not complete.passed and complete.severity == dg.AssetCheckSeverity.ERROR
    assert (
        "| 999999999999 | us-east-1 | eni-0a1b2c3d4e5f67890 | 9 |"
        in complete.metadata["gaps"].value
    )
    assert checks["rows_accounted_for"].passed
    attribution = checks["unattributed_share"]
    assert not attribution.passed and attribution.severity == dg.AssetCheckSeverity.WARN
    assert 0.01 < attribution.metadata["unattributed_share"].value < 0.05
    assert "10.40.3." in attribution.metadata["top_unattributed_addresses"].value
    assert not result.success
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert "team_daily_costs" in materialized and "nat_cost_reconciliation" not in materialized
    assert (
        not WarehouseResource(uri=str(tmp_path / "wh"))
        .get()
        .exists(tables.NAT_COST_RECONCILIATION.name)
    )
    assert date(2026, 11, 2).isoformat() in sample_days()


def test_the_code_location_holds_the_cost_assets_and_their_checks():
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {"cost_explorer_nat_usage", "nat_cost_reconciliation"} <= keys
    specs = {
        (s.asset_key.to_user_string(), s.name): s.blocking
        for a in defs.assets
        if isinstance(a, dg.AssetsDefinition)
        for s in a.check_specs
    }
    assert specs == {
        ("nat_flows", "rows_accounted_for"): True,
        ("team_daily_costs", "rows_accounted_for"): True,
        ("team_daily_costs", "nat_interfaces_complete"): True,
        ("team_daily_costs", "unattributed_share"): False,
        ("team_daily_costs", "cost_anomalies"): False,  # WARN: a spend jump is news, not an error
        ("nat_cost_reconciliation", "matches_cost_explorer"): True,
        # coverage, not agreement: TGW and inter-AZ traffic the NAT never sees is not an error
        ("network_cost_reconciliation", "tgw_covered_by_flow_logs"): False,
        ("network_cost_reconciliation", "inter_az_covered_by_flow_logs"): False,
        (
            "aws_ip_ranges",
            "fetched_live",
        ): False,  # WARN only: a stale ip-ranges version is still right
    }
