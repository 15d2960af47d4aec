"""NAT gateway prices per region, and what a billed "GB" is.

Prices are AWS's public on-demand NAT gateway prices (data processing per GB, and per gateway-hour).
They change rarely but do change: override any region through configuration rather than editing
this table, and re-read the source when refreshing it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

PRICES_SOURCE = "https://aws.amazon.com/vpc/pricing/ (NAT Gateway pricing, per region)"
PRICES_READ_ON = "2026-11-27"

#: region -> (USD per GB processed, USD per NAT gateway-hour), standard (zonal) NAT gateway.
#: "verified" entries were checked against AWS's page or its price-list offer file (read 2026-11);
#: the others are AWS's published figures as last seen and should be re-read before relying on them.
NAT_GATEWAY_PRICES: dict[str, tuple[float, float]] = {
    "us-east-1": (0.045, 0.045),  # verified
    "us-east-2": (0.045, 0.045),  # verified (worked example on the VPC pricing page)
    "eu-west-1": (0.048, 0.048),  # verified (AmazonEC2 offer file, EU-NatGateway-Bytes/-Hours)
    "ap-southeast-1": (0.059, 0.059),  # verified (APS1-NatGateway-Bytes/-Hours)
    "us-west-1": (0.048, 0.048),
    "us-west-2": (0.045, 0.045),
    "eu-central-1": (0.052, 0.052),
}

#: Bytes in one billed GB. See README "What a billed GB is" for the source of this value.
BILLING_GB_BYTES_DECIMAL = 10**9
BILLING_GB_BYTES_BINARY = 2**30
DEFAULT_BILLING_GB_BYTES = BILLING_GB_BYTES_BINARY


class UnknownRegionPrice(KeyError):
    """A region with NAT traffic but no price: costing it at zero would hide real money."""

    def __str__(self) -> str:
        return f"no NAT gateway price for region {self.args[0]!r}; add it under nat_prices in the pricing configuration"


@dataclass(frozen=True)
class PriceBook:
    """The prices a run uses: the table above plus configured overrides."""

    overrides: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    billing_gb_bytes: int = DEFAULT_BILLING_GB_BYTES

    def prices(self) -> dict[str, tuple[float, float]]:
        return {**NAT_GATEWAY_PRICES, **{r: (float(g), float(h)) for r, (g, h) in self.overrides.items()}}

    def per_gb(self, region: str) -> float:
        try:
            return self.prices()[region][0]
        except KeyError:
            raise UnknownRegionPrice(region) from None

    def per_hour(self, region: str) -> float:
        try:
            return self.prices()[region][1]
        except KeyError:
            raise UnknownRegionPrice(region) from None
