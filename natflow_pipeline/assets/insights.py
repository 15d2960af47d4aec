"""Insights users act on: the day's top talkers, what VPC endpoints would save, and a dashboard."""

import time
from datetime import date

import dagster as dg
import polars as pl
from pydantic import Field

from natflow_pipeline import tables
from natflow_pipeline.assets.daily import (
    daily_table_asset,
    partition_day,
    rows_per_second,
    write_day,
)
from natflow_pipeline.assets.metadata import gb, markdown_table, pct, usd
from natflow_pipeline.concurrency import delta_pool
from natflow_pipeline.dashboard import data as dashboard_data
from natflow_pipeline.dashboard.publish import reports_location, write_dashboard
from natflow_pipeline.dashboard.render import render
from natflow_pipeline.endpoint_savings import endpoint_savings as savings_of_day
from natflow_pipeline.endpoint_savings import excluded_aws_bytes
from natflow_pipeline.enrichment import attach
from natflow_pipeline.resources.insights import InsightsResource
from natflow_pipeline.resources.pricing import PricingResource
from natflow_pipeline.resources.warehouse import WarehouseResource
from natflow_pipeline.top_talkers import NAT_COLUMNS as TALKER_COLUMNS
from natflow_pipeline.top_talkers import top_talkers_of

GROUP = "insights"
#: What endpoint_savings reads from nat_flows (the rest comes from the attribution).
SAVINGS_COLUMNS = (tables.DAY_COLUMN, "region", "internal_addr", "external_addr", "bytes")
#: What a day's insights read.
DAY_INPUTS = [tables.NAT_FLOWS.name, tables.ADDRESS_ATTRIBUTION.name]


@daily_table_asset(tables.TOP_TALKERS, deps=DAY_INPUTS, group_name=GROUP)
def top_talkers(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, insights: InsightsResource
) -> dg.MaterializeResult:
    """The day's top N (``insights.top_n``) true source -> destination pairs (pkt-srcaddr,
    pkt-dstaddr) by bytes, both sides named: a team, an AWS service, or 'internet'."""
    day = partition_day(context)
    store = warehouse.get()
    started = time.perf_counter()
    flows = store.read_day(tables.NAT_FLOWS, day, columns=list(TALKER_COLUMNS))
    talkers = top_talkers_of(flows, store.read_day(tables.ADDRESS_ATTRIBUTION, day), insights.top_n)
    throughput = rows_per_second(flows.height, started)  # NAT rows ranked per second
    write = write_day(store, tables.TOP_TALKERS, day, talkers)
    shown = talkers.head(10).select(
        "rank", "pkt_srcaddr", "src_owner", "pkt_dstaddr", "dst_owner", "bytes"
    )
    return dg.MaterializeResult(
        metadata={
            **write,
            "pairs": talkers.height,
            "top_n": insights.top_n,
            "share_of_day_bytes_pct": pct(float(talkers["share_of_day_bytes"].sum() or 0.0), 1.0),
            "top_10": dg.MetadataValue.md(markdown_table(shown)),
            "rows_per_second": throughput,
        }
    )


@daily_table_asset(tables.ENDPOINT_SAVINGS, deps=DAY_INPUTS, group_name=GROUP)
def endpoint_savings(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    pricing: PricingResource,
    insights: InsightsResource,
) -> dg.MaterializeResult:
    """Same-region AWS traffic a VPC endpoint would carry, per day, team, account, region and
    service: its NAT cost, the endpoint's cost, the saving, its monthly projection and the
    break-even volume."""
    day = partition_day(context)
    store = warehouse.get()
    started = time.perf_counter()
    flows = store.read_day(tables.NAT_FLOWS, day, columns=list(SAVINGS_COLUMNS))
    enriched = attach(flows, store.read_day(tables.ADDRESS_ATTRIBUTION, day))
    savings = savings_of_day(
        enriched,
        pricing.price_book(),
        insights.endpoint_price_book(pricing.catalogue()),
        insights.interface_services,
    )
    excluded = excluded_aws_bytes(enriched, insights.interface_services)
    throughput = rows_per_second(flows.height, started)  # NAT rows assessed per second
    write = write_day(store, tables.ENDPOINT_SAVINGS, day, savings)
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
            **write,
            "rows": savings.height,
            "eligible_bytes": int(savings["bytes"].sum() or 0),
            "eligible_gb": gb(savings["gb"].sum()),
            "aws_bytes": aws_bytes,
            "excluded_aws_bytes": int(excluded["bytes"].sum() or 0),
            "saving_usd": usd(recommended["saving_usd"].sum()),
            "monthly_saving_usd": usd(recommended["monthly_saving_usd"].sum()),
            "endpoint_az_count": insights.endpoint_az_count,
            "by_service": dg.MetadataValue.md(markdown_table(by_service)),
            "excluded_by_reason": dg.MetadataValue.md(markdown_table(excluded)),
            "rows_per_second": throughput,
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


#: Rebuild the dashboard once the day's tables it reads have updated (and no run writing them is
#: still going), though older days are missing: it shows the days there are.
DASHBOARD_AUTOMATION = (
    dg.AutomationCondition.eager()
    .without(~dg.AutomationCondition.any_deps_missing())
    .with_label("after the day's tables")
)


@dg.asset(
    deps=[
        tables.TEAM_DAILY_COSTS.name,
        tables.TOP_TALKERS.name,
        tables.ENDPOINT_SAVINGS.name,
        tables.NAT_COST_RECONCILIATION.name,
    ],
    group_name=GROUP,
    pool=delta_pool("nat_dashboard"),
    kinds={"polars", "html"},
    automation_condition=DASHBOARD_AUTOMATION,
)
def nat_dashboard(
    context: dg.AssetExecutionContext,
    config: DashboardConfig,
    warehouse: WarehouseResource,
    insights: InsightsResource,
) -> dg.MaterializeResult:
    """A self-contained HTML dashboard (plotly.js inlined: works offline) of the materialized
    days: cost per team and day, unattributed share, top talkers, endpoint savings and each day's
    reconciliation status. Rebuilt after the daily run; its path is in the metadata."""
    start = date.fromisoformat(config.start_date) if config.start_date else None
    end = date.fromisoformat(config.end_date) if config.end_date else None
    loaded = dashboard_data.load(warehouse.get(), start, end)
    page = render(loaded)
    folder = reports_location(insights.reports_uri, warehouse.uri)
    path = write_dashboard(page, folder, warehouse.filesystem(folder))
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
