"""The gold table: NAT cost per day, team, account, region, direction and destination class."""


from datetime import date

import dagster as dg
import polars as pl

from natflow_pipeline.assets.enrichment import enriched_nat_flows
from natflow_pipeline.assets.metadata import markdown_table
from natflow_pipeline.costs import team_daily_costs as price_day
from natflow_pipeline.ipam import UNATTRIBUTED
from natflow_pipeline.concurrency import DAILY_BACKFILL_POLICY, delta_pool
from natflow_pipeline.partitions import daily_partitions
from natflow_pipeline.resources.pricing import PricingResource
from natflow_pipeline.resources.warehouse import WarehouseResource


@dg.asset(
    partitions_def=daily_partitions,
    deps=[enriched_nat_flows],
    group_name="costs",
    pool=delta_pool("team_daily_costs"),
    backfill_policy=DAILY_BACKFILL_POLICY,
    description="Per-team NAT cost per UTC day (team x account x region x interface x direction x "
    "destination class x AWS service): bytes, billed GB, data-processing cost, the gateway's "
    "hourly charge shared by bytes, and total. Its core columns are a contract (see README).",
)
def team_daily_costs(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, pricing: PricingResource
) -> dg.MaterializeResult:
    day = date.fromisoformat(context.partition_key)
    store = warehouse.get()
    enriched = store.read_partition("enriched_nat_flows", "usage_date", day)
    costs = price_day(enriched, pricing.price_book(), pricing.hourly_allocation)
    version = store.write_partition("team_daily_costs", costs, "usage_date", day)
    by_team = (
        costs.group_by("team")
        .agg(pl.col("bytes").sum(), pl.col("gb").sum(), pl.col("total_usd").sum())
        .sort("total_usd", "team", descending=[True, False])
    )
    total_bytes = int(costs["bytes"].sum() or 0)
    unattributed = costs.filter(pl.col("team") == UNATTRIBUTED)
    # Every numeric entry is present with the same type on every partition (0 on an empty day),
    # so the UI can plot it over time.
    return dg.MaterializeResult(
        metadata={
            "rows": costs.height,
            "bytes": total_bytes,
            "gb": float(costs["gb"].sum() or 0.0),
            "data_processing_usd": float(costs["data_processing_usd"].sum() or 0.0),
            "hourly_usd": float(costs["hourly_usd"].sum() or 0.0),
            "total_usd": float(costs["total_usd"].sum() or 0.0),
            "teams": by_team.height,
            "unattributed_bytes_share": round(int(unattributed["bytes"].sum() or 0) / total_bytes, 6) if total_bytes else 0.0,
            "unattributed_usd": float(unattributed["total_usd"].sum() or 0.0),
            "billing_gb_bytes": pricing.billing_gb_bytes,
            "top_teams": dg.MetadataValue.md(markdown_table(by_team.head(10))),
            "delta_version": version,
        }
    )
