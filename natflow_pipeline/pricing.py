"""NAT gateway prices as the gold table uses them, the usage-type region codes AWS bills them
under, and what a billed "GB" is.

The prices themselves live in the one price catalogue (``price_catalogue``, docs/pricing.md):
``PriceBook`` is its NAT gateway view (data processing per GB and the gateway-hour). A region the
catalogue has no NAT price for carries no number at all: costing its traffic fails with an error
asking for a configured price, because a guessed price would be silently wrong money.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from natflow_pipeline.price_catalogue import (
    CATALOGUE,
    READ_ON,
    VPC_PRICING,
    Charge,
    FamilyView,
    PriceCatalogue,
    UnknownRegionPrice,
)

PRICES_SOURCE = (
    f"{VPC_PRICING} (NAT Gateway pricing, per region) and AWS's price-list offer file "
    "(AmazonEC2, usage types <CODE>-NatGateway-Bytes / -Hours)"
)
PRICES_READ_ON = READ_ON

#: The catalogue's NAT gateway charges, in the order ``nat_prices`` lists them.
NAT_CHARGES: tuple[Charge, Charge] = ("nat_gateway_gb", "nat_gateway_hour")

PriceStatus = Literal["verified", "corroborated", "unverified", "unknown", "override"]


@dataclass(frozen=True)
class RegionPrice:
    """One commercial region: its usage-type code, and its NAT prices with how they were checked
    (``unknown``: no price in the catalogue; configure one, docs/pricing.md)."""

    region: str
    usage_type_code: str  # prefix of the region's usage types ("" for us-east-1)
    per_gb: float | None
    per_hour: float | None
    status: PriceStatus
    note: str = ""


#: Every commercial region (aws partition) as of 2026-11 -> the prefix Cost Explorer and the Cost
#: and Usage Report put on its usage types (``USE2-NatGateway-Bytes``): us-east-1 has none, and
#: Ireland is ``EU``, not ``EUW1``. The codes in ``CODES_UNVERIFIED`` follow AWS's pattern but were
#: not seen on a bill.
USAGE_TYPE_CODES: dict[str, str] = {
    "us-east-1": "",
    "us-east-2": "USE2",
    "us-west-1": "USW1",
    "us-west-2": "USW2",
    "ca-central-1": "CAN1",
    "ca-west-1": "CAN2",
    "mx-central-1": "MXC1",
    "sa-east-1": "SAE1",
    "af-south-1": "AFS1",
    "ap-east-1": "APE1",
    "ap-east-2": "APE2",
    "ap-northeast-1": "APN1",
    "ap-northeast-2": "APN2",
    "ap-northeast-3": "APN3",
    "ap-southeast-1": "APS1",
    "ap-southeast-2": "APS2",
    "ap-south-1": "APS3",
    "ap-southeast-3": "APS4",
    "ap-south-2": "APS5",
    "ap-southeast-4": "APS6",
    "ap-southeast-5": "APS7",
    "ap-southeast-6": "APS8",
    "ap-southeast-7": "APS9",
    "eu-west-1": "EU",
    "eu-west-2": "EUW2",
    "eu-west-3": "EUW3",
    "eu-central-1": "EUC1",
    "eu-central-2": "EUC2",
    "eu-north-1": "EUN1",
    "eu-south-1": "EUS1",
    "eu-south-2": "EUS2",
    "me-south-1": "MES1",
    "me-central-1": "MEC1",
    "il-central-1": "ILC1",
}
CODES_UNVERIFIED = frozenset(
    {"eu-central-2", "eu-south-1", "eu-south-2", "me-central-1", "il-central-1"}
)


def _region_price(region: str, code: str) -> RegionPrice:
    per_gb = CATALOGUE.find("nat_gateway_gb", region)
    per_hour = CATALOGUE.find("nat_gateway_hour", region)
    code_note = "code unverified" if region in CODES_UNVERIFIED else ""
    if per_gb is None or per_hour is None:
        return RegionPrice(region, code, None, None, "unknown", code_note)
    return RegionPrice(region, code, per_gb.usd, per_hour.usd, per_gb.status, per_gb.note)


#: Every commercial region with its usage-type code and catalogued NAT prices.
REGIONS: tuple[RegionPrice, ...] = tuple(
    _region_price(region, code) for region, code in USAGE_TYPE_CODES.items()
)

#: region -> (USD per GB processed, USD per NAT gateway-hour), for the regions with a price.
NAT_GATEWAY_PRICES: dict[str, tuple[float, float]] = CATALOGUE.pairs(NAT_CHARGES)

#: usage-type prefix -> region ("" and "USE1" are both us-east-1).
USAGE_TYPE_REGIONS: dict[str, str] = {code: region for region, code in USAGE_TYPE_CODES.items()} | {
    "USE1": "us-east-1"
}

#: Bytes in one billed GB. See docs/facts.md, "What a billed GB is", for what AWS documents.
BILLING_GB_BYTES_DECIMAL = 10**9
BILLING_GB_BYTES_BINARY = 2**30
DEFAULT_BILLING_GB_BYTES = BILLING_GB_BYTES_BINARY


@dataclass(frozen=True)
class PriceBook(FamilyView, charges=NAT_CHARGES, shorthand="nat_prices"):
    """The NAT gateway prices a run uses: the catalogue (``base``, with its configured
    ``price_overrides``) plus the ``nat_prices`` shorthand, ``{region: (usd_per_gb,
    usd_per_hour)}``."""

    overrides: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    billing_gb_bytes: int = DEFAULT_BILLING_GB_BYTES
    base: PriceCatalogue = CATALOGUE

    def __post_init__(self) -> None:
        if self.billing_gb_bytes not in (BILLING_GB_BYTES_BINARY, BILLING_GB_BYTES_DECIMAL):
            raise ValueError(
                f"billing_gb_bytes must be {BILLING_GB_BYTES_BINARY} (2^30) or "
                f"{BILLING_GB_BYTES_DECIMAL} (10^9), got {self.billing_gb_bytes}"
            )

    def per_gb(self, region: str) -> float:
        return self.catalogue.usd("nat_gateway_gb", region)

    def per_hour(self, region: str) -> float:
        return self.catalogue.usd("nat_gateway_hour", region)


__all__ = [
    "BILLING_GB_BYTES_BINARY",
    "BILLING_GB_BYTES_DECIMAL",
    "DEFAULT_BILLING_GB_BYTES",
    "NAT_GATEWAY_PRICES",
    "REGIONS",
    "USAGE_TYPE_REGIONS",
    "PriceBook",
    "RegionPrice",
    "UnknownRegionPrice",
]
