"""Raw flow log deliveries (observed, never copied) and the day's NAT rows, with the per-file
accounting and the rejected lines written beside them."""

import hashlib
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import dagster as dg
import polars as pl

from natflow_pipeline import tables
from natflow_pipeline.assets.daily import (
    daily_multi_asset,
    daily_table_spec,
    partition_day,
    rows_per_second,
    write_day,
    written,
)
from natflow_pipeline.assets.metadata import markdown_table
from natflow_pipeline.flowlogs.day import DayOfFlows, read_day
from natflow_pipeline.partitions import daily_partitions
from natflow_pipeline.resources.flow_logs import FlowLogSource
from natflow_pipeline.resources.warehouse import WarehouseResource

GROUP = "flow_logs"
ROWS_CHECK = "rows_accounted_for"


#: Run tags that choose what an observation lists (observable source assets take no run config):
#: set them in the launchpad, or ``dagster asset materialize --tags``.
OBSERVE_START_TAG = "natflow/observe_start_date"
OBSERVE_END_TAG = "natflow/observe_end_date"
OBSERVE_RECENT_TAG = "natflow/observe_recent_days"


@dataclass(frozen=True)
class ObserveRange:
    """Which days an observation lists. Only recent days can still change (AWS delivers within
    the hour, late files within a day or two), so by default the last ``recent_days`` UTC days;
    a ``start_date`` (and ``end_date``, default today) re-observes a range instead, e.g. after a
    re-delivery."""

    recent_days: int = 3
    start_date: str | None = None
    end_date: str | None = None

    @classmethod
    def from_tags(cls, tags: Mapping[str, str]) -> "ObserveRange":
        recent = tags.get(OBSERVE_RECENT_TAG)
        return cls(
            recent_days=int(recent) if recent else cls.recent_days,
            start_date=tags.get(OBSERVE_START_TAG) or None,
            end_date=tags.get(OBSERVE_END_TAG) or None,
        )

    def days(self, keys: list[str], today: date) -> list[str]:
        """The partition keys to observe, of ``keys`` (every partition)."""
        if self.start_date:
            last = self.end_date or today.isoformat()
            return [k for k in keys if self.start_date <= k <= last]
        first = (today - timedelta(days=self.recent_days - 1)).isoformat()
        return [k for k in keys if first <= k <= today.isoformat()]


@dg.observable_source_asset(
    partitions_def=daily_partitions,
    group_name=GROUP,
    # observable source assets do not take the docstring as their description
    description="VPC Flow Log objects AWS delivered for each UTC day, read in place.",
)
def raw_flow_logs(
    context: dg.AssetExecutionContext, flow_logs: FlowLogSource
) -> dg.DataVersionsByPartition:
    """VPC Flow Log objects AWS delivered for each UTC day, read in place (S3 or a folder).

    The data version of a day is a digest of its objects' keys and sizes, so a late delivery
    shows as a changed day. Each observation lists only recent days (``ObserveRange``).
    """
    keys = daily_partitions.get_partition_keys(dynamic_partitions_store=context.instance)
    versions: dict[str, dg.DataVersion] = {}
    wanted = ObserveRange.from_tags(context.run.tags)
    for key in wanted.days(keys, datetime.now(timezone.utc).date()):
        objects = flow_logs.objects_for_day(date.fromisoformat(key))
        if objects:
            digest = hashlib.sha256(
                "\n".join(f"{o.path}:{o.size}" for o in objects).encode()
            ).hexdigest()[:16]
            versions[key] = dg.DataVersion(digest)
    return dg.DataVersionsByPartition(versions)


