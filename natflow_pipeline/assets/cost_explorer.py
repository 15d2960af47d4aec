"""What AWS billed for NAT data processing (Cost Explorer), and its reconciliation with the flow
logs."""

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any, Literal

import dagster as dg
import polars as pl

from natflow_pipeline import tables
from natflow_pipeline.assets.costs import DAILY_FRESHNESS
from natflow_pipeline.assets.daily import (
    daily_multi_asset,
    daily_table_asset,
    daily_table_spec,
    partition_day,
    write_day,
    written,
)
from natflow_pipeline.assets.metadata import gb, markdown_table, usd
from natflow_pipeline.cost_explorer import fetch_day
from natflow_pipeline.reconciliation import is_provisional, reconcile, worst_status
from natflow_pipeline.resources.cost_checks import CostChecksResource
from natflow_pipeline.resources.cost_explorer import CostExplorerResource
from natflow_pipeline.resources.pricing import PricingResource
from natflow_pipeline.resources.warehouse import WarehouseResource
from natflow_pipeline.tables import Table
from natflow_pipeline.warehouse import Warehouse

GROUP = "costs"
USAGE = tables.COST_EXPLORER_NAT_USAGE
REQUESTS = tables.COST_EXPLORER_REQUESTS
RECONCILIATION = tables.NAT_COST_RECONCILIATION
RECONCILIATION_CHECK = "matches_cost_explorer"


class CostExplorerFetch(dg.Config):
    """Whether to ask Cost Explorer again for a day already stored (every AWS call is billed).

    ``estimated`` (default): ask again only while the stored answer is still marked Estimated;
    ``never``: keep what is stored; ``always``: ask again. File mode always re-reads (it is free).
    """

    refetch: Literal["never", "estimated", "always"] = "estimated"


