"""VPC endpoint prices, and which AWS services (as ip-ranges.json names them) an endpoint carries.

Gateway endpoints (S3, DynamoDB) cost nothing: the whole NAT data-processing charge of that traffic
is saved. Interface endpoints (AWS PrivateLink) cost an hourly charge per endpoint per Availability
Zone plus a per-GB charge, so they pay off only above a break-even volume.

Only same-region traffic counts: a gateway endpoint serves its own region's S3/DynamoDB, and the
endpoint prices here are for an endpoint in the NAT gateway's region.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

PRICES_SOURCE = "https://aws.amazon.com/privatelink/pricing/ (Interface Endpoint pricing)"
PRICES_READ_ON = "2026-11-27"

#: region -> (USD per VPC endpoint per AZ-hour, USD per GB processed, first PB of the month).
#: us-east-1 is verified: the per-GB tiers ($0.01 first PB, $0.006 next 4 PB, $0.004 above 5 PB,
#: per region per month) read on AWS's page on the date above; the $0.01 per endpoint-AZ-hour is
#: the figure AWS's page shows for the region (its hourly table is rendered by script, so it was
#: confirmed through several independent cost guides quoting it). The other regions are AWS's
#: published figures as last seen, NOT verified on the date above: re-read them before relying on
#: them, or override them through the insights resource's ``interface_endpoint_prices``.
#: The first-PB rate is used throughout: above 1 PB a month the real rate is lower, so savings are
#: understated, never overstated.
INTERFACE_ENDPOINT_PRICES: dict[str, tuple[float, float]] = {
    "us-east-1": (0.01, 0.01),  # verified (see above)
    "us-east-2": (0.01, 0.01),  # unverified
    "us-west-2": (0.01, 0.01),  # unverified
    "us-west-1": (0.011, 0.01),  # unverified
    "eu-west-1": (0.011, 0.01),  # unverified
    "eu-central-1": (0.012, 0.01),  # unverified
    "ap-southeast-1": (0.013, 0.01),  # unverified
}
VERIFIED_REGIONS = frozenset({"us-east-1"})

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


class UnknownEndpointPrice(KeyError):
    """A region with interface-endpoint candidates but no PrivateLink price."""

    def __str__(self) -> str:
        return (
            f"no interface endpoint price for region {self.args[0]!r}; add it under "
            "interface_endpoint_prices in the insights configuration"
        )


@dataclass(frozen=True)
class EndpointPriceBook:
    """Interface endpoint prices a run uses: the table above plus configured overrides."""

    overrides: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    az_count: int = DEFAULT_ENDPOINT_AZ_COUNT

    def __post_init__(self) -> None:
        if self.az_count < 1:
            raise ValueError(f"endpoint_az_count must be at least 1, found {self.az_count}")

    def prices(self) -> dict[str, tuple[float, float]]:
        return {
            **INTERFACE_ENDPOINT_PRICES,
            **{r: (float(h), float(g)) for r, (h, g) in self.overrides.items()},
        }

    def per_az_hour(self, region: str) -> float:
        try:
            return self.prices()[region][0]
        except KeyError:
            raise UnknownEndpointPrice(region) from None

    def per_gb(self, region: str) -> float:
        try:
            return self.prices()[region][1]
        except KeyError:
            raise UnknownEndpointPrice(region) from None

    def source(self, region: str) -> str:
        """Where a region's price came from, as stored next to every row priced with it."""
        if region in self.overrides:
            return "configuration (interface_endpoint_prices)"
        state = "verified" if region in VERIFIED_REGIONS else "unverified"
        return f"{PRICES_SOURCE}, read {PRICES_READ_ON} ({state})"
