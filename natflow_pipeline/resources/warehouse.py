"""The Delta warehouse every asset writes to."""

import dagster as dg
from pydantic import Field

from natflow_pipeline.paths import DEFAULT_WAREHOUSE
from natflow_pipeline.warehouse import Warehouse


class WarehouseResource(dg.ConfigurableResource):
    """A local folder or ``s3://bucket/prefix``; S3 credentials come from the environment."""

    uri: str = Field(
        default=str(DEFAULT_WAREHOUSE), description="Folder or s3:// URI holding the Delta tables."
    )
    s3_endpoint_url: str | None = Field(
        default=None, description="S3-compatible endpoint (tests: a moto server)."
    )
    s3_region: str | None = Field(default=None)

    def get(self) -> Warehouse:
        options: dict[str, str] = {}
        if self.s3_endpoint_url:
            options["AWS_ENDPOINT_URL"] = self.s3_endpoint_url
            if self.s3_endpoint_url.startswith("http://"):
                options["AWS_ALLOW_HTTP"] = "true"
        if self.s3_region:
            options["AWS_REGION"] = self.s3_region
        return Warehouse(self.uri, options)
