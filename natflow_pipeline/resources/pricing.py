"""How NAT usage is priced."""

import dagster as dg
from pydantic import Field

from natflow_pipeline.costs import GatewayHours, HourlyAllocation
from natflow_pipeline.pricing import DEFAULT_BILLING_GB_BYTES, PriceBook


class PricingResource(dg.ConfigurableResource):
    billing_gb_bytes: int = Field(
        default=DEFAULT_BILLING_GB_BYTES,
        description="Bytes in one billed GB (see docs/facts.md: what a billed GB is).",
    )
    nat_prices: dict[str, list[float]] = Field(
        default_factory=dict,
        description="Per-region overrides: {region: [usd_per_gb, usd_per_hour]}.",
    )
    hourly_allocation: HourlyAllocation = Field(
        default="proportional",
        description="How a gateway's hourly charge is shared: proportional | even | none.",
    )

    gateway_hours: GatewayHours = Field(
        default="full_day",
        description="Hours a gateway is charged per day: full_day (24 per interface seen) "
        "| hours_seen (UTC hours with NAT records).",
    )

    def price_book(self) -> PriceBook:
        return PriceBook(
            {r: (v[0], v[1]) for r, v in self.nat_prices.items()}, self.billing_gb_bytes
        )
