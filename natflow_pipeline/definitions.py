"""The natflow code location: assets, resources and the daily schedule.

Resource settings come from environment variables (``natflow_pipeline.settings``), so the same
code runs on the embedded sample, generated test data, or S3 in production.
"""

import dagster as dg

from natflow_pipeline import settings
from natflow_pipeline.assets.cost_explorer import (
    cost_explorer_nat_usage,
    cost_explorer_network_usage,
    nat_cost_reconciliation,
    network_cost_reconciliation,
)
from natflow_pipeline.assets.costs import team_daily_costs
from natflow_pipeline.assets.enrichment import address_attribution
from natflow_pipeline.assets.flow_logs import nat_flows, raw_flow_logs
from natflow_pipeline.assets.focus import focus_network_costs
from natflow_pipeline.assets.insights import endpoint_savings, nat_dashboard, top_talkers
from natflow_pipeline.assets.network_costs import team_daily_network_costs
from natflow_pipeline.assets.reference import aws_ip_ranges, ipam_prefixes
from natflow_pipeline.concurrency import RUN_EXECUTOR
from natflow_pipeline.resources.cost_checks import CostChecksResource
from natflow_pipeline.resources.cost_explorer import CostExplorerResource
from natflow_pipeline.resources.flow_logs import FlowLogSource
from natflow_pipeline.resources.insights import InsightsResource
from natflow_pipeline.resources.network_costs import network_costs_from_env
from natflow_pipeline.resources.pricing import pricing_from_env
from natflow_pipeline.resources.reference import ip_ranges_from_env, ipam_from_env
from natflow_pipeline.resources.warehouse import WarehouseResource
from natflow_pipeline.schedules import (
    daily_job,
    daily_nat_costs_schedule,
    ip_ranges_job,
    ip_ranges_schedule,
)

defs = dg.Definitions(
    assets=[
        raw_flow_logs,
        nat_flows,
        ipam_prefixes,
        aws_ip_ranges,
        address_attribution,
        team_daily_costs,
        team_daily_network_costs,
        cost_explorer_nat_usage,
        nat_cost_reconciliation,
        cost_explorer_network_usage,
        network_cost_reconciliation,
        top_talkers,
        endpoint_savings,
        nat_dashboard,
        focus_network_costs,
    ],
    jobs=[daily_job, ip_ranges_job],
    schedules=[daily_nat_costs_schedule, ip_ranges_schedule],
    executor=RUN_EXECUTOR,
    resources={
        "flow_logs": FlowLogSource(
            uri=settings.flow_logs_uri(),
            s3_endpoint_url=settings.s3_endpoint_url(),
            s3_region=settings.s3_region(),
        ),
        "warehouse": WarehouseResource(
            uri=settings.warehouse_uri(),
            s3_endpoint_url=settings.s3_endpoint_url(),
            s3_region=settings.s3_region(),
        ),
        "ipam": ipam_from_env(),
        "ip_ranges": ip_ranges_from_env(),
        "pricing": pricing_from_env(),
        "network_costs": network_costs_from_env(),
        "cost_explorer": CostExplorerResource(file_path=settings.cost_explorer_file()),
        "cost_checks": CostChecksResource(),
        "insights": InsightsResource(),
    },
)
