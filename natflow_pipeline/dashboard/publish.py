"""Write the rendered dashboard to a local folder or an S3 prefix (through fsspec/s3fs, as the flow
log reader does), replacing the previous file in one write."""

from __future__ import annotations

from pathlib import Path

import fsspec

DASHBOARD_FILE = "natflow-dashboard.html"


def reports_location(reports_uri: str | None, warehouse_uri: str) -> str:
    """The configured reports folder, or ``reports/`` under the warehouse."""
    return (reports_uri or f"{warehouse_uri.rstrip('/')}/reports").rstrip("/")


def write_dashboard(
    html: str, folder: str, s3_endpoint_url: str | None = None, s3_region: str | None = None
) -> str:
    """Write ``html`` as ``<folder>/natflow-dashboard.html``; returns where it went."""
    target = f"{folder}/{DASHBOARD_FILE}"
    if folder.startswith("s3://"):
        client_kwargs = {
            k: v
            for k, v in {"endpoint_url": s3_endpoint_url, "region_name": s3_region}.items()
            if v
        }
        with fsspec.open(
            target, "wb", client_kwargs=client_kwargs, skip_instance_cache=True
        ) as handle:
            handle.write(html.encode("utf-8"))
        return target
    path = Path(folder).resolve() / DASHBOARD_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".html.partial")
    partial.write_text(html, encoding="utf-8")
    partial.replace(path)  # a reader (or a browser reload) never sees half a file
    return str(path)
