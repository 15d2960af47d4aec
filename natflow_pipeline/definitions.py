"""The natflow code location: assets, resources and the daily schedule."""

import dagster as dg

from natflow_pipeline.assets.cost_explorer import cost_explorer_nat_usage, nat_cost_reconciliation
from natflow_pipeline.assets.costs import team_daily_costs
from natflow_pipeline.assets.enrichment import enriched_nat_flows
from natflow_pipeline.assets.flow_logs import nat_flows, raw_flow_logs
from natflow_pipeline.assets.insights import endpoint_savings, nat_dashboard, top_talkers
from natflow_pipeline.assets.reference import aws_ip_ranges, ipam_prefixes
from natflow_pipeline.resources.cost_checks import CostChecksResource
from natflow_pipeline.resources.cost_explorer import CostExplorerResource
from natflow_pipeline.resources.flow_logs import FlowLogSource
from natflow_pipeline.resources.insights import InsightsResource
from natflow_pipeline.resources.pricing import PricingResource
from natflow_pipeline.resources.reference import ip_ranges_from_env, ipam_from_env
from natflow_pipeline.resources.warehouse import WarehouseResource

defs = dg.Definitions(
    assets=[
        raw_flow_logs,
        nat_flows,
        ipam_prefixes,
        aws_ip_ranges,
        enriched_nat_flows,
        team_daily_costs,
        cost_explorer_nat_usage,
        nat_cost_reconciliation,
        top_talkers,
        endpoint_savings,
        nat_dashboard,
    ],
    resources={
        "flow_logs": FlowLogSource(),
        "warehouse": WarehouseResource(),
        "ipam": ipam_from_env(),
        "ip_ranges": ip_ranges_from_env(),
        "pricing": PricingResource(),
        "cost_explorer": CostExplorerResource(),
        "cost_checks": CostChecksResource(),
        "insights": InsightsResource(),
    },
)
