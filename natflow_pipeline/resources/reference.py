"""Reference data: the company's IPAM and AWS's published ranges."""


from pathlib import Path

import dagster as dg
import polars as pl
from pydantic import Field

from natflow_pipeline import aws_ip_ranges, ipam
from natflow_pipeline.paths import DEFAULT_IP_RANGES, DEFAULT_IPAM_EXPORT


class IpamSource(dg.ConfigurableResource):
    """A NetBox-shaped JSON export (the embedded default)."""

    export_path: str = Field(default=str(DEFAULT_IPAM_EXPORT), description="NetBox-shaped JSON export.")
    team_source: str = Field(
        default="tenant", description="tenant | tenant_group | custom_field:<name> | tag:<prefix>"
    )
    account_field: str = Field(default="aws_account_id", description="Custom field holding the owning AWS account.")
    inherit_teams: bool = Field(default=True, description="Bare child prefixes take their nearest ancestor's team.")

    def snapshot(self) -> tuple[pl.DataFrame, str]:
        """The IPAM as a snapshot table, and a description of where it came from."""
        export = ipam.load_export(Path(self.export_path))
        frame = ipam.snapshot(
            export["prefixes"],
            export["ip_addresses"],
            export.get("tenants", []),
            team_source=ipam.TeamSource(self.team_source),
            account_field=self.account_field,
            inherit=self.inherit_teams,
        )
        return frame, f"file:{self.export_path}"


class IpRangesSource(dg.ConfigurableResource):
    """AWS's ip-ranges.json: a local file (the bundled snapshot by default)."""

    path: str = Field(default=str(DEFAULT_IP_RANGES), description="Path of an ip-ranges.json document.")

    def fetch(self) -> tuple[pl.DataFrame, str]:
        return aws_ip_ranges.parse(Path(self.path).read_bytes(), self.path), f"file:{self.path}"
