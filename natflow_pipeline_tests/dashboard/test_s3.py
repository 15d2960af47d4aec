"""The dashboard over an S3 warehouse (a real moto server on loopback): read there, written
there."""

from __future__ import annotations

from pathlib import Path

import boto3

from natflow_pipeline.resources.warehouse import WarehouseResource
from natflow_pipeline_tests.dashboard.conftest import render_dashboard


def test_dashboard_reads_and_writes_an_s3_warehouse(moto_server, sample_warehouse):
    s3 = boto3.client("s3", endpoint_url=moto_server)
    s3.create_bucket(Bucket="natflow-dashboard")
    root = Path(sample_warehouse.uri)
    for table in ("team_daily_costs", "top_talkers", "endpoint_savings"):
        for path in (root / table).rglob("*"):
            if path.is_file():
                s3.upload_file(
                    str(path), "natflow-dashboard", f"wh/{path.relative_to(root).as_posix()}"
                )
    warehouse = WarehouseResource(
        uri="s3://natflow-dashboard/wh", s3_endpoint_url=moto_server, s3_region="us-east-1"
    )
    result = render_dashboard(warehouse)
    (materialization,) = result.asset_materializations_for_node("nat_dashboard")
    assert (
        materialization.metadata["path"].value
        == "s3://natflow-dashboard/wh/reports/natflow-dashboard.html"
    )
    assert materialization.metadata["days"].value == 3
    body = s3.get_object(Bucket="natflow-dashboard", Key="wh/reports/natflow-dashboard.html")[
        "Body"
    ].read()
    assert len(body) == materialization.metadata["html_bytes"].value
    assert b"2026-11-01 .. 2026-11-03" in body
