"""``python -m natflow_pipeline.focus_export``: write days of ``focus_network_costs`` (FOCUS 1.2)
as Parquet or CSV files, one per day, to a local folder or an ``s3://bucket/prefix``.

The table is read from the warehouse the code location uses (``NATFLOW_WAREHOUSE_URI``, or
``--warehouse``; ``NATFLOW_S3_ENDPOINT_URL`` / ``NATFLOW_S3_REGION`` for S3; see
natflow_pipeline.settings); the same S3 settings apply to an ``s3://`` destination. Files are named
``focus_network_costs_<YYYY-MM-DD>.<parquet|csv>``. CSV writes numbers without exponents and
Date/Time values as ``YYYY-MM-DDTHH:MM:SSZ`` (FOCUS Numeric and Date/Time Format).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from natflow_pipeline import settings, tables
from natflow_pipeline.focus import ROW_ORDER
from natflow_pipeline.storage import S3, filesystem_for
from natflow_pipeline.warehouse import Warehouse, warehouse_from_settings

TABLE = tables.FOCUS_NETWORK_COSTS
FORMATS = ("parquet", "csv")
#: FOCUS Date/Time Format: ISO 8601 in UTC, with the Z designator.
CSV_DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class ExportError(Exception):
    """Nothing to export: no table, or days without rows (the message names them)."""


def days_between(start: date, end: date) -> list[date]:
    if end < start:
        raise ExportError(f"--end {end} is before --start {start}")
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def file_name(day: date, fmt: str) -> str:
    return f"{TABLE.name}_{day.isoformat()}.{fmt}"


def read_days(store: Warehouse, days: Sequence[date]) -> dict[date, pl.DataFrame]:
    """Each day's rows; an error naming the table and every day without rows."""
    if not store.exists(TABLE.name):
        raise ExportError(
            f"{TABLE.name}: no table at {store.table_uri(TABLE.name)}; materialize the asset "
            f"{TABLE.name} for the days first"
        )
    present = set(store.partition_values(TABLE.name, TABLE.partition_column))
    missing = [d.isoformat() for d in days if d.isoformat() not in present]
    if missing:
        raise ExportError(
            f"{TABLE.name} at {store.table_uri(TABLE.name)} has no rows for "
            f"{', '.join(missing)} (not materialized, or no NAT traffic that day); "
            "nothing was written"
        )
    return {day: store.read_day(TABLE, day).sort(ROW_ORDER) for day in days}


def write(frame: pl.DataFrame, fmt: str, destination: str, day: date) -> str:
    """Write one day's file under ``destination`` (folder or s3:// prefix); its path."""
    fs = filesystem_for(destination, settings.s3_endpoint_url(), settings.s3_region())
    if destination.startswith(S3):
        path = f"{destination.rstrip('/')}/{file_name(day, fmt)}"
    else:
        Path(destination).mkdir(parents=True, exist_ok=True)
        path = str(Path(destination) / file_name(day, fmt))
    with fs.open(path, "wb") as handle:
        if fmt == "parquet":
            frame.write_parquet(handle)
        else:
            frame.write_csv(handle, datetime_format=CSV_DATETIME_FORMAT, float_scientific=False)
    return path


def export(
    start: date, end: date, fmt: str, destination: str, warehouse_uri: str | None = None
) -> list[str]:
    """Write every day from ``start`` to ``end`` (inclusive) of the warehouse at
    ``warehouse_uri`` (default: the settings'); the paths written. Every day is read before the
    first file is written, so a missing day writes nothing."""
    if fmt not in FORMATS:
        raise ExportError(f"--format {fmt!r}: one of {', '.join(FORMATS)}")
    frames = read_days(warehouse_from_settings(warehouse_uri), days_between(start, end))
    return [write(frame, fmt, destination, day) for day, frame in frames.items()]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m natflow_pipeline.focus_export",
        description="Write focus_network_costs (FOCUS 1.2) as one Parquet or CSV file per day.",
    )
    parser.add_argument("--start", required=True, type=date.fromisoformat, help="YYYY-MM-DD")
    parser.add_argument(
        "--end", required=True, type=date.fromisoformat, help="YYYY-MM-DD (inclusive)"
    )
    parser.add_argument("--format", required=True, choices=FORMATS, dest="fmt")
    parser.add_argument("--to", required=True, help="local folder or s3://bucket/prefix")
    parser.add_argument(
        "--warehouse", help="warehouse folder or s3:// URI (default: NATFLOW_WAREHOUSE_URI)"
    )
    args = parser.parse_args(argv)
    try:
        paths = export(args.start, args.end, args.fmt, args.to, args.warehouse)
    except ExportError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
