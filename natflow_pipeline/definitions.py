"""The natflow code location: assets, resources and the daily schedule.

Resource settings come from environment variables (``natflow_pipeline.settings``), so the same
code runs on the embedded sample, generated test data, or S3 in production.
"""

import dagster as dg

from natflow_pipeline import settings
from natflow_pipeline.concurrency import RUN_EXECUTOR
from natflow_pipeline.assets.costs import team_daily_costs
from natflow_pipeline.assets.enrichment import enriched_nat_flows
from natflow_pipeline.assets.flow_logs import nat_flows, raw_flow_logs
from natflow_pipeline.assets.reference import aws_ip_ranges, ipam_prefixes
from natflow_pipeline.resources.flow_logs import FlowLogSource
from natflow_pipeline.resources.pricing import PricingResource
from natflow_pipeline.resources.reference import IpamSource, IpRangesSource
from natflow_pipeline.resources.warehouse import WarehouseResource
from natflow_pipeline.schedules import daily_job, daily_nat_costs_schedule, ip_ranges_job, ip_ranges_schedule

defs = dg.Definitions(
    assets=[raw_flow_logs, nat_flows, ipam_prefixes, aws_ip_ranges, enriched_nat_flows, team_daily_costs],
    jobs=[daily_job, ip_ranges_job],
    schedules=[daily_nat_costs_schedule, ip_ranges_schedule],
    executor=RUN_EXECUTOR,
    resources={
        "flow_logs": FlowLogSource(
            uri=settings.flow_logs_uri(), s3_endpoint_url=settings.s3_endpoint_url(), s3_region=settings.s3_region()
        ),
        "warehouse": WarehouseResource(
            uri=settings.warehouse_uri(), s3_endpoint_url=settings.s3_endpoint_url(), s3_region=settings.s3_region()
        ),
        "ipam": IpamSource(export_path=settings.ipam_export()),
        "ip_ranges": IpRangesSource(path=settings.ip_ranges_path()),
        "pricing": PricingResource(),
    },
)
