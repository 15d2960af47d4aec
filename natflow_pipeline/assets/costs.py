"""The gold table: NAT cost per day, team, account, region, direction and destination class."""

import time
from datetime import date, timedelta

import dagster as dg
import polars as pl

from natflow_pipeline.assets.enrichment import address_attribution
from natflow_pipeline.assets.flow_logs import FILES_TABLE, nat_flows
from natflow_pipeline.assets.metadata import markdown_table
from natflow_pipeline.concurrency import DAILY_BACKFILL_POLICY, delta_pool
from natflow_pipeline.cost_checks import attribution, completeness, row_accounting
from natflow_pipeline.costs import NAT_COLUMNS, aggregate_attributed, price
from natflow_pipeline.enrichment import ATTRIBUTION_TABLE, internal_matches
from natflow_pipeline.ipam import UNATTRIBUTED
from natflow_pipeline.partitions import daily_partitions
from natflow_pipeline.resources.cost_checks import CostChecksResource
from natflow_pipeline.resources.pricing import PricingResource
from natflow_pipeline.resources.warehouse import WarehouseResource
from natflow_pipeline.warehouse import Warehouse


@dg.asset(
    partitions_def=daily_partitions,
    deps=[nat_flows, address_attribution],
    group_name="costs",
    check_specs=[
        dg.AssetCheckSpec(
            "rows_accounted_for",
            asset="team_daily_costs",
            blocking=True,
            description="The day's flow log rows read = kept + filtered + rejected, and every kept "
            "row is costed.",
        ),
        dg.AssetCheckSpec(
            "nat_interfaces_complete",
            asset="team_daily_costs",
            blocking=True,
            description="Every NAT interface seen in the last days has NAT records in every UTC "
            "hour of the day.",
        ),
        dg.AssetCheckSpec(
            "unattributed_share",
            asset="team_daily_costs",
            description="Share of the day's NAT bytes with team 'unattributed' is below the "
            "threshold (WARN).",
        ),
    ],
    pool=delta_pool("team_daily_costs"),
    backfill_policy=DAILY_BACKFILL_POLICY,
    description="Per-team NAT cost per UTC day (team x account x region x interface x direction x "
    "destination class x AWS service): bytes, billed GB, data-processing cost, the gateway's "
    "hourly charge shared by bytes, and total. Its core columns are a contract (see README).",
)
def team_daily_costs(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    pricing: PricingResource,
    cost_checks: CostChecksResource,
) -> dg.MaterializeResult:
    day = date.fromisoformat(context.partition_key)
    store = warehouse.get()
    started = time.perf_counter()
    flows = store.read_partition("nat_flows", "usage_date", day, columns=list(NAT_COLUMNS))
    day_attribution = store.read_partition(ATTRIBUTION_TABLE, "usage_date", day)
    book = pricing.price_book()
    # aggregate(attach(flows, attribution)) without materialising the row-level join.
    costs = price(
        aggregate_attributed(flows, day_attribution),
        book,
        pricing.hourly_allocation,
        pricing.gateway_hours,
    )
    elapsed = time.perf_counter() - started
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
            "unattributed_bytes_share": round(
                int(unattributed["bytes"].sum() or 0) / total_bytes, 6
            )
            if total_bytes
            else 0.0,
            "unattributed_usd": float(unattributed["total_usd"].sum() or 0.0),
            "billing_gb_bytes": pricing.billing_gb_bytes,
            "gateway_hours_rule": pricing.gateway_hours,
            "prices_used": dg.MetadataValue.json(
                {
                    region: {
                        "usd_per_gb": book.per_gb(region),
                        "usd_per_hour": book.per_hour(region),
                        "source": book.provenance(region),
                    }
                    for region in sorted(set(costs["region"].drop_nulls()))
                }
            ),
            "top_teams": dg.MetadataValue.md(markdown_table(by_team.head(10))),
            # NAT rows of the day costed per second (reading them and the attribution, joining,
            # pricing).
            "rows_per_second": round(flows.height / elapsed, 1) if elapsed > 0 else 0.0,
            "delta_version": version,
        },
        check_results=_checks(
            store, day, by_internal_address(flows, day_attribution), costs, cost_checks
        ),
    )


def by_internal_address(flows: pl.DataFrame, day_attribution: pl.DataFrame) -> pl.DataFrame:
    """The day's bytes and flows per internal address with its team: what the attribution check
    reads, a few thousand rows instead of every NAT row."""
    return (
        flows.lazy()
        .group_by("internal_addr")
        .agg(pl.col("bytes").sum().cast(pl.Int64), pl.len().cast(pl.Int64).alias("flows"))
        .join(
            internal_matches(day_attribution).select("internal_addr", "team"),
            on="internal_addr",
            how="left",
        )
        .with_columns(pl.col("team").fill_null(UNATTRIBUTED))
        .collect()
    )


def _checks(
    store: Warehouse,
    day: date,
    per_address: pl.DataFrame,
    costs: pl.DataFrame,
    settings: CostChecksResource,
) -> list[dg.AssetCheckResult]:
    """The gold table's checks for the partition being written (in-asset: Dagster 1.13's
    partitioned standalone checks are a preview, and these need the frames already in hand)."""
    files = (
        store.read_partition(FILES_TABLE, "usage_date", day)
        if store.exists(FILES_TABLE)
        else pl.DataFrame(
            schema={
                c: pl.Int64
                for c in (
                    "rows_read",
                    "rows_kept",
                    "rows_non_nat",
                    "rows_no_data",
                    "rows_other_day",
                    "rows_rejected",
                )
            }
        )
    )
    rows = row_accounting(files, costs)
    first = day - timedelta(days=settings.completeness_lookback_days)
    recent = (
        store.scan("nat_flows")
        .filter(pl.col("usage_date").is_between(first, day))
        .select("usage_date", "account_id", "region", "interface_id", "start")
        .collect()
    )
    complete = completeness(day, recent)
    attributed = attribution(per_address)
    return [
        dg.AssetCheckResult(
            check_name="rows_accounted_for",
            passed=rows.passed,
            metadata={
                "rows_read": rows.rows_read,
                "rows_kept": rows.rows_kept,
                "rows_filtered": rows.rows_filtered,
                "rows_rejected": rows.rows_rejected,
                "flows_costed": rows.flows_costed,
                "files": files.height,
            },
            description="rows read = kept + filtered + rejected; flows costed = rows kept",
        ),
        dg.AssetCheckResult(
            check_name="nat_interfaces_complete",
            passed=complete.passed,
            severity=dg.AssetCheckSeverity.ERROR
            if settings.completeness_required
            else dg.AssetCheckSeverity.WARN,
            metadata={
                "interfaces": complete.interfaces,
                "interfaces_with_gaps": complete.gaps.height,
                "lookback_days": settings.completeness_lookback_days,
                "gaps": dg.MetadataValue.md(
                    markdown_table(
                        complete.gaps.with_columns(
                            pl.col("missing_hours").cast(pl.List(pl.String)).list.join(",")
                        )
                    )
                ),
            },
        ),
        dg.AssetCheckResult(
            check_name="unattributed_share",
            passed=attributed.share <= settings.max_unattributed_share,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "unattributed_share": round(attributed.share, 6),
                "threshold": settings.max_unattributed_share,
                "unattributed_bytes": attributed.unattributed_bytes,
                "total_bytes": attributed.total_bytes,
                "top_unattributed_addresses": dg.MetadataValue.md(
                    markdown_table(attributed.top_unattributed)
                ),
            },
            description="add the top unattributed internal addresses (or their prefixes) to NetBox "
            "with a team",
        ),
    ]
