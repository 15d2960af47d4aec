"""Settings of the insights: how many top talkers, how interface endpoints are priced,
where reports go."""

import dagster as dg
from pydantic import Field

from natflow_pipeline.endpoint_pricing import (
    DEFAULT_ENDPOINT_AZ_COUNT,
    INTERFACE_CHARGES,
    INTERFACE_SERVICES,
    EndpointPriceBook,
)
from natflow_pipeline.price_catalogue import CATALOGUE, PriceCatalogue
from natflow_pipeline.resources.pricing import shorthand_field
from natflow_pipeline.top_talkers import DEFAULT_TOP_N


class InsightsResource(dg.ConfigurableResource):
    top_n: int = Field(default=DEFAULT_TOP_N, description="Pairs kept per day in top_talkers.")
    endpoint_az_count: int = Field(
        default=DEFAULT_ENDPOINT_AZ_COUNT,
        description="Availability Zones an interface endpoint would be deployed in "
        "(its hourly charge is per AZ).",
    )
    interface_endpoint_prices: dict[str, list[float]] = shorthand_field(INTERFACE_CHARGES)
    interface_services: dict[str, str] = Field(
        default_factory=lambda: dict(INTERFACE_SERVICES),
        description="ip-ranges.json service -> interface endpoint service name "
        "(com.amazonaws.<region>.<name>).",
    )
    reports_uri: str | None = Field(
        default=None,
        description="Folder (or s3:// prefix) the dashboard is written to; "
        "default: <warehouse uri>/reports.",
    )

    def endpoint_price_book(self, catalogue: PriceCatalogue = CATALOGUE) -> EndpointPriceBook:
        """Endpoint prices from ``catalogue`` (the pricing resource's, with its overrides)."""
        return EndpointPriceBook(
            {r: (v[0], v[1]) for r, v in self.interface_endpoint_prices.items()},
            self.endpoint_az_count,
            catalogue,
        )
