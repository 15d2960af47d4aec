"""The one place S3 client settings are built, for s3fs (flow logs, the dashboard, the streamed
Delta writes) and for delta-rs (every Delta read and write): both take the same endpoint and
region from the resources. Credentials are never passed: each library takes them from the
environment (keys, a profile, or an instance role)."""

from __future__ import annotations

import fsspec
from fsspec import AbstractFileSystem

S3 = "s3://"


def delta_storage_options(endpoint_url: str | None, region: str | None) -> dict[str, str]:
    """delta-rs ``storage_options`` for an S3-compatible endpoint and region (both optional)."""
    options: dict[str, str] = {}
    if endpoint_url:
        options["AWS_ENDPOINT_URL"] = endpoint_url
        if endpoint_url.startswith("http://"):
            options["AWS_ALLOW_HTTP"] = "true"
    if region:
        options["AWS_REGION"] = region
    return options


def filesystem_for(
    uri: str, endpoint_url: str | None = None, region: str | None = None
) -> AbstractFileSystem:
    """s3fs for an ``s3://`` URI (a fresh instance: settings differ between tests and
    resources), the local filesystem otherwise."""
    if not uri.startswith(S3):
        return fsspec.filesystem("file")
    client = {
        key: value
        for key, value in {"endpoint_url": endpoint_url, "region_name": region}.items()
        if value
    }
    return fsspec.filesystem("s3", client_kwargs=client, skip_instance_cache=True)
