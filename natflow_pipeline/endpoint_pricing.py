"""VPC endpoint prices, and which AWS services (as ip-ranges.json names them) an endpoint carries.

Gateway endpoints (S3, DynamoDB) cost nothing: the whole NAT data-processing charge of that traffic
is saved. Interface endpoints (AWS PrivateLink) cost an hourly charge per endpoint per Availability
Zone plus a per-GB charge, so they pay off only above a break-even volume.

Only same-region traffic counts: a gateway endpoint serves its own region's S3/DynamoDB, and the
endpoint prices are for an endpoint in the NAT gateway's region. The prices live in the one price
catalogue (``price_catalogue``, docs/pricing.md); ``EndpointPriceBook`` is its endpoint view.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from natflow_pipeline.price_catalogue import (
    CATALOGUE,
    PRIVATELINK_PRICING,
    READ_ON,
    Charge,
    FamilyView,
    Price,
    PriceCatalogue,
    UnknownEndpointPrice,
)

PRICES_SOURCE = f"{PRIVATELINK_PRICING} (Interface Endpoint pricing)"
PRICES_READ_ON = READ_ON

#: The catalogue's interface endpoint charges, in the order ``interface_endpoint_prices`` lists
#: them. Per GB the catalogue holds the first-PB-a-month rate: above 1 PB a month the real rate is
#: lower, so savings are understated, never overstated.
INTERFACE_CHARGES: tuple[Charge, Charge] = ("interface_endpoint_hour", "interface_endpoint_gb")

#: region -> (USD per VPC endpoint per AZ-hour, USD per GB processed), for the regions with both.
INTERFACE_ENDPOINT_PRICES: dict[str, tuple[float, float]] = CATALOGUE.pairs(INTERFACE_CHARGES)
VERIFIED_REGIONS = frozenset(
    p.region for p in CATALOGUE.entries if p.charge in INTERFACE_CHARGES and p.status == "verified"
)

#: ip-ranges.json service -> gateway endpoint service (free).
GATEWAY_SERVICES: dict[str, str] = {"S3": "s3", "DYNAMODB": "dynamodb"}

#: ip-ranges.json service -> interface endpoint service name (``com.amazonaws.<region>.<name>``).
#: Only services whose ip-ranges entry is the service's own API endpoint and that have an AWS
#: PrivateLink interface endpoint. Deliberately absent: ``AMAZON`` (the umbrella; most AWS APIs,
#: STS, SQS, ECR, CloudWatch..., live only there, so which endpoint would carry the traffic cannot
#: be told from addresses), ``EC2`` (public addresses of instances, not the EC2 API), CloudFront,
#: Route 53 and Global Accelerator (global, no regional endpoint). ``execute-api`` carries only
#: *private* API Gateway APIs: check that the APIs called are private before acting on that row.
INTERFACE_SERVICES: dict[str, str] = {
    "API_GATEWAY": "execute-api",
    "CODEBUILD": "codebuild",
    "EBS": "ebs",
    "KINESIS_VIDEO_STREAMS": "kinesisvideo",
    "AMAZON_APPFLOW": "appflow",
}

#: Availability Zones an interface endpoint is deployed in. Three: production VPCs usually span
#: three AZs, and an endpoint needs a network interface in each AZ whose clients use it (or it adds
#: cross-AZ transfer). Assuming more endpoint-hours than a two-AZ deployment understates savings,
#: never overstates them.
DEFAULT_ENDPOINT_AZ_COUNT = 3


@dataclass(frozen=True)
class EndpointPriceBook(
    FamilyView, charges=INTERFACE_CHARGES, shorthand="interface_endpoint_prices"
):
    """The VPC endpoint prices a run uses: the catalogue (``base``, with its configured
    ``price_overrides``) plus the ``interface_endpoint_prices`` shorthand, ``{region:
    (usd_per_az_hour, usd_per_gb)}``."""

    overrides: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    az_count: int = DEFAULT_ENDPOINT_AZ_COUNT
    base: PriceCatalogue = CATALOGUE

    def __post_init__(self) -> None:
        if self.az_count < 1:
            raise ValueError(f"endpoint_az_count must be at least 1, found {self.az_count}")

    def per_az_hour(self, region: str) -> float:
        return self.catalogue.usd("interface_endpoint_hour", region)

    def per_gb(self, region: str) -> float:
        return self.catalogue.usd("interface_endpoint_gb", region)

    def source(self, region: str) -> str:
        """Where a region's price came from, as stored next to every row priced with it."""
        return self.provenance(region)

    def gateway(self, region: str) -> Price:
        """A gateway endpoint's price in ``region`` (no charge, unless overridden)."""
        return self.catalogue.price("gateway_endpoint", region)


__all__ = ["EndpointPriceBook", "UnknownEndpointPrice"]
