"""Cost Explorer: boto3's ``ce`` client in production, a file of recorded responses offline."""

from typing import Literal

import boto3
import dagster as dg
from botocore.config import Config
from pydantic import Field

from natflow_pipeline.cost_explorer import FileCostExplorer, GetCostAndUsage
from natflow_pipeline.paths import DEFAULT_COST_EXPLORER_FILE


class CostExplorerResource(dg.ConfigurableResource):
    """Where the NAT usage AWS billed comes from.

    ``aws``: GetCostAndUsage through boto3, credentials from the default chain (environment,
    profile, instance or pod role), never from configuration. Throttling
    (LimitExceededException) is retried by botocore's ``standard`` mode with exponential backoff
    and jitter, up to ``max_attempts`` calls per request. ``file``: a JSON file of recorded
    responses, so the embedded default reconciles offline.
    """

    mode: Literal["file", "aws"] = Field(
        default="file", description="file (offline default) or aws."
    )
    file_path: str = Field(
        default=str(DEFAULT_COST_EXPLORER_FILE),
        description="Recorded GetCostAndUsage responses (mode=file).",
    )
    endpoint_url: str | None = Field(
        default=None, description="Cost Explorer endpoint override (tests: a moto server)."
    )
    region_name: str = Field(
        default="us-east-1", description="Cost Explorer's API lives in us-east-1."
    )
    max_attempts: int = Field(
        default=8, description="Calls per request including retries of throttling and 5xx."
    )

    def client(self) -> GetCostAndUsage:
        if self.mode == "file":
            return FileCostExplorer(self.file_path)
        retries = Config(retries={"mode": "standard", "total_max_attempts": self.max_attempts})
        return boto3.client(
            "ce", region_name=self.region_name, endpoint_url=self.endpoint_url, config=retries
        )

    def source(self) -> str:
        """What the stored rows came from (never a secret: no credentials, no query strings)."""
        return (
            f"file:{self.file_path}"
            if self.mode == "file"
            else f"aws:{self.endpoint_url or 'ce.' + self.region_name}"
        )
