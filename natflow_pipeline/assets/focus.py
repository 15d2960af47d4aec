"""The FinOps hand-off: the day's per-team NAT costs in FOCUS 1.2 columns."""

import dagster as dg
import polars as pl
from pydantic import Field

from natflow_pipeline import tables
from natflow_pipeline.assets.daily import daily_table_asset, partition_day, write_day
from natflow_pipeline.assets.metadata import usd
from natflow_pipeline.focus import CHARGES, FOCUS_VERSION, billed_gb_unit, focus_rows, validate
from natflow_pipeline.resources.pricing import PricingResource
from natflow_pipeline.resources.warehouse import WarehouseResource


class FocusConfig(dg.Config):
    """The payer account, which flow logs do not show (docs/focus.md, "Billing account")."""

    billing_account_id: str | None = Field(
        default=None,
        description="BillingAccountId: the account AWS invoices (an Organization's management "
        "account). Unset: each NAT gateway's own account (SubAccountId).",
    )
    billing_account_name: str | None = Field(
        default=None,
        description="BillingAccountName: the billing account's display name. Unset: the "
        "BillingAccountId.",
    )


@daily_table_asset(
    tables.FOCUS_NETWORK_COSTS, deps=[tables.TEAM_DAILY_COSTS.name], group_name="finops"
)
def focus_network_costs(
    context: dg.AssetExecutionContext,
    config: FocusConfig,
    warehouse: WarehouseResource,
    pricing: PricingResource,
) -> dg.MaterializeResult:
    """team_daily_costs as FOCUS 1.2 rows, one per day x team x NAT gateway x charge (NAT data
    processing, the gateway's hourly charge), for FinOps tools (docs/focus.md)."""
    day = partition_day(context)
    store = warehouse.get()
    gb_unit = billed_gb_unit(pricing.billing_gb_bytes)
    frame = focus_rows(
        store.read_day(tables.TEAM_DAILY_COSTS, day),
        gb_unit=gb_unit,
        billing_account_id=config.billing_account_id,
        billing_account_name=config.billing_account_name,
    )
    problems = validate(frame)
    if problems:
        shown = "\n".join(problems[:20])
        raise ValueError(
            f"{tables.FOCUS_NETWORK_COSTS.name} {day}: not FOCUS {FOCUS_VERSION}:\n{shown}"
        )
    write = write_day(store, tables.FOCUS_NETWORK_COSTS, day, frame)
    billed = {
        charge.name: frame.filter(pl.col("x_charge") == charge.name)["BilledCost"].sum()
        for charge in CHARGES
    }
    # Every entry on every partition, with one type (0 on a day without traffic).
    return dg.MaterializeResult(
        metadata={
            **write,
            "rows": frame.height,
            "teams": frame["x_team"].n_unique(),
            "billed_usd": usd(frame["BilledCost"].sum()),
            **{f"{name}_usd": usd(amount) for name, amount in billed.items()},
            "focus_version": FOCUS_VERSION,
            "billed_gb_unit": gb_unit,
            "billing_account_id": config.billing_account_id or "SubAccountId (per NAT gateway)",
        }
    )
