"""Rendering shapes the sample does not have: interface endpoints, one of them not worth buying."""

from __future__ import annotations

from dataclasses import replace
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


def test_the_per_team_split_shows_nat_tgw_and_cross_az_or_says_it_is_missing():
    data = interface_dashboard()
    assert "team_daily_network_costs does not exist" in render(data)
    day = data.first
    network = pl.DataFrame(
        {
            "usage_date": [day, day],
            "team": ["payments", "search"],
            "nat_usd": [3.6, 0.3],
            "tgw_usd": [1.2, 0.0],
            "cross_az_usd": [0.25, None],
        }
    )
    page = render(replace(data, network_costs=network))
    assert 'id="chart-network-split"' in page and 'id="network-split"' in page
    assert "<th>NAT USD</th><th>TGW USD</th><th>cross-AZ USD</th>" in page
    assert "<td>payments</td><td>3.60</td><td>1.20</td><td>0.25</td><td>5.05</td>" in page
    # a table written before the cross-AZ columns existed
    page = render(replace(data, network_costs=network.drop("cross_az_usd")))
    assert "cross-AZ: not computed" in page
    assert "<td>search</td><td>0.30</td><td>0.00</td><td>–</td><td>0.30</td>" in page
