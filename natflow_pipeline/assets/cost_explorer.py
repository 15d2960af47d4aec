"""What AWS billed for NAT data processing (Cost Explorer), and its reconciliation with the flow
logs."""

from collections.abc import Callable, Iterator
from datetime import date, datetime, timezone
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
from natflow_pipeline.cost_explorer import (
    INTER_AZ,
    TGW,
    DayOfUsage,
    GetCostAndUsage,
    fetch_day,
    fetch_network_day,
)
from natflow_pipeline.reconciliation import (
    COVERAGE_SCHEMA,
    STATUS_ORDER,
    coverage,
    inter_az_flow_bytes,
    is_provisional,
    reconcile,
    tgw_flow_bytes,
    worst_status,
)
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
NETWORK_USAGE = tables.COST_EXPLORER_NETWORK_USAGE
NETWORK_REQUESTS = tables.COST_EXPLORER_NETWORK_REQUESTS
NETWORK_RECONCILIATION = tables.NETWORK_COST_RECONCILIATION
TGW_CHECK = "tgw_covered_by_flow_logs"
INTER_AZ_CHECK = "inter_az_covered_by_flow_logs"
#: A charge's verdict when its usage type is absent from the day's answer, or its flow-log side
#: is not computed (team_daily_network_costs without the column).
NO_DATA = "NO_DATA"
NOT_COMPUTED = "NOT_COMPUTED"


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
    yield from _ask_once(context, config, cost_explorer, warehouse, USAGE, REQUESTS, fetch_day)


def _ask_once(
    context: dg.AssetExecutionContext,
    config: CostExplorerFetch,
    cost_explorer: CostExplorerResource,
    warehouse: WarehouseResource,
    usage_table: Table,
    requests_table: Table,
    fetch: Callable[[GetCostAndUsage, date], DayOfUsage],
) -> Iterator[dg.MaterializeResult]:
    """One day's request: asked when ``config`` says so, stored in ``usage_table`` and
    ``requests_table``; otherwise the stored answer is reported as it is."""
    day = partition_day(context)
    store = warehouse.get()
    previous = store.read_day(requests_table, day)
    asked_before = previous.height > 0
    stale = asked_before and bool(previous["estimated"].any())
    ask = (
        cost_explorer.mode == "file"
        or not asked_before
        or config.refetch == "always"
        or (config.refetch == "estimated" and stale)
    )
    if not ask:
        usage = store.read_day(usage_table, day)
        context.log.info(
            f"Cost Explorer already answered for {day} (final); "
            f"not asking again (refetch={config.refetch})"
        )
        request = previous.row(0, named=True)
        # Nothing is written: the standard entries describe the tables as they are, so every
        # partition carries the same keys (the UI plots a key only when every partition has it).
        yield dg.MaterializeResult(
            asset_key=usage_table.name,
            metadata={
                **_as_stored(store, usage_table, usage),
                **_usage_metadata(usage, request, fetched=False),
            },
        )
        yield dg.MaterializeResult(
            asset_key=requests_table.name,
            metadata={
                **_as_stored(store, requests_table, previous),
                **_request_metadata(request, fetched=False),
            },
        )
        return

    result = fetch(cost_explorer.client(), day)
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
    usage_written = write_day(store, usage_table, day, usage)
    requests_written = write_day(
        store,
        requests_table,
        day,
        pl.DataFrame([request], schema=dict(requests_table.schema or {}), orient="row"),
    )
    if result.estimated:
        context.log.warning(f"Cost Explorer marks {day} as estimated: its numbers may still change")
    yield dg.MaterializeResult(
        asset_key=usage_table.name,
        metadata={**usage_written, **_usage_metadata(usage, request, fetched=True)},
    )
    yield dg.MaterializeResult(
        asset_key=requests_table.name,
        metadata={**requests_written, **_request_metadata(request, fetched=True)},
    )


