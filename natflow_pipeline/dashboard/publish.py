"""Write the rendered dashboard to a local folder or an S3 prefix (through fsspec/s3fs, as the flow
log reader does), replacing the previous file in one write."""

from __future__ import annotations

from pathlib import Path

from fsspec import AbstractFileSystem

from natflow_pipeline.storage import S3

DASHBOARD_FILE = "natflow-dashboard.html"


def reports_location(reports_uri: str | None, warehouse_uri: str) -> str:
    """The configured reports folder, or ``reports/`` under the warehouse."""
    return (reports_uri or f"{warehouse_uri.rstrip('/')}/reports").rstrip("/")


def write_dashboard(html: str, folder: str, fs: AbstractFileSystem) -> str:
    """Write ``html`` as ``<folder>/natflow-dashboard.html`` through ``fs`` (the warehouse
    resource's filesystem for ``folder``); returns where it went."""
    if folder.startswith(S3):
        target = f"{folder}/{DASHBOARD_FILE}"
        with fs.open(target, "wb") as handle:  # one PUT: readers see the old or the new file
            handle.write(html.encode("utf-8"))
        return target
    path = Path(folder).resolve() / DASHBOARD_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".html.partial")
    partial.write_text(html, encoding="utf-8")
    partial.replace(path)  # a reader (or a browser reload) never sees half a file
    return str(path)