@daily_multi_asset(
    specs=[
        daily_table_spec(
            USAGE,
            "NAT data processing Cost Explorer billed per UTC day (GB and UnblendedCost of "
            "'EC2: NAT Gateway - Data Processed'), per linked account, region and usage type.",
            group_name=GROUP,
        ),
        daily_table_spec(
            REQUESTS,
            "Each day's Cost Explorer request: when, from where, whether estimated, pages, "
            "retries and how often it was asked (every call is billed).",
            group_name=GROUP,
        ),
    ],
)
def cost_explorer_nat_usage(
    context: dg.AssetExecutionContext,
    config: CostExplorerFetch,
    cost_explorer: CostExplorerResource,
    warehouse: WarehouseResource,
) -> Iterator[dg.MaterializeResult]:
    """Asks Cost Explorer once per day and stores the answer; re-asking is the run config's
    ``refetch``. A day not asked again keeps its tables and reports what they hold."""
    day = partition_day(context)
    store = warehouse.get()
    previous = store.read_day(REQUESTS, day)
    asked_before = previous.height > 0
    stale = asked_before and bool(previous["estimated"].any())
    ask = (
        cost_explorer.mode == "file"
        or not asked_before
        or config.refetch == "always"
        or (config.refetch == "estimated" and stale)
    )
    if not ask:
        usage = store.read_day(USAGE, day)
        context.log.info(
            f"Cost Explorer already answered for {day} (final); "
            f"not asking again (refetch={config.refetch})"
        )
        request = previous.row(0, named=True)
        # Nothing is written: the standard entries describe the tables as they are, so every
        # partition carries the same keys (the UI plots a key only when every partition has it).
        yield dg.MaterializeResult(
            asset_key=USAGE.name,
            metadata={
                **_as_stored(store, USAGE, usage),
                **_usage_metadata(usage, request, fetched=False),
            },
        )
        yield dg.MaterializeResult(
            asset_key=REQUESTS.name,
            metadata={
                **_as_stored(store, REQUESTS, previous),
                **_request_metadata(request, fetched=False),
            },
        )
        return

    result = fetch_day(cost_explorer.client(), day)
    fetched_at = datetime.now(timezone.utc)
    usage = result.usage.with_columns(
        pl.lit(fetched_at).alias("fetched_at"), pl.lit(cost_explorer.source()).alias("source")
    )
    request = {
        tables.DAY_COLUMN: day,
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
    usage_written = write_day(store, USAGE, day, usage)
    requests_written = write_day(
        store, REQUESTS, day, pl.DataFrame([request], schema=dict(REQUESTS.schema), orient="row")
    )
    if result.estimated:
        context.log.warning(f"Cost Explorer marks {day} as estimated: its numbers may still change")
    yield dg.MaterializeResult(
        asset_key=USAGE.name,
        metadata={**usage_written, **_usage_metadata(usage, request, fetched=True)},
    )
    yield dg.MaterializeResult(
        asset_key=REQUESTS.name,
        metadata={**requests_written, **_request_metadata(request, fetched=True)},
    )


def _as_stored(store: Warehouse, table: Table, day_rows: pl.DataFrame) -> dict[str, Any]:
    """The standard write metadata of a day kept as it was (its table's latest version)."""
    return written(store, table, store.version(table.name), day_rows.height, day_rows)


def _request_metadata(request: dict[str, Any], fetched: bool) -> dict[str, object]:
    return {
        "fetched_now": fetched,
        "source": request["source"],
        "estimated": bool(request["estimated"]),
        "pages": int(request["pages"]),
        "retries": int(request["retries"]),
        "times_asked": int(request["times_asked"]),
    }


def _usage_metadata(
    usage: pl.DataFrame, request: dict[str, Any], fetched: bool
) -> dict[str, object]:
    return {
        **_request_metadata(request, fetched),
        "usage_gb": gb(usage["usage_quantity"].sum()),
        "unblended_cost_usd": usd(usage["unblended_cost"].sum()),
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


@daily_table_asset(
    RECONCILIATION,
    deps=[tables.TEAM_DAILY_COSTS.name, USAGE.name, REQUESTS.name],
    group_name=GROUP,
    freshness_policy=DAILY_FRESHNESS,
    check_specs=[dg.AssetCheckSpec(RECONCILIATION_CHECK, asset=RECONCILIATION.name, blocking=True)],
)
def nat_cost_reconciliation(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    pricing: PricingResource,
    cost_checks: CostChecksResource,
) -> dg.MaterializeResult:
    """Flow-log NAT GB against Cost Explorer's billed NAT GB per day, account and region: PASS
    within tolerance, WARN while the day is estimated or younger than the billing lag, ERROR
    beyond tolerance on a final day."""
    day = partition_day(context)
    store = warehouse.get()
    answers = store.read_day(REQUESTS, day)
    if answers.is_empty():
        raise dg.Failure(
            f"no Cost Explorer answer stored for {day}: materialize {USAGE.name} for {day} first"
        )
    request = answers.row(0, named=True)
    usage = store.read_day(USAGE, day)
    flows = store.read_day(tables.TEAM_DAILY_COSTS, day, ["account_id", "region", "bytes"])
    tolerance = cost_checks.tolerance()
    today = datetime.now(timezone.utc).date()
    table = reconcile(
        day, flows, usage, bool(request["estimated"]), pricing.billing_gb_bytes, tolerance, today
    )
    write = write_day(store, RECONCILIATION, day, table)
    status = worst_status(table, is_provisional(day, bool(request["estimated"]), tolerance, today))
    flow_gb = float(table["flow_log_gb"].sum() or 0.0)
    ce_gb = float(table["cost_explorer_gb"].sum() or 0.0)
    numbers = {
        "status": status,
        "flow_log_gb": gb(flow_gb),
        "cost_explorer_gb": gb(ce_gb),
        "difference_gb": gb(flow_gb - ce_gb),
        "difference_pct": round((flow_gb - ce_gb) / ce_gb * 100, 2) if ce_gb else None,
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
        metadata={**write, **numbers, "rows": table.height},
        check_results=[
            dg.AssetCheckResult(
                check_name=RECONCILIATION_CHECK,
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
