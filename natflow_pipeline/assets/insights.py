"""Insights users act on: the day's top talkers, what VPC endpoints would save, and a dashboard."""

import time
from datetime import date

import dagster as dg
import polars as pl
from pydantic import Field

from natflow_pipeline.assets.cost_explorer import nat_cost_reconciliation
from natflow_pipeline.assets.costs import team_daily_costs
from natflow_pipeline.assets.enrichment import address_attribution
from natflow_pipeline.assets.flow_logs import nat_flows
from natflow_pipeline.assets.metadata import markdown_table
from natflow_pipeline.concurrency import DAILY_BACKFILL_POLICY, delta_pool
from natflow_pipeline.dashboard import data as dashboard_data
from natflow_pipeline.dashboard.publish import reports_location, write_dashboard
from natflow_pipeline.dashboard.render import render
from natflow_pipeline.endpoint_savings import endpoint_savings as savings_of_day
from natflow_pipeline.endpoint_savings import excluded_aws_bytes
from natflow_pipeline.enrichment import ATTRIBUTION_TABLE, attach
from natflow_pipeline.partitions import daily_partitions
from natflow_pipeline.resources.insights import InsightsResource
from natflow_pipeline.resources.pricing import PricingResource
from natflow_pipeline.resources.warehouse import WarehouseResource
from natflow_pipeline.top_talkers import NAT_COLUMNS as TALKER_COLUMNS
from natflow_pipeline.top_talkers import top_talkers_of

GROUP = "insights"
#: What endpoint_savings reads from nat_flows (the rest comes from the attribution).
SAVINGS_COLUMNS = ("usage_date", "region", "internal_addr", "external_addr", "bytes")


@dg.asset(
    partitions_def=daily_partitions,
    deps=[nat_flows, address_attribution],
    group_name=GROUP,
    pool=delta_pool("top_talkers"),
    backfill_policy=DAILY_BACKFILL_POLICY,
    description="Per UTC day, the top N (insights.top_n, default 100) true source -> destination "
    "pairs (pkt-srcaddr, pkt-dstaddr) by bytes, both sides named: the team of the internal side, "
    "the AWS service and region of the external side, or 'internet'.",
)
def top_talkers(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, insights: InsightsResource
) -> dg.MaterializeResult:
    day = date.fromisoformat(context.partition_key)
    store = warehouse.get()
    started = time.perf_counter()
    flows = store.read_partition("nat_flows", "usage_date", day, columns=list(TALKER_COLUMNS))
    talkers = top_talkers_of(
        flows, store.read_partition(ATTRIBUTION_TABLE, "usage_date", day), insights.top_n
    )
    elapsed = time.perf_counter() - started
    version = store.write_partition("top_talkers", talkers, "usage_date", day)
    shown = talkers.head(10).select(
        "rank", "pkt_srcaddr", "src_owner", "pkt_dstaddr", "dst_owner", "bytes"
    )
    return dg.MaterializeResult(
        metadata={
            "pairs": talkers.height,
            "top_n": insights.top_n,
            "share_of_day_bytes": round(float(talkers["share_of_day_bytes"].sum() or 0.0), 6),
            "top_10": dg.MetadataValue.md(markdown_table(shown)),
            "rows_per_second": round(flows.height / elapsed, 1)
            if elapsed > 0
            else 0.0,  # NAT rows ranked per second
            "delta_version": version,
        }
    )


