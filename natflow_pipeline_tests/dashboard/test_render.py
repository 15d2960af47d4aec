"""Rendering shapes the sample does not have: interface endpoints, one of them not worth buying."""

from __future__ import annotations

from datetime import date

import polars as pl

from natflow_pipeline.dashboard.data import DashboardData
from natflow_pipeline.dashboard.render import render
from natflow_pipeline.endpoint_pricing import EndpointPriceBook
from natflow_pipeline.endpoint_savings import endpoint_savings
from natflow_pipeline.pricing import PriceBook
from natflow_pipeline.top_talkers import top_talkers
from natflow_pipeline_tests.flow_rows import GB, frame, row


def interface_dashboard() -> DashboardData:
    day = date(2026, 11, 2)
    rows = frame(
        [
            row("payments", "10.10.1.5", "3.218.0.1", 80 * GB, "API_GATEWAY", "us-east-1", day=day),
            row("search", "10.20.1.7", "3.5.0.9", 2 * GB, "CODEBUILD", "us-east-1", day=day),
            row("search", "10.20.1.7", "16.15.0.9", 5 * GB, "S3", "us-east-1", day=day),
        ]
    )
    costs = (
        rows.group_by("usage_date", "team")
        .agg(pl.col("bytes").sum())
        .with_columns(gb=pl.col("bytes") / GB)
        .with_columns(total_usd=pl.col("gb") * 0.045)
    )
    savings = endpoint_savings(rows, PriceBook(), EndpointPriceBook())
    return DashboardData([day], costs, top_talkers(rows), savings, None)


def test_interface_endpoints_render_with_their_verdict():
    data = interface_dashboard()
    by_service = {r["aws_service"]: r for r in data.endpoint_savings.iter_rows(named=True)}
    assert by_service["API_GATEWAY"]["recommended"] and not by_service["CODEBUILD"]["recommended"]
    page = render(data)
    assert (
        "API_GATEWAY (interface)" in page
        and "CODEBUILD (interface)" in page
        and "S3 (gateway)" in page
    )
    assert "com.amazonaws.us-east-1.execute-api" in page
    assert "unverified" not in page  # us-east-1's price is the verified one
    assert "not reconciled" in page
