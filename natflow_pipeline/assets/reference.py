"""Reference data the enrichment joins against: IPAM snapshots and AWS ip-ranges versions."""

from datetime import date, datetime, timedelta, timezone

import dagster as dg
import polars as pl

from natflow_pipeline import aws_ip_ranges as ranges_table
from natflow_pipeline import tables
from natflow_pipeline.assets.daily import (
    KINDS,
    daily_table_asset,
    definition_metadata,
    partition_day,
    write_day,
    written,
)
from natflow_pipeline.concurrency import delta_pool
from natflow_pipeline.netbox import NetBoxError
from natflow_pipeline.resources.reference import IpamResource, IpRangesSource
from natflow_pipeline.resources.warehouse import WarehouseResource
from natflow_pipeline.warehouse import Warehouse

IPAM = tables.IPAM_PREFIXES
IP_RANGES = tables.AWS_IP_RANGES
IP_RANGES_LIVE_CHECK = "fetched_live"


@daily_table_asset(IPAM, group_name="reference")
def ipam_prefixes(
    context: dg.AssetExecutionContext, ipam: IpamResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """The company's IPAM (NetBox prefixes and IP addresses with their team and owning account)
    as a daily snapshot, so re-attributing an old day uses the IPAM of that day."""
    day = partition_day(context)
    try:
        frame, source = ipam.snapshot()
    except NetBoxError as exc:
        # Nothing has been written yet: the day keeps whatever snapshot it had (or none).
        raise dg.Failure(
            description=f"{IPAM.name} {day}: {exc}; no snapshot written",
            metadata={
                "service": exc.url,
                "http_status": exc.status if exc.status is not None else "none",
            },
        ) from None
    store = warehouse.get()
    write = write_day(
        store, IPAM, day, frame.with_columns(pl.lit(day).alias(IPAM.partition_column))
    )
    teams = frame["effective_team"].drop_nulls().unique()
    return dg.MaterializeResult(
        metadata={
            "source": source,
            "prefixes": int((frame["kind"] == "prefix").sum()),
            "ip_addresses": int((frame["kind"] == "ip_address").sum()),
            "teams": teams.len(),
            "entries_without_team": int(frame["effective_team"].is_null().sum()),
            **write,
        }
    )


@dg.asset(
    name=IP_RANGES.name,
    group_name="reference",
    pool=delta_pool(IP_RANGES.name),
    kinds=KINDS,
    metadata=definition_metadata(IP_RANGES),
    check_specs=[
        dg.AssetCheckSpec(
            IP_RANGES_LIVE_CHECK,
            asset=IP_RANGES.name,
            description="ip-ranges.json came from its URL, not from a fallback.",
        )
    ],
)
def aws_ip_ranges(
    context: dg.AssetExecutionContext, ip_ranges: IpRangesSource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """AWS's published ip-ranges.json, one version per syncToken (stored once). Each day is
    matched against the version in force that day; when the URL cannot be reached, the last
    stored version (else the bundled snapshot) is used, and a WARN check says so."""
    store = warehouse.get()
    unreachable = None
    try:
        frame, source = ip_ranges.fetch()
    except ranges_table.Unreachable as exc:
        unreachable = str(exc)
        context.log.warning(f"ip-ranges.json unreachable, falling back: {unreachable}")
        frame, source = _fallback(store, ip_ranges)
    except ranges_table.IpRangesError as exc:
        raise dg.Failure(
            description=f"{IP_RANGES.name}: invalid ip-ranges.json, nothing stored: {exc}"
        ) from None
    token = frame["sync_token"][0]
    stored = token in store.partition_values(IP_RANGES.name, IP_RANGES.partition_column)
    # A version already stored is not written again: the metadata then describes the table as is.
    version = store.version(IP_RANGES.name) if stored else store.write_day(IP_RANGES, frame, token)
    return dg.MaterializeResult(
        metadata={
            **written(store, IP_RANGES, version, frame.height, frame),
            "source": source,
            "fetched_live": unreachable is None,
            "fetch_error": unreachable or "",
            "sync_token": token,
            "create_date": frame["create_date"][0].isoformat(),
            "prefixes": frame.height,
            "new_version": not stored,
            "versions_stored": len(
                store.partition_values(IP_RANGES.name, IP_RANGES.partition_column)
            ),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=IP_RANGES_LIVE_CHECK,
                passed=unreachable is None,
                severity=dg.AssetCheckSeverity.WARN,
                description=f"using {source}: {unreachable}"
                if unreachable
                else f"fetched {source}",
                metadata={"source": source, "sync_token": token},
            )
        ],
    )


def _fallback(store: Warehouse, ip_ranges: IpRangesSource) -> tuple[pl.DataFrame, str]:
    """The newest stored version (by createDate), else the bundled snapshot."""
    if store.exists(IP_RANGES.name):
        versions = _versions(store)
        if versions.height:
            token = versions["sync_token"][-1]
            return store.read_day(IP_RANGES, token), f"fallback:stored syncToken {token}"
    return ip_ranges.fallback(), f"fallback:bundled {ip_ranges.fallback_path}"


def ipam_snapshot_for(store: Warehouse, day: date) -> tuple[pl.DataFrame, str]:
    """The IPAM snapshot of ``day``, else the nearest earlier one; fails when there is none."""
    dates = [
        d for d in store.partition_values(IPAM.name, IPAM.partition_column) if d <= day.isoformat()
    ]
    if not dates:
        raise dg.Failure(
            f"no {IPAM.name} snapshot on or before {day}: materialize {IPAM.name} for {day} first"
        )
    chosen = max(dates)
    return store.read_day(IPAM, date.fromisoformat(chosen)), chosen


def ip_ranges_token_for(store: Warehouse, day: date) -> str:
    """The sync token of the ip-ranges version in force on ``day`` (newest created before the day
    ended), else of the oldest stored one (a day older than every stored version). Only two
    columns are scanned: a re-attribution that reuses every external answer needs no more."""
    versions = _versions(store)
    if versions.is_empty():
        raise dg.Failure(f"no {IP_RANGES.name} version stored: materialize {IP_RANGES.name} first")
    day_end = datetime(day.year, day.month, day.day, tzinfo=timezone.utc) + timedelta(days=1)
    in_force = versions.filter(pl.col("create_date") < day_end)
    return (in_force if in_force.height else versions.head(1))["sync_token"][-1]


def ip_ranges_version(store: Warehouse, sync_token: str) -> pl.DataFrame:
    """Every prefix of one stored ip-ranges version."""
    return store.read_day(IP_RANGES, sync_token)


def _versions(store: Warehouse) -> pl.DataFrame:
    """Each stored ip-ranges version (sync token, create date), oldest first."""
    return (
        store.scan(IP_RANGES.name)
        .select("sync_token", "create_date")
        .unique()
        .sort("create_date")
        .collect()
    )