@dg.asset(
    partitions_def=daily_partitions,
    deps=[nat_flows, address_attribution],
    group_name=GROUP,
    pool=delta_pool("endpoint_savings"),
    backfill_policy=DAILY_BACKFILL_POLICY,
    description="Per UTC day x team x source account x region x AWS service: NAT traffic to a "
    "same-region AWS service that a VPC endpoint would carry, what it costs through NAT, what the "
    "endpoint would cost (gateway: nothing; interface: per-AZ hours + per GB), the saving, its "
    "monthly projection, and the break-even volume, with the prices' source.",
)
def endpoint_savings(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    pricing: PricingResource,
    insights: InsightsResource,
) -> dg.MaterializeResult:
    day = date.fromisoformat(context.partition_key)
    store = warehouse.get()
    started = time.perf_counter()
    flows = store.read_partition("nat_flows", "usage_date", day, columns=list(SAVINGS_COLUMNS))
    enriched = attach(flows, store.read_partition(ATTRIBUTION_TABLE, "usage_date", day))
    savings = savings_of_day(
        enriched, pricing.price_book(), insights.endpoint_price_book(), insights.interface_services
    )
    excluded = excluded_aws_bytes(enriched, insights.interface_services)
    elapsed = time.perf_counter() - started
    version = store.write_partition("endpoint_savings", savings, "usage_date", day)
    by_service = (
        savings.group_by("aws_service", "endpoint_type", "endpoint_service")
        .agg(
            pl.col("gb").sum(),
            pl.col("saving_usd").sum(),
            pl.col("monthly_saving_usd").sum(),
            pl.col("break_even_gb_per_day").first(),
            pl.col("recommended").all(),
        )
        .sort("monthly_saving_usd", descending=True)
    )
    recommended = savings.filter(pl.col("recommended"))
    aws_bytes = int(enriched.filter(pl.col("aws_service").is_not_null())["bytes"].sum() or 0)
    return dg.MaterializeResult(
        metadata={
            "rows": savings.height,
            "eligible_bytes": int(savings["bytes"].sum() or 0),
            "aws_bytes": aws_bytes,
            "excluded_aws_bytes": int(excluded["bytes"].sum() or 0),
            "saving_usd": float(recommended["saving_usd"].sum() or 0.0),
            "monthly_saving_usd": float(recommended["monthly_saving_usd"].sum() or 0.0),
            "endpoint_az_count": insights.endpoint_az_count,
            "by_service": dg.MetadataValue.md(markdown_table(by_service)),
            "excluded_by_reason": dg.MetadataValue.md(markdown_table(excluded)),
            "rows_per_second": round(flows.height / elapsed, 1)
            if elapsed > 0
            else 0.0,  # NAT rows assessed per second
            "delta_version": version,
        }
    )


class DashboardConfig(dg.Config):
    """The date range rendered; both ends inclusive and optional (open ends take every
    materialized day)."""

    start_date: str | None = Field(
        default=None,
        description="YYYY-MM-DD, first day shown (default: the first materialized day).",
    )
    end_date: str | None = Field(
        default=None, description="YYYY-MM-DD, last day shown (default: the last materialized day)."
    )


@dg.asset(
    deps=[team_daily_costs, top_talkers, endpoint_savings, nat_cost_reconciliation],
    group_name=GROUP,
    pool=delta_pool("nat_dashboard"),
    description="A self-contained interactive HTML dashboard (plotly.js inlined: works offline) "
    "of the days of team_daily_costs in the configured range (default: all materialized days): "
    "cost per team and day, unattributed share, top talkers, endpoint savings and each day's "
    "reconciliation status (nat_cost_reconciliation, when that table exists). Reads only the "
    "Delta tables; its path is in the metadata.",
)
def nat_dashboard(
    context: dg.AssetExecutionContext,
    config: DashboardConfig,
    warehouse: WarehouseResource,
    insights: InsightsResource,
) -> dg.MaterializeResult:
    start = date.fromisoformat(config.start_date) if config.start_date else None
    end = date.fromisoformat(config.end_date) if config.end_date else None
    loaded = dashboard_data.load(warehouse.get(), start, end)
    page = render(loaded)
    folder = reports_location(insights.reports_uri, warehouse.uri)
    path = write_dashboard(page, folder, warehouse.s3_endpoint_url, warehouse.s3_region)
    status = dashboard_data.reconciliation_status(loaded.reconciliation, loaded.days)
    context.log.info(f"dashboard of {loaded.first}..{loaded.last} written to {path}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(path),
            "first_day": loaded.first.isoformat(),
            "last_day": loaded.last.isoformat(),
            "days": len(loaded.days),
            "html_bytes": len(page.encode("utf-8")),
            "reconciliation_table_present": loaded.reconciliation is not None,
            "days_not_reconciled": status.filter(
                pl.col("status") == dashboard_data.NOT_RECONCILED
            ).height,
        }
    )
