"""Where the code location reads and writes, from environment variables (defaults: the embedded data/).

One image serves every environment: a developer's `dagster dev`, the backfill tests (7 generated
days in a temporary folder, or on a moto S3 server) and a Kubernetes deployment (S3, set in the
Helm values) differ only in these variables, never in code.

| variable | resource setting | default |
| --- | --- | --- |
| NATFLOW_FLOW_LOGS_URI | flow_logs.uri | data/flowlogs |
| NATFLOW_WAREHOUSE_URI | warehouse.uri | data/warehouse |
| NATFLOW_IPAM_EXPORT | ipam.export_path | data/ipam/netbox-export.json |
| NATFLOW_IP_RANGES_PATH | ip_ranges.path | data/aws-ip-ranges/ip-ranges.json |
| NATFLOW_COST_EXPLORER_FILE | cost_explorer.file_path (mode file) | data/cost_explorer/nat-usage.json |
| NATFLOW_S3_ENDPOINT_URL | flow_logs/warehouse s3_endpoint_url | unset (AWS) |
| NATFLOW_S3_REGION | flow_logs/warehouse s3_region | unset (the AWS chain's region) |

An empty variable counts as unset, so a Helm value left blank falls back to the default.
"""

from __future__ import annotations

import os

from natflow_pipeline.paths import (
    DEFAULT_COST_EXPLORER_FILE,
    DEFAULT_FLOW_LOGS,
    DEFAULT_IP_RANGES,
    DEFAULT_IPAM_EXPORT,
    DEFAULT_WAREHOUSE,
)


def setting(name: str, default: str) -> str:
    """The environment variable ``name``, or ``default`` when it is unset or empty."""
    return os.environ.get(name) or default


def optional_setting(name: str) -> str | None:
    return os.environ.get(name) or None


def flow_logs_uri() -> str:
    return setting("NATFLOW_FLOW_LOGS_URI", str(DEFAULT_FLOW_LOGS))


def warehouse_uri() -> str:
    return setting("NATFLOW_WAREHOUSE_URI", str(DEFAULT_WAREHOUSE))


def ipam_export() -> str:
    return setting("NATFLOW_IPAM_EXPORT", str(DEFAULT_IPAM_EXPORT))


def ip_ranges_path() -> str:
    return setting("NATFLOW_IP_RANGES_PATH", str(DEFAULT_IP_RANGES))


def cost_explorer_file() -> str:
    return setting("NATFLOW_COST_EXPLORER_FILE", str(DEFAULT_COST_EXPLORER_FILE))


def s3_endpoint_url() -> str | None:
    return optional_setting("NATFLOW_S3_ENDPOINT_URL")


def s3_region() -> str | None:
    return optional_setting("NATFLOW_S3_REGION")
