"""The natflow code location: assets, resources and the daily schedule."""

import dagster as dg

from natflow_pipeline.assets.costs import team_daily_costs
from natflow_pipeline.assets.enrichment import enriched_nat_flows
from natflow_pipeline.assets.flow_logs import nat_flows, raw_flow_logs
from natflow_pipeline.assets.reference import aws_ip_ranges, ipam_prefixes
from natflow_pipeline.resources.flow_logs import FlowLogSource
from natflow_pipeline.resources.pricing import PricingResource
from natflow_pipeline.resources.reference import ip_ranges_from_env, ipam_from_env
from natflow_pipeline.resources.warehouse import WarehouseResource

defs = dg.Definitions(
    assets=[raw_flow_logs, nat_flows, ipam_prefixes, aws_ip_ranges, enriched_nat_flows, team_daily_costs],
    resources={
        "flow_logs": FlowLogSource(),
        "warehouse": WarehouseResource(),
        "ipam": ipam_from_env(),
        "ip_ranges": ip_ranges_from_env(),
        "pricing": PricingResource(),
    },
)
