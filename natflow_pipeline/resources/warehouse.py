"""The Delta warehouse every asset writes to."""

import dagster as dg
from fsspec import AbstractFileSystem
from pydantic import Field

from natflow_pipeline.paths import DEFAULT_WAREHOUSE
from natflow_pipeline.storage import delta_storage_options, filesystem_for
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
        return Warehouse(self.uri, delta_storage_options(self.s3_endpoint_url, self.s3_region))

    def filesystem(self, uri: str) -> AbstractFileSystem:
        """A filesystem for ``uri`` (the warehouse's or a reports folder) with the warehouse's
        S3 settings."""
        return filesystem_for(uri, self.s3_endpoint_url, self.s3_region)
