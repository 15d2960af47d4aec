"""The gold table: NAT cost per day, team, account, region, direction and destination class."""

import time
from datetime import date, timedelta

import dagster as dg
import polars as pl

from natflow_pipeline import tables
from natflow_pipeline.assets.daily import (
    daily_table_asset,
    partition_day,
    rows_per_second,
    write_day,
)
from natflow_pipeline.assets.metadata import gb, markdown_table, pct, usd
from natflow_pipeline.cost_checks import attribution, completeness, row_accounting
from natflow_pipeline.costs import NAT_COLUMNS, aggregate_attributed, price
from natflow_pipeline.enrichment import internal_matches
from natflow_pipeline.ipam import UNATTRIBUTED
from natflow_pipeline.resources.cost_checks import CostChecksResource
from natflow_pipeline.resources.pricing import PricingResource
from natflow_pipeline.resources.warehouse import WarehouseResource
from natflow_pipeline.warehouse import Warehouse

#: A day's gold table is due by 06:00 UTC the next day (the schedule runs at 02:00); a day not
#: there 30 hours after it began shows as overdue in the UI.
DAILY_FRESHNESS = dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=30))


@daily_table_asset(
    tables.TEAM_DAILY_COSTS,
    deps=[tables.NAT_FLOWS.name, tables.FLOW_LOG_FILES.name, tables.ADDRESS_ATTRIBUTION.name],
    group_name="costs",
    freshness_policy=DAILY_FRESHNESS,
    check_specs=[
        dg.AssetCheckSpec(
            "rows_accounted_for",
            asset=tables.TEAM_DAILY_COSTS.name,
            blocking=True,
            description="The day's flow log rows read = kept + filtered + rejected, and every kept "
            "row is costed.",
        ),
        dg.AssetCheckSpec(
            "nat_interfaces_complete",
            asset=tables.TEAM_DAILY_COSTS.name,
            blocking=True,
            description="Every NAT interface seen in the last days has NAT records in every UTC "
            "hour of the day.",
        ),
        dg.AssetCheckSpec(
            "unattributed_share",
            asset=tables.TEAM_DAILY_COSTS.name,
            description="Share of the day's NAT bytes with team 'unattributed' is below the "
            "threshold (WARN).",
        ),
    ],
)
def team_daily_costs(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    pricing: PricingResource,
    cost_checks: CostChecksResource,
) -> dg.MaterializeResult:
    """Per-team NAT cost per UTC day: bytes, billed GB, data processing, the gateway's hourly
    charge shared by bytes, and total. Its core columns are a contract (docs/tables.md)."""
    day = partition_day(context)
    store = warehouse.get()
    started = time.perf_counter()
    flows = store.read_day(tables.NAT_FLOWS, day, columns=list(NAT_COLUMNS))
    day_attribution = store.read_day(tables.ADDRESS_ATTRIBUTION, day)
    book = pricing.price_book()
    # aggregate(attach(flows, attribution)) without materialising the row-level join.
    costs = price(
        aggregate_attributed(flows, day_attribution),
        book,
        pricing.hourly_allocation,
        pricing.gateway_hours,
    )
    # NAT rows of the day costed per second (reading them and the attribution, joining, pricing).
    throughput = rows_per_second(flows.height, started)
    write = write_day(store, tables.TEAM_DAILY_COSTS, day, costs)
    by_team = (
        costs.group_by("team")
        .agg(pl.col("bytes").sum(), pl.col("gb").sum(), pl.col("total_usd").sum())
        .sort("total_usd", "team", descending=[True, False])
    )
    total_bytes = int(costs["bytes"].sum() or 0)
    unattributed = costs.filter(pl.col("team") == UNATTRIBUTED)
    # Every numeric entry is present with the same type on every partition (0 on an empty day),
    # so the UI can plot it over time; amounts are rounded as a person writes them.
    return dg.MaterializeResult(
        metadata={
            **write,
            "rows": costs.height,
            "bytes": total_bytes,
            "gb": gb(costs["gb"].sum()),
            "data_processing_usd": usd(costs["data_processing_usd"].sum()),
            "hourly_usd": usd(costs["hourly_usd"].sum()),
            "total_usd": usd(costs["total_usd"].sum()),
            "teams": by_team.height,
            "unattributed_bytes_pct": pct(int(unattributed["bytes"].sum() or 0), total_bytes),
            "unattributed_usd": usd(unattributed["total_usd"].sum()),
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
            "rows_per_second": throughput,
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
    files = store.read_day(tables.FLOW_LOG_FILES, day)
    rows = row_accounting(files, costs)
    first = day - timedelta(days=settings.completeness_lookback_days)
    recent = (
        store.scan(tables.NAT_FLOWS.name)
        .filter(pl.col(tables.DAY_COLUMN).is_between(first, day))
        .select(tables.DAY_COLUMN, "account_id", "region", "interface_id", "start")
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
