"""NAT gateway prices per region, the usage-type region codes AWS bills them under, and what a
billed "GB" is.

Prices are AWS's public on-demand prices for a standard (zonal) NAT gateway: data processing per
GB and the gateway-hour. They change rarely but do change, so every entry says where it came from
and how sure we are, and any region can be overridden through configuration (``nat_prices``)
instead of editing this table. A region whose price nobody has confirmed carries no number at all:
costing its traffic fails with an error asking for a configured price, because a guessed price
would be silently wrong money.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

PRICES_SOURCE = (
    "https://aws.amazon.com/vpc/pricing/ (NAT Gateway pricing, per region) and AWS's price-list "
    "offer file (AmazonEC2, usage types <CODE>-NatGateway-Bytes / -Hours)"
)
PRICES_READ_ON = "2026-11-27"

PriceStatus = Literal["verified", "corroborated", "unverified", "unknown"]


@dataclass(frozen=True)
class RegionPrice:
    """One commercial region: its usage-type code, and its NAT prices with how they were checked.

    ``verified``: read from AWS's pricing page or offer file; ``corroborated``: the offer-file
    value as quoted by a third party; ``unverified``: a figure carried from earlier notes with no
    source at hand; ``unknown``: no price in this table (configure one under ``nat_prices``).
    """

    region: str
    usage_type_code: str  # prefix of the region's usage types ("" for us-east-1)
    per_gb: float | None
    per_hour: float | None
    status: PriceStatus
    note: str = ""


#: Every commercial region (aws partition) as of 2026-11. The usage-type codes are the prefixes
#: Cost Explorer and the Cost and Usage Report put on usage types (``USE2-NatGateway-Bytes``);
#: us-east-1 has none, and Ireland is ``EU``, not ``EUW1``. Codes marked "code unverified" follow
#: AWS's pattern but were not seen on a bill.
REGIONS: tuple[RegionPrice, ...] = (
    RegionPrice("us-east-1", "", 0.045, 0.045, "verified", "VPC pricing page"),
    RegionPrice(
        "us-east-2", "USE2", 0.045, 0.045, "verified", "worked example on the VPC pricing page"
    ),
    RegionPrice("us-west-1", "USW1", 0.048, 0.048, "unverified"),
    RegionPrice(
        "us-west-2",
        "USW2",
        0.045,
        0.045,
        "corroborated",
        "USW2-NatGateway-Bytes/-Hours as quoted from the AWS Pricing API",
    ),
    RegionPrice("ca-central-1", "CAN1", None, None, "unknown"),
    RegionPrice("ca-west-1", "CAN2", None, None, "unknown"),
    RegionPrice("mx-central-1", "MXC1", None, None, "unknown"),
    RegionPrice("sa-east-1", "SAE1", None, None, "unknown"),
    RegionPrice("af-south-1", "AFS1", None, None, "unknown"),
    RegionPrice("ap-east-1", "APE1", None, None, "unknown"),
    RegionPrice("ap-east-2", "APE2", None, None, "unknown"),
    RegionPrice("ap-northeast-1", "APN1", None, None, "unknown"),
    RegionPrice("ap-northeast-2", "APN2", None, None, "unknown"),
    RegionPrice("ap-northeast-3", "APN3", None, None, "unknown"),
    RegionPrice(
        "ap-southeast-1",
        "APS1",
        0.059,
        0.059,
        "verified",
        "offer file, APS1-NatGateway-Bytes/-Hours",
    ),
    RegionPrice("ap-southeast-2", "APS2", None, None, "unknown"),
    RegionPrice("ap-south-1", "APS3", None, None, "unknown"),
    RegionPrice("ap-southeast-3", "APS4", None, None, "unknown"),
    RegionPrice("ap-south-2", "APS5", None, None, "unknown"),
    RegionPrice("ap-southeast-4", "APS6", None, None, "unknown"),
    RegionPrice("ap-southeast-5", "APS7", None, None, "unknown"),
    RegionPrice("ap-southeast-6", "APS8", None, None, "unknown"),
    RegionPrice("ap-southeast-7", "APS9", None, None, "unknown"),
    RegionPrice(
        "eu-west-1", "EU", 0.048, 0.048, "verified", "offer file, EU-NatGateway-Bytes/-Hours"
    ),
    RegionPrice("eu-west-2", "EUW2", None, None, "unknown"),
    RegionPrice("eu-west-3", "EUW3", None, None, "unknown"),
    RegionPrice("eu-central-1", "EUC1", 0.052, 0.052, "unverified"),
    RegionPrice("eu-central-2", "EUC2", None, None, "unknown", "code unverified"),
    RegionPrice("eu-north-1", "EUN1", None, None, "unknown"),
    RegionPrice("eu-south-1", "EUS1", None, None, "unknown", "code unverified"),
    RegionPrice("eu-south-2", "EUS2", None, None, "unknown", "code unverified"),
    RegionPrice("me-south-1", "MES1", None, None, "unknown"),
    RegionPrice("me-central-1", "MEC1", None, None, "unknown", "code unverified"),
    RegionPrice("il-central-1", "ILC1", None, None, "unknown", "code unverified"),
)

#: region -> (USD per GB processed, USD per NAT gateway-hour), for the regions with a price.
NAT_GATEWAY_PRICES: dict[str, tuple[float, float]] = {
    r.region: (r.per_gb, r.per_hour)
    for r in REGIONS
    if r.per_gb is not None and r.per_hour is not None
}

#: usage-type prefix -> region ("" and "USE1" are both us-east-1).
USAGE_TYPE_REGIONS: dict[str, str] = {r.usage_type_code: r.region for r in REGIONS} | {
    "USE1": "us-east-1"
}

#: Bytes in one billed GB. See docs/facts.md, "What a billed GB is", for what AWS documents.
BILLING_GB_BYTES_DECIMAL = 10**9
BILLING_GB_BYTES_BINARY = 2**30
DEFAULT_BILLING_GB_BYTES = BILLING_GB_BYTES_BINARY


class UnknownRegionPrice(KeyError):
    """A region with NAT traffic but no price: costing it at zero would hide real money."""

    def __str__(self) -> str:
        return (
            f"no NAT gateway price for region {self.args[0]!r}; "
            "add it under nat_prices in the pricing configuration"
        )


@dataclass(frozen=True)
class PriceBook:
    """The prices a run uses: the table above plus configured overrides."""

    overrides: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    billing_gb_bytes: int = DEFAULT_BILLING_GB_BYTES

    def __post_init__(self) -> None:
        if self.billing_gb_bytes not in (BILLING_GB_BYTES_BINARY, BILLING_GB_BYTES_DECIMAL):
            raise ValueError(
                f"billing_gb_bytes must be {BILLING_GB_BYTES_BINARY} (2^30) or "
                f"{BILLING_GB_BYTES_DECIMAL} (10^9), got {self.billing_gb_bytes}"
            )

    def prices(self) -> dict[str, tuple[float, float]]:
        return {
            **NAT_GATEWAY_PRICES,
            **{r: (float(g), float(h)) for r, (g, h) in self.overrides.items()},
        }

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

    def provenance(self, region: str) -> str:
        """Where a region's price comes from, for metadata a user can check."""
        if region in self.overrides:
            return "configured (nat_prices)"
        entry = next((r for r in REGIONS if r.region == region), None)
        if entry is None or entry.status == "unknown":
            return "none"
        return f"{entry.status}: {entry.note or PRICES_SOURCE} (read {PRICES_READ_ON})"