@daily_multi_asset(
    specs=[
        daily_table_spec(
            tables.NAT_FLOWS,
            "Flow log rows where NAT translation happened (the client-side legs), typed, with "
            "direction and internal/external side.",
            deps=[raw_flow_logs],
            group_name=GROUP,
        ),
        daily_table_spec(
            tables.FLOW_LOG_FILES,
            "Per delivery of the day: status (read/duplicate/rejected) and its rows read, kept, "
            "filtered and rejected.",
            deps=[raw_flow_logs],
            group_name=GROUP,
        ),
        daily_table_spec(
            tables.REJECTED_FLOW_LOG_LINES,
            "A sample (up to 1000 a day) of the lines rejected, with file, line and reason.",
            deps=[raw_flow_logs],
            group_name=GROUP,
        ),
    ],
    check_specs=[
        dg.AssetCheckSpec(
            ROWS_CHECK,
            asset=tables.NAT_FLOWS.name,
            blocking=True,
            description="Per file, rows read = kept + filtered + rejected; rows written = kept.",
        )
    ],
)
def nat_flows(
    context: dg.AssetExecutionContext, flow_logs: FlowLogSource, warehouse: WarehouseResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """The day's NAT rows (srcaddr != pkt-srcaddr or dstaddr != pkt-dstaddr); every row read is
    kept, filtered (not NAT, no data, another day) or rejected, and counted per file."""
    day = partition_day(context)
    started = time.perf_counter()
    objects = flow_logs.objects_for_day(day)
    if not objects:
        context.log.warning(f"no flow log objects for {day} under {flow_logs.uri}")
    fs = flow_logs.filesystem()
    store = warehouse.get()
    # NAT rows are read a batch of files at a time and streamed into one Delta transaction, so the
    # partition never holds the day in memory (see natflow_pipeline/flowlogs/day.py).
    result = read_day(
        objects, fs.cat_file, day, flow_logs.internal_cidrs, flow_logs.on_unreadable_file
    )
    try:
        batches = result.nat_flows.reader()
        version = store.write_day_stream(tables.NAT_FLOWS, batches, day)
    finally:
        result.nat_flows.close()  # a write that failed partway stops the reading threads at once
    throughput = rows_per_second(result.totals()["rows_read"], started)
    day_column = pl.lit(day).alias(tables.DAY_COLUMN)
    files_written = write_day(
        store, tables.FLOW_LOG_FILES, day, result.files.with_columns(day_column)
    )
    rejected_written = write_day(
        store, tables.REJECTED_FLOW_LOG_LINES, day, result.rejected_sample.with_columns(day_column)
    )
    context.log_event(
        dg.AssetObservation(
            asset_key=raw_flow_logs.key,
            partition=context.partition_key,
            metadata={"files": len(objects), "size_bytes": sum(o.size for o in objects)},
        )
    )
    totals = result.totals()
    streamed = result.nat_flows.streamed_rows
    if result.files_rejected_by_reason:
        context.log.warning(
            f"{totals['files_rejected']} unreadable file(s) skipped for {day}: "
            f"{result.files_rejected_by_reason}"
        )
    yield dg.MaterializeResult(
        asset_key=tables.NAT_FLOWS.name,
        metadata={
            **written(store, tables.NAT_FLOWS, version, streamed, batches.schema),
            **_accounting(result, len(objects)),
            "rejected_lines_table": store.table_uri(tables.REJECTED_FLOW_LOG_LINES.name),
            "rows_per_second": throughput,
            "table_uri": store.table_uri(tables.NAT_FLOWS.name),
        },
    )
    yield dg.MaterializeResult(
        asset_key=tables.FLOW_LOG_FILES.name,
        metadata={
            **files_written,
            "files_read": totals["files_read"],
            "files_duplicate": totals["files_duplicate"],
            "files_rejected": totals["files_rejected"],
        },
    )
    yield dg.MaterializeResult(
        asset_key=tables.REJECTED_FLOW_LOG_LINES.name,
        metadata={**rejected_written, "rows_rejected": totals["rows_rejected"]},
    )
    yield dg.AssetCheckResult(
        check_name=ROWS_CHECK,
        asset_key=tables.NAT_FLOWS.name,
        passed=result.balanced() and streamed == totals["rows_kept"],
        metadata={
            "read": totals["rows_read"],
            "kept": totals["rows_kept"],
            "filtered": totals["rows_filtered"],
            "rejected": totals["rows_rejected"],
            "written": streamed,
        },
        description="per file, rows read = kept + filtered + rejected; rows written = rows kept",
    )


def _accounting(result: DayOfFlows, files_listed: int) -> dict[str, object]:
    """Where every row of the day went, as the nat_flows page shows it."""
    totals = result.totals()
    identity = (
        f"read {totals['rows_read']:,} = kept {totals['rows_kept']:,} "
        f"+ filtered {totals['rows_filtered']:,} + rejected {totals['rows_rejected']:,}"
    )
    return {
        "files_listed": files_listed,
        "files_read": totals["files_read"],
        "files_duplicate": totals["files_duplicate"],
        "files_rejected": totals["files_rejected"],
        "files_rejected_by_reason": dg.MetadataValue.json(result.files_rejected_by_reason),
        "rows_read": totals["rows_read"],
        "rows_kept": totals["rows_kept"],
        "rows_filtered": totals["rows_filtered"],
        "rows_filtered_non_nat": totals["rows_non_nat"],
        "rows_filtered_no_data": totals["rows_no_data"],
        "rows_filtered_other_day": totals["rows_other_day"],
        "rows_rejected": totals["rows_rejected"],
        "rejected_by_reason": dg.MetadataValue.json(result.rejected_by_reason),
        "rows_identity": identity,
        "by_account_region": dg.MetadataValue.md(markdown_table(result.by_account_region())),
        "rejected_sample": dg.MetadataValue.md(markdown_table(result.rejected_sample.head(10))),
        "nat_bytes": totals["nat_bytes"],
    }
