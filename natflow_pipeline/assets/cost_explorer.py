"""What AWS billed for NAT data processing (Cost Explorer),
and its reconciliation with the flow logs."""

from datetime import date, datetime, timezone
from typing import Literal

import dagster as dg
import polars as pl

from natflow_pipeline.assets.costs import team_daily_costs
from natflow_pipeline.assets.metadata import markdown_table
from natflow_pipeline.concurrency import DAILY_BACKFILL_POLICY, delta_pool
from natflow_pipeline.cost_explorer import USAGE_SCHEMA, fetch_day
from natflow_pipeline.partitions import daily_partitions
from natflow_pipeline.reconciliation import is_provisional, reconcile, worst_status
from natflow_pipeline.resources.cost_checks import CostChecksResource
from natflow_pipeline.resources.cost_explorer import CostExplorerResource
from natflow_pipeline.resources.pricing import PricingResource
from natflow_pipeline.resources.warehouse import WarehouseResource

USAGE_TABLE = "cost_explorer_nat_usage"
REQUESTS_TABLE = "cost_explorer_requests"
RECONCILIATION_TABLE = "nat_cost_reconciliation"

REQUESTS_SCHEMA: dict[str, pl.DataType] = {
    "usage_date": pl.Date,
    "fetched_at": pl.Datetime("us", "UTC"),
    "source": pl.String,
    "estimated": pl.Boolean,
    "pages": pl.Int64,
    "rows": pl.Int64,
    "retries": pl.Int64,
    "times_asked": pl.Int64,
}


class CostExplorerFetch(dg.Config):
    """Whether to ask Cost Explorer again for a day already stored (every AWS call is billed).

    ``estimated`` (default): ask again only while the stored answer is still marked Estimated;
    ``never``: keep what is stored; ``always``: ask again. File mode always re-reads (it is free).
    """

    refetch: Literal["never", "estimated", "always"] = "estimated"