@daily_multi_asset(
    specs=[
        daily_table_spec(
            NETWORK_USAGE,
            "Transit Gateway data processing (<CODE>-TransitGateway-Bytes) and inter-AZ transfer "
            "(<CODE>-DataTransfer-Regional-Bytes) Cost Explorer billed per UTC day, per linked "
            "account, region, usage type and charge (tgw, inter_az).",
            group_name=GROUP,
        ),
        daily_table_spec(
            NETWORK_REQUESTS,
            "Each day's Cost Explorer request for TGW and inter-AZ usage: when, from where, "
            "whether estimated, pages, retries and how often it was asked.",
            group_name=GROUP,
        ),
    ],
)
def cost_explorer_network_usage(
    context: dg.AssetExecutionContext,
    config: CostExplorerFetch,
    cost_explorer: CostExplorerResource,
    warehouse: WarehouseResource,
) -> Iterator[dg.MaterializeResult]:
    """Asks Cost Explorer once per day for TGW bytes and inter-AZ transfer (a request of its own,
    so the NAT table and its request stay as they are); re-asking is the run config's
    ``refetch``, as for the NAT usage."""
    yield from _ask_once(
        context,
        config,
        cost_explorer,
        warehouse,
        NETWORK_USAGE,
        NETWORK_REQUESTS,
        fetch_network_day,
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


@daily_table_asset(
    NETWORK_RECONCILIATION,
    deps=[
        tables.TEAM_DAILY_NETWORK_COSTS.name,
        tables.TEAM_DAILY_COSTS.name,
        NETWORK_USAGE.name,
        NETWORK_REQUESTS.name,
    ],
    group_name=GROUP,
    check_specs=[
        dg.AssetCheckSpec(
            TGW_CHECK,
            asset=NETWORK_RECONCILIATION.name,
            description="The share of Cost Explorer's TransitGateway-Bytes GB per account and "
            "region the NAT flow logs explain: WARN below 100% (TGW traffic that never reaches "
            "the NAT is invisible to its flow logs), ERROR only above the bill.",
        ),
        dg.AssetCheckSpec(
            INTER_AZ_CHECK,
            asset=NETWORK_RECONCILIATION.name,
            description="The same for DataTransfer-Regional-Bytes (inter-AZ) against the "
            "cross_az_bytes of team_daily_network_costs; 'not computed' without that column.",
        ),
    ],
)
def network_cost_reconciliation(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    pricing: PricingResource,
    cost_checks: CostChecksResource,
) -> dg.MaterializeResult:
    """Flow-log TGW and inter-AZ GB against Cost Explorer's per day, account and region, as the
    share of the billed GB the flow logs explain (docs/costs-and-reconciliation.md)."""
    day = partition_day(context)
    store = warehouse.get()
    answers = store.read_day(NETWORK_REQUESTS, day)
    if answers.is_empty():
        raise dg.Failure(
            f"no Cost Explorer network answer stored for {day}: "
            f"materialize {NETWORK_USAGE.name} for {day} first"
        )
    estimated = bool(answers.row(0, named=True)["estimated"])
    # Cost Explorer itself answers for every usage type asked (no row: nothing billed); an
    # offline file holds only what was exported into it (no row: not known).
    authoritative = not str(answers.row(0, named=True)["source"]).startswith("file:")
    usage = store.read_day(NETWORK_USAGE, day)
    network = store.read_day(tables.TEAM_DAILY_NETWORK_COSTS, day)
    nat_costs = store.read_day(
        tables.TEAM_DAILY_COSTS,
        day,
        ["team", "source_account_id", "region", "account_id", "bytes"],
    )
    tolerance = cost_checks.tolerance()
    today = datetime.now(timezone.utc).date()
    flows = {
        TGW: tgw_flow_bytes(network, nat_costs),
        INTER_AZ: inter_az_flow_bytes(network, nat_costs),
    }
    parts: list[pl.DataFrame] = []
    results: list[dg.AssetCheckResult] = []
    summary: dict[str, Any] = {}
    for charge, check_name in ((TGW, TGW_CHECK), (INTER_AZ, INTER_AZ_CHECK)):
        table, numbers = _coverage_of(
            day,
            charge,
            flows[charge],
            usage.filter(pl.col("charge") == charge),
            estimated,
            pricing.billing_gb_bytes,
            tolerance,
            today,
            authoritative,
        )
        parts.append(table)
        status = str(numbers["status"])
        summary[f"{charge}_status"] = status
        summary[f"{charge}_covered_pct"] = numbers.get("covered_pct", status)
        results.append(
            dg.AssetCheckResult(
                check_name=check_name,
                passed=status in ("PASS", NO_DATA, NOT_COMPUTED),
                severity=dg.AssetCheckSeverity.ERROR
                if status == "ERROR"
                else dg.AssetCheckSeverity.WARN,
                metadata=numbers,
                description=str(numbers["verdict"]),
            )
        )
    table = pl.concat(parts).sort("charge", "account_id", "region")
    write = write_day(store, NETWORK_RECONCILIATION, day, table)
    return dg.MaterializeResult(
        metadata={**write, **summary, "rows": table.height, "estimated": estimated},
        check_results=results,
    )


def _coverage_of(
    day: date,
    charge: str,
    flows: pl.DataFrame | None,
    usage: pl.DataFrame,
    estimated: bool,
    billing_gb_bytes: int,
    tolerance: Any,
    today: date,
    authoritative: bool = True,
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """A charge's rows and its check's metadata (``status``, ``verdict``, ``covered_pct``...).

    No billed row is "no data" only when the source could not know (an offline file) or the flow
    logs saw nothing either; from Cost Explorer itself it is a bill of 0, and flow-log bytes
    against it are judged (ERROR on a final day: bytes AWS did not charge)."""
    empty = pl.DataFrame(schema=COVERAGE_SCHEMA)
    label = "TGW" if charge == TGW else "inter-AZ"
    common = {
        "unit": f"GB = {billing_gb_bytes:,} bytes",
        "billing_gb_bytes": billing_gb_bytes,
        "estimated": estimated,
    }
    if flows is None:
        return empty, {
            **common,
            "status": NOT_COMPUTED,
            "flow_log_gb": "not computed",
            "verdict": f"{label} for {day}: not computed (team_daily_network_costs has no "
            "cross_az_bytes column)",
        }
    flow_gb = gb(flows["bytes"].sum() / billing_gb_bytes) if flows.height else 0.0
    if usage.is_empty() and (not authoritative or not flows.height or flow_gb == 0):
        return empty, {
            **common,
            "status": NO_DATA,
            "flow_log_gb": flow_gb,
            "cost_explorer_gb": "no data",
            "verdict": f"{label} for {day}: no data (Cost Explorer's answer has no usage of "
            "this type)",
        }
    table = coverage(day, charge, flows, usage, estimated, billing_gb_bytes, tolerance, today)
    status = max(table["status"].to_list(), key=STATUS_ORDER.__getitem__)
    billed = float(table["cost_explorer_gb"].sum() or 0.0)
    seen = float(table["flow_log_gb"].sum() or 0.0)
    covered = round(seen / billed * 100, 2) if billed else None
    numbers: dict[str, Any] = {
        **common,
        "status": status,
        "flow_log_gb": gb(seen),
        "cost_explorer_gb": gb(billed),
        "cost_explorer_usd": usd(float(table["cost_explorer_usd"].sum() or 0.0)),
        "covered_pct": covered,
        "tolerance_pct": tolerance.relative * 100,
        "by_account_region": dg.MetadataValue.md(
            markdown_table(
                table.select(
                    "account_id",
                    "region",
                    "flow_log_gb",
                    "cost_explorer_gb",
                    "covered_pct",
                    "status",
                )
            )
        ),
        "verdict": f"{label} for {day}: flow logs explain {covered}% of the billed GB ({status})",
    }
    return table, {k: v for k, v in numbers.items() if v is not None}
