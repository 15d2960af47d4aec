"""One way to declare a daily-partitioned Delta table asset.

``daily_table_asset(TABLE, ...)`` is ``dg.asset`` with what every daily table shares: the name
from the registry (``natflow_pipeline.tables``), the daily partitions, one run per day, the pool
named after the table, the kinds, and the declared column schema. ``daily_table_spec`` gives the
same for one table of a ``multi_asset``. Inside the function, ``partition_day`` is the day and
``written`` the standard metadata of a write, beside the asset's own (domain) metadata.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import dagster as dg
import polars as pl
import pyarrow as pa

from natflow_pipeline.concurrency import DAILY_BACKFILL_POLICY, delta_pool
from natflow_pipeline.partitions import daily_partitions
from natflow_pipeline.tables import Table
from natflow_pipeline.warehouse import Warehouse

#: What the UI shows as the asset's kinds: built with Polars, stored as Delta.
KINDS = {"polars", "delta"}


def daily_table_asset(table: Table, **asset_args: Any) -> Callable[..., dg.AssetsDefinition]:
    """``dg.asset`` for the daily table ``table``; ``asset_args`` are passed on (deps, group,
    checks, ...). The function's docstring is the asset's description."""
    return dg.asset(
        name=table.name,
        partitions_def=daily_partitions,
        backfill_policy=DAILY_BACKFILL_POLICY,
        pool=delta_pool(table.name),
        kinds=KINDS,
        metadata=definition_metadata(table),
        **asset_args,
    )


def daily_table_spec(table: Table, description: str, **spec_args: Any) -> dg.AssetSpec:
    """The ``dg.AssetSpec`` of one daily table a ``multi_asset`` writes."""
    return dg.AssetSpec(
        table.name,
        description=description,
        kinds=KINDS,
        metadata=definition_metadata(table),
        partitions_def=daily_partitions,
        **spec_args,
    )


def daily_multi_asset(
    specs: Sequence[dg.AssetSpec], **asset_args: Any
) -> Callable[..., dg.AssetsDefinition]:
    """``dg.multi_asset`` over daily-table specs: one run per day, in the first table's pool."""
    return dg.multi_asset(
        specs=list(specs),
        backfill_policy=DAILY_BACKFILL_POLICY,
        pool=delta_pool(specs[0].key.path[-1]),
        **asset_args,
    )


def partition_day(context: dg.AssetExecutionContext) -> date:
    """The UTC day the run builds (the partition key is ``YYYY-MM-DD``)."""
    return date.fromisoformat(context.partition_key)


def definition_metadata(table: Table) -> dict[str, Any]:
    """What the asset's definition says about its table: the declared columns, when declared."""
    if table.schema is None:
        return {}
    return {"dagster/column_schema": column_schema(pl.DataFrame(schema=dict(table.schema)))}


def written(
    store: Warehouse, table: Table, version: int, rows: int, schema: pl.DataFrame | pa.Schema
) -> dict[str, Any]:
    """The standard metadata of one partition write: rows of the partition and of the whole
    table (at the version written), the table's URI, its columns, and the Delta version."""
    return {
        "dagster/partition_row_count": rows,
        "dagster/row_count": store.row_count(table.name, version),
        "dagster/uri": store.table_uri(table.name),
        "dagster/column_schema": column_schema(schema),
        "delta_version": version,
    }


def write_day(
    store: Warehouse, table: Table, day: date | str, frame: pl.DataFrame
) -> dict[str, Any]:
    """Replace the day's partition of ``table`` with ``frame``; its :func:`written` metadata."""
    version = store.write_day(table, frame, day)
    return written(store, table, version, frame.height, frame)


def column_schema(schema: pl.DataFrame | pa.Schema) -> dg.TableSchema:
    """The columns of a frame (or Arrow schema) as Dagster's table schema (UI: Columns)."""
    fields = schema.to_arrow().schema if isinstance(schema, pl.DataFrame) else schema
    return dg.TableSchema(columns=[dg.TableColumn(field.name, str(field.type)) for field in fields])


def rows_per_second(rows: int, started: float) -> float:
    """Throughput since ``started`` (``time.perf_counter()``), to one decimal."""
    elapsed = time.perf_counter() - started
    return round(rows / elapsed, 1) if elapsed > 0 else 0.0
