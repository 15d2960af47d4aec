"""How NAT usage is priced, and the one place prices are overridden."""

from typing import Any

import dagster as dg
from pydantic import Field

from natflow_pipeline import settings
from natflow_pipeline.costs import GatewayHours, HourlyAllocation
from natflow_pipeline.price_catalogue import (
    CATALOGUE,
    OVERRIDE_SETTING,
    Charge,
    PriceCatalogue,
    read_overrides,
)
from natflow_pipeline.pricing import DEFAULT_BILLING_GB_BYTES, NAT_CHARGES, PriceBook


def shorthand_field(charges: tuple[Charge, Charge]) -> Any:
    """An older per-family override setting, ``{region: [first charge, second charge]}``: the
    same overrides as ``price_overrides``, for one family's two charges."""
    first, second = charges
    return Field(
        default_factory=dict,
        description=f"Shorthand for the pricing resource's price_overrides of {first} and "
        f"{second}: {{region: [{first}, {second}]}} (USD, units in docs/pricing.md).",
    )


class PricingResource(dg.ConfigurableResource):
    billing_gb_bytes: int = Field(
        default=DEFAULT_BILLING_GB_BYTES,
        description="Bytes in one billed GB (see docs/facts.md: what a billed GB is).",
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

    price_overrides: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description="Overrides of any catalogued price: {charge: {region: usd}} (charges and "
        "units in docs/pricing.md; the code location reads it from NATFLOW_PRICE_OVERRIDES).",
    )
    nat_prices: dict[str, list[float]] = shorthand_field(NAT_CHARGES)

    def catalogue(self) -> PriceCatalogue:
        """The price catalogue with ``price_overrides`` applied (each reported as an override)."""
        return CATALOGUE.with_overrides(self.price_overrides, OVERRIDE_SETTING)

    def price_book(self) -> PriceBook:
        return PriceBook(
            {r: (v[0], v[1]) for r, v in self.nat_prices.items()},
            self.billing_gb_bytes,
            self.catalogue(),
        )


def pricing_from_env() -> PricingResource:
    """The code location's pricing: ``price_overrides`` from ``NATFLOW_PRICE_OVERRIDES`` (a bad
    value fails the code location's load, naming the variable)."""
    return PricingResource(price_overrides=read_overrides(settings.price_overrides()))