@dg.asset(
    partitions_def=daily_partitions,
    group_name="costs",
    pool=delta_pool("cost_explorer_nat_usage"),
    backfill_policy=DAILY_BACKFILL_POLICY,
    description="NAT data processing Cost Explorer billed per UTC day (UsageQuantity in GB and "
    "UnblendedCost of the usage-type group 'EC2: NAT Gateway - Data Processed'), per linked "
    "account and usage type, with the region decoded from the usage type. Each day is asked once "
    "and stored (every call is billed); re-asking is the run config's refetch setting.",
)
def cost_explorer_nat_usage(
    context: dg.AssetExecutionContext,
    config: CostExplorerFetch,
    cost_explorer: CostExplorerResource,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    day = date.fromisoformat(context.partition_key)
    store = warehouse.get()
    previous = (
        store.read_partition(REQUESTS_TABLE, "usage_date", day)
        if store.exists(REQUESTS_TABLE)
        else pl.DataFrame()
    )
    asked_before = previous.height > 0
    stale = asked_before and bool(previous["estimated"].any())
    ask = (
        cost_explorer.mode == "file"
        or not asked_before
        or config.refetch == "always"
        or (config.refetch == "estimated" and stale)
    )
    if not ask:
        usage = (
            store.read_partition(USAGE_TABLE, "usage_date", day)
            if store.exists(USAGE_TABLE)
            else pl.DataFrame(schema=USAGE_SCHEMA)
        )
        context.log.info(
            f"Cost Explorer already answered for {day} (final); "
            f"not asking again (refetch={config.refetch})"
        )
        return dg.MaterializeResult(
            metadata=_usage_metadata(usage, previous.row(0, named=True), fetched=False)
        )

    result = fetch_day(cost_explorer.client(), day)
    fetched_at = datetime.now(timezone.utc)
    usage = result.usage.with_columns(
        pl.lit(fetched_at).alias("fetched_at"), pl.lit(cost_explorer.source()).alias("source")
    )
    request = {
        "usage_date": day,
        "fetched_at": fetched_at,
        "source": cost_explorer.source(),
        "estimated": result.estimated,
        "pages": result.pages,
        "rows": usage.height,
        "retries": result.retries,
        "times_asked": (int(previous["times_asked"].max()) if asked_before else 0)
        + (cost_explorer.mode == "aws"),
    }
    # Usage first: if its write fails, the day is not marked as asked and the next run asks again.
    version = store.write_partition(USAGE_TABLE, usage, "usage_date", day)
    store.write_partition(
        REQUESTS_TABLE,
        pl.DataFrame([request], schema=REQUESTS_SCHEMA, orient="row"),
        "usage_date",
        day,
    )
    if result.estimated:
        context.log.warning(f"Cost Explorer marks {day} as estimated: its numbers may still change")
    return dg.MaterializeResult(
        metadata={**_usage_metadata(usage, request, fetched=True), "delta_version": version}
    )


def _usage_metadata(usage: pl.DataFrame, request: dict, fetched: bool) -> dict[str, object]:
    return {
        "fetched_now": fetched,
        "source": request["source"],
        "estimated": bool(request["estimated"]),
        "pages": int(request["pages"]),
        "retries": int(request["retries"]),
        "times_asked": int(request["times_asked"]),
        "usage_gb": float(usage["usage_quantity"].sum() or 0.0) if usage.height else 0.0,
        "unblended_cost_usd": float(usage["unblended_cost"].sum() or 0.0) if usage.height else 0.0,
        "usage": dg.MetadataValue.md(
            markdown_table(
                usage.select(
                    "account_id", "region", "usage_type", "usage_quantity", "unblended_cost"
                )
            )
            if usage.height
            else "_none_"
        ),
    }


@dg.asset(
    partitions_def=daily_partitions,
    deps=[team_daily_costs, cost_explorer_nat_usage],
    group_name="costs",
    pool=delta_pool("nat_cost_reconciliation"),
    backfill_policy=DAILY_BACKFILL_POLICY,
    check_specs=[
        dg.AssetCheckSpec("matches_cost_explorer", asset="nat_cost_reconciliation", blocking=True)
    ],
    description="Flow-log NAT GB (team_daily_costs bytes / billing_gb_bytes) against Cost "
    "Explorer's billed NAT GB, per day, account and region: PASS within tolerance, WARN while "
    "Cost Explorer marks the day estimated or the day is younger than the billing lag, ERROR "
    "beyond tolerance on a final day.",
)
def nat_cost_reconciliation(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    pricing: PricingResource,
    cost_checks: CostChecksResource,
) -> dg.MaterializeResult:
    day = date.fromisoformat(context.partition_key)
    store = warehouse.get()
    answers = (
        store.read_partition(REQUESTS_TABLE, "usage_date", day)
        if store.exists(REQUESTS_TABLE)
        else pl.DataFrame()
    )
    if answers.is_empty():
        raise dg.Failure(
            f"no Cost Explorer answer stored for {day}: "
            f"materialize cost_explorer_nat_usage for {day} first"
        )
    request = answers.row(0, named=True)
    usage = (
        store.read_partition(USAGE_TABLE, "usage_date", day)
        if store.exists(USAGE_TABLE)
        else pl.DataFrame(schema=USAGE_SCHEMA)
    )
    flows = (
        store.read_partition(
            "team_daily_costs", "usage_date", day, ["account_id", "region", "bytes"]
        )
        if store.exists("team_daily_costs")
        else pl.DataFrame(schema={"account_id": pl.String, "region": pl.String, "bytes": pl.Int64})
    )
    tolerance = cost_checks.tolerance()
    today = datetime.now(timezone.utc).date()
    table = reconcile(
        day, flows, usage, bool(request["estimated"]), pricing.billing_gb_bytes, tolerance, today
    )
    version = store.write_partition(RECONCILIATION_TABLE, table, "usage_date", day)
    status = worst_status(table, is_provisional(day, bool(request["estimated"]), tolerance, today))
    flow_gb = float(table["flow_log_gb"].sum() or 0.0)
    ce_gb = float(table["cost_explorer_gb"].sum() or 0.0)
    numbers = {
        "status": status,
        "flow_log_gb": flow_gb,
        "cost_explorer_gb": ce_gb,
        "difference_gb": flow_gb - ce_gb,
        "difference_pct": (flow_gb - ce_gb) / ce_gb * 100 if ce_gb else None,
        "estimated": bool(request["estimated"]),
        "unit": f"GB = {pricing.billing_gb_bytes:,} bytes",
        "billing_gb_bytes": pricing.billing_gb_bytes,
        "tolerance_pct": tolerance.relative * 100,
        "lag_days": tolerance.lag_days,
        "by_account_region": dg.MetadataValue.md(
            markdown_table(
                table.select(
                    "account_id",
                    "region",
                    "flow_log_gb",
                    "cost_explorer_gb",
                    "difference_gb",
                    "difference_pct",
                    "status",
                )
            )
        ),
    }
    numbers = {k: v for k, v in numbers.items() if v is not None}
    return dg.MaterializeResult(
        metadata={**numbers, "rows": table.height, "delta_version": version},
        check_results=[
            dg.AssetCheckResult(
                check_name="matches_cost_explorer",
                passed=status == "PASS",
                severity=dg.AssetCheckSeverity.WARN
                if status == "WARN"
                else dg.AssetCheckSeverity.ERROR,
                metadata=numbers,
                description=(
                    f"flow-log NAT GB vs Cost Explorer per account and region for {day}: {status}"
                ),
            )
        ],
    )
