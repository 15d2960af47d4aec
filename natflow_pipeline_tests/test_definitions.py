"""The code location loads as `dagster dev` would load it, so a broken import fails here, not in
the UI."""

import subprocess
import sys
from pathlib import Path

import dagster as dg

from natflow_pipeline.definitions import defs

ROOT = Path(__file__).resolve().parents[1]


def test_definitions_hold_the_whole_asset_graph():
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {
        "raw_flow_logs",
        "nat_flows",
        "ipam_prefixes",
        "aws_ip_ranges",
        "address_attribution",
        "team_daily_costs",
    } <= keys


def test_every_materializable_asset_is_described_and_grouped():
    for asset in defs.resolve_asset_graph().asset_nodes:
        assert asset.description, asset.key
        assert asset.group_name != "default", asset.key


def test_dagster_validates_the_workspace():
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "dagster"),
            "definitions",
            "validate",
            "-w",
            "workspace.yaml",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_daily_partitions_are_utc():
    from natflow_pipeline.partitions import daily_partitions

    assert isinstance(daily_partitions, dg.DailyPartitionsDefinition)
    assert daily_partitions.timezone == "UTC"
