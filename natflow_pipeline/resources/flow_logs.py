"""Where raw flow log deliveries are read from: a local folder or an S3 prefix (through s3fs)."""

from dataclasses import replace
from datetime import date, timedelta
from typing import Literal

import dagster as dg
from fsspec import AbstractFileSystem
from pydantic import Field

from natflow_pipeline.flowlogs.layout import FlowLogObject, objects_for_day
from natflow_pipeline.flowlogs.nat import DEFAULT_INTERNAL_CIDRS
from natflow_pipeline.paths import DEFAULT_FLOW_LOGS
from natflow_pipeline.storage import filesystem_for


class FlowLogSource(dg.ConfigurableResource):
    """The prefix above ``AWSLogs/`` (plain or Hive layout; several accounts and regions).

    Credentials are never configuration: s3fs takes them from the environment (AWS_ACCESS_KEY_ID /
    AWS_SECRET_ACCESS_KEY, a profile, or an instance role).
    """

    uri: str = Field(
        default=str(DEFAULT_FLOW_LOGS),
        description="Local folder or s3://bucket/prefix above AWSLogs/.",
    )
    lateness_minutes: int = Field(
        default=60,
        description="How far into the next day a delivery may still hold records of this day. AWS "
        "delivers roughly every 5-10 minutes; an hour covers delays without reading the next day "
        "whole.",
    )
    internal_cidrs: list[str] = Field(
        default=list(DEFAULT_INTERNAL_CIDRS),
        description="The company's address space: decides the internal side of a NAT row.",
    )
    on_unreadable_file: Literal["fail", "skip"] = Field(
        default="fail",
        description="A delivery that cannot be read at all (truncated or corrupt gzip, empty, no "
        "header, unreadable Parquet): 'fail' fails the partition naming the file; 'skip' counts "
        "it as a rejected file (reason in the metadata and in rejected_flow_log_lines) and goes "
        "on. A header without the NAT fields always fails.",
    )
    s3_endpoint_url: str | None = Field(
        default=None, description="S3-compatible endpoint (tests: a moto server)."
    )
    s3_region: str | None = Field(default=None)

    def filesystem(self) -> AbstractFileSystem:
        return filesystem_for(self.uri, self.s3_endpoint_url, self.s3_region)

    def root(self) -> str:
        return self.uri.removeprefix("s3://") if self.uri.startswith("s3://") else self.uri

    def objects_for_day(self, day: date) -> list[FlowLogObject]:
        """The day's objects; S3 paths carry ``s3://`` so errors and tables name them
        unambiguously."""
        objects = objects_for_day(
            self.filesystem(), self.root(), day, timedelta(minutes=self.lateness_minutes)
        )
        if self.uri.startswith("s3://"):
            objects = [replace(o, path=f"s3://{o.path}") for o in objects]
        return objects
