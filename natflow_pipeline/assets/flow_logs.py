"""Raw flow log deliveries (observed, never copied) and the day's NAT rows."""

import hashlib
import time
from datetime import date

import dagster as dg
import polars as pl

from natflow_pipeline.assets.metadata import markdown_table
from natflow_pipeline.concurrency import DAILY_BACKFILL_POLICY, delta_pool
from natflow_pipeline.flowlogs.day import read_day
from natflow_pipeline.partitions import daily_partitions
from natflow_pipeline.resources.flow_logs import FlowLogSource
from natflow_pipeline.resources.warehouse import WarehouseResource

FILES_TABLE = "flow_log_files"
REJECTED_TABLE = "rejected_flow_log_lines"


@dg.observable_source_asset(
    partitions_def=daily_partitions,
    group_name="flow_logs",
    description="VPC Flow Log objects AWS delivered for each UTC day (plus the next day's first "
    "delivery window), read in place from S3 or a local folder. Observing records a data version "
    "per day from the objects' keys and sizes, so a late delivery shows as a changed day.",
)
def raw_flow_logs(
    context: dg.AssetExecutionContext, flow_logs: FlowLogSource
) -> dg.DataVersionsByPartition:
    versions: dict[str, dg.DataVersion] = {}
    for key in daily_partitions.get_partition_keys(dynamic_partitions_store=context.instance):
        objects = flow_logs.objects_for_day(date.fromisoformat(key))
        if objects:
            digest = hashlib.sha256(
                "\n".join(f"{o.path}:{o.size}" for o in objects).encode()
            ).hexdigest()[:16]
            versions[key] = dg.DataVersion(digest)
    return dg.DataVersionsByPartition(versions)


@dg.asset(
    partitions_def=daily_partitions,
    deps=[raw_flow_logs],
    group_name="flow_logs",
    pool=delta_pool("nat_flows"),
    backfill_policy=DAILY_BACKFILL_POLICY,
    check_specs=[dg.AssetCheckSpec("rows_accounted_for", asset="nat_flows", blocking=True)],
    description="Flow log rows where NAT translation happened (srcaddr != pkt-srcaddr or "
    "dstaddr != pkt-dstaddr: the client-side legs), typed, with direction and internal/external "
    "side. Every row read is kept, filtered (not NAT, no data, another day) or rejected, and "
    "counted; per-file counts (with status read/duplicate/rejected) go to flow_log_files, rejected "
    "lines (a sample of up to 1000 per day) to rejected_flow_log_lines.",
)
def nat_flows(
    context: dg.AssetExecutionContext, flow_logs: FlowLogSource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    day = date.fromisoformat(context.partition_key)
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
        version = store.write_partition_stream(
            "nat_flows", result.nat_flows.reader(), "usage_date", day
        )
    finally:
        result.nat_flows.close()  # a write that failed partway stops the reading threads at once
    elapsed = time.perf_counter() - started
    store.write_partition(
        FILES_TABLE, result.files.with_columns(pl.lit(day).alias("usage_date")), "usage_date", day
    )
    store.write_partition(
        REJECTED_TABLE,
        result.rejected_sample.with_columns(pl.lit(day).alias("usage_date")),
        "usage_date",
        day,
    )
    context.log_event(
        dg.AssetObservation(
            asset_key=raw_flow_logs.key,
            partition=context.partition_key,
            metadata={"files": len(objects), "size_bytes": sum(o.size for o in objects)},
        )
    )
    totals = result.totals()
    written = result.nat_flows.streamed_rows
    balanced = result.balanced() and written == totals["rows_kept"]
    identity = (
        f"read {totals['rows_read']:,} = kept {totals['rows_kept']:,} "
        f"+ filtered {totals['rows_filtered']:,} + rejected {totals['rows_rejected']:,}"
    )
    if result.files_rejected_by_reason:
        context.log.warning(
            f"{totals['files_rejected']} unreadable file(s) skipped for {day}: "
            f"{result.files_rejected_by_reason}"
        )
    return dg.MaterializeResult(
        metadata={
            "files_listed": len(objects),
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
            "rejected_lines_table": store.table_uri(REJECTED_TABLE),
            "nat_bytes": totals["nat_bytes"],
            "rows_per_second": round(totals["rows_read"] / elapsed, 1) if elapsed > 0 else 0.0,
            "delta_version": version,
            "table_uri": store.table_uri("nat_flows"),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="rows_accounted_for",
                passed=balanced,
                metadata={
                    "read": totals["rows_read"],
                    "kept": totals["rows_kept"],
                    "filtered": totals["rows_filtered"],
                    "rejected": totals["rows_rejected"],
                    "written": written,
                },
                description="per file, rows read = kept + filtered + rejected; "
                "rows written = rows kept",
            )
        ],
    )
