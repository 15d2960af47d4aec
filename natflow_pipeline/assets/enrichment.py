"""NAT rows with the team of their internal side and the AWS service of their external side."""


import time
from datetime import date

import dagster as dg
import polars as pl

from natflow_pipeline import aws_ip_ranges as ranges_table
from natflow_pipeline import ipam as ipam_table
from natflow_pipeline.assets.flow_logs import nat_flows
from natflow_pipeline.assets.reference import aws_ip_ranges, ip_ranges_for, ipam_prefixes, ipam_snapshot_for
from natflow_pipeline.enrichment import enrich
from natflow_pipeline.concurrency import DAILY_BACKFILL_POLICY, delta_pool
from natflow_pipeline.partitions import daily_partitions
from natflow_pipeline.resources.warehouse import WarehouseResource


@dg.asset(
    partitions_def=daily_partitions,
    deps=[nat_flows, ipam_prefixes, aws_ip_ranges],
    group_name="enrichment",
    pool=delta_pool("enriched_nat_flows"),
    backfill_policy=DAILY_BACKFILL_POLICY,
    description="nat_flows plus team and owning account of the internal address (most specific "
    "IPAM prefix; IP address objects beat prefixes; no match: 'unattributed') and AWS service and "
    "region of the external address (most specific ip-ranges prefix; a named service beats AMAZON).",
)
def enriched_nat_flows(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    day = date.fromisoformat(context.partition_key)
    store = warehouse.get()
    started = time.perf_counter()
    flows = store.read_partition("nat_flows", "usage_date", day)
    snapshot, snapshot_date = ipam_snapshot_for(store, day)
    ranges, sync_token = ip_ranges_for(store, day)
    enriched = enrich(flows, ipam_table.lookup_intervals(snapshot), ranges_table.lookup_intervals(ranges))
    enriched = enriched.with_columns(
        pl.lit(snapshot_date).alias("ipam_snapshot_date"), pl.lit(sync_token).alias("ip_ranges_sync_token")
    ).sort("source_file", "source_line")
    elapsed = time.perf_counter() - started
    version = store.write_partition("enriched_nat_flows", enriched, "usage_date", day)
    total = int(enriched["bytes"].sum() or 0)
    unattributed = int(enriched.filter(pl.col("team") == ipam_table.UNATTRIBUTED)["bytes"].sum() or 0)
    return dg.MaterializeResult(
        metadata={
            "rows": enriched.height,
            "bytes": total,
            "unattributed_bytes_share": round(unattributed / total, 6) if total else 0.0,
            "teams": enriched["team"].n_unique(),
            "ipam_snapshot_used": snapshot_date,
            "ip_ranges_sync_token_used": sync_token,
            "rows_per_second": round(enriched.height / elapsed, 1) if elapsed > 0 else 0.0,
            "delta_version": version,
        }
    )
