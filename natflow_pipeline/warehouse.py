"""Delta tables under one warehouse URI (a local folder or ``s3://bucket/prefix``).

Every daily table is partitioned by its date column and rewritten one partition at a time with an
explicit predicate, in a single Delta transaction: a re-run or backfill of a day replaces exactly
that day, and a reader never sees the day half written.
"""

from __future__ import annotations

import itertools
import json
import random
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import fsspec
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from deltalake import CommitProperties, DeltaTable, write_deltalake
from deltalake import Schema as DeltaSchema
from deltalake.exceptions import CommitFailedError, TableNotFoundError
from deltalake.transaction import AddAction, create_table_with_add_actions

from natflow_pipeline import settings
from natflow_pipeline.storage import S3, delta_storage_options, filesystem_for
from natflow_pipeline.tables import Table

#: Rows per data file written by :meth:`Warehouse.write_partition_stream` (bounds its memory).
ROWS_PER_DATA_FILE = 1_000_000
#: Attempts at one partition write when another writer's commit wins the race (see
#: write_partition).
COMMIT_ATTEMPTS = 8
#: The commitInfo key that tags each of natflow's commits with a write id of its own, so the
#: version a write produced is found in the history, whatever other writers committed since.
WRITE_ID_KEY = "natflow.write_id"


@dataclass(frozen=True)
class Warehouse:
    uri: str
    storage_options: Mapping[str, str] = field(default_factory=dict)

    def table_uri(self, table: str) -> str:
        return f"{self.uri.rstrip('/')}/{table}"

    def _options(self) -> dict[str, str] | None:
        return dict(self.storage_options) or None

    def write_partition(
        self, table: str, frame: pl.DataFrame, column: str, value: date | str
    ) -> int:
        """Replace the rows of ``column == value`` with ``frame`` (which must hold only that value).

        Returns the version of this write's own commit (not the table's latest, which can already
        be another writer's). New columns are merged into the table's schema, so
        adding a column is not a breaking change for readers.

        Concurrent writers (a backfill runs several days at once) are safe: every commit is a
        put-if-absent of the next ``_delta_log`` entry (an atomic rename locally, S3's conditional
        write ``If-None-Match`` on S3, delta-rs's default since 1.0), and delta-rs lets a commit
        through when the winner touched other partitions. What it cannot resolve is raised as
        ``CommitFailedError``: two writers creating the table at once, a concurrent schema merge,
        or two writers of the same partition. The write is then retried against the new table
        state; an overwrite of one partition is idempotent, so a retry never duplicates rows.
        """
        literal = value.isoformat() if isinstance(value, date) else str(value)
        if frame.height and frame[column].n_unique() != 1:
            raise ValueError(
                f"{table}: rows for more than one {column} in a write of {column}={literal}"
            )
        data = frame.to_arrow()
        self._ensure_table(table, data.schema, column)
        return self._commit_with_retries(
            table,
            f"{column}={literal}",
            lambda properties: write_deltalake(
                self.table_uri(table),
                data,
                mode="overwrite",
                predicate=f"{column} = '{literal}'",
                partition_by=[column],
                schema_mode="merge",
                storage_options=self._options(),
                commit_properties=properties,
            ),
        )

    def _ensure_table(self, table: str, schema: pa.Schema, column: str) -> None:
        """Create the (empty) table before the first partition write, so that writes only ever
        overwrite a partition of an existing table.

        Two writers that both found no table and both wrote their day as the table's first commit
        could otherwise both land: the loser's commit was planned against no table, removes
        nothing, and passes delta-rs's conflict check as a blind append, duplicating the day (seen
        once in CI on moto S3, 2026-11-27). Against an existing table, writers of the same
        partition conflict, and the loser is retried.
        """
        if self.exists(table):
            return
        try:
            DeltaTable.create(
                self.table_uri(table),
                schema,
                mode="ignore",
                partition_by=[column],
                storage_options=self._options(),
            )
        except Exception:
            # another writer created it first (a lost put-if-absent); anything else re-raises
            if not self.exists(table):
                raise

    def _commit_with_retries(
        self, table: str, partition: str, commit: Callable[[CommitProperties], None]
    ) -> int:
        """Run ``commit`` again when another writer's commit to the table won the race, and return
        the version of the commit that landed.

        S3 conditional writes (delta-rs 1.x's default) make the loser fail instead of overwrite;
        rewriting one day is idempotent, so trying again is safe. delta-rs's writers return
        nothing, and ``version()`` read after the commit can already be another writer's (a
        backfill runs ten days at once), so each commit carries a write id in its commitInfo and
        the version is the log entry that holds it.
        """
        write_id = uuid.uuid4().hex
        properties = CommitProperties(custom_metadata={WRITE_ID_KEY: write_id})
        for attempt in range(1, COMMIT_ATTEMPTS + 1):
            try:
                commit(properties)
                return self._version_of(table, write_id)
            except CommitFailedError as exc:
                if attempt == COMMIT_ATTEMPTS:
                    raise CommitFailedError(
                        f"{self.table_uri(table)}: {partition} lost {attempt} commit races in a "
                        f"row: {exc}"
                    ) from exc
                # Jittered backoff, so the writers that collided do not collide again.
                time.sleep(random.uniform(0.05, 0.2) * attempt)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _version_of(self, table: str, write_id: str) -> int:
        """The version of the commit tagged ``write_id``, found by reading the commit entries
        (``_delta_log/<version>.json``) back from the latest version.

        Hand-written on purpose: deltalake 1.6.6's ``DeltaTable.history()`` numbers its entries by
        counting down from a latest version it reads separately, so with other writers committing
        at the same moment the numbers are shifted (measured: ten concurrent writers, two of them
        were handed the same version).
        """
        latest = self.version(table)
        fs, root = self._filesystem(table)
        for version in range(latest, -1, -1):
            with fs.open(f"{root}/_delta_log/{version:020d}.json", "rb") as entry:
                for line in entry:
                    action = json.loads(line)
                    if action.get("commitInfo", {}).get(WRITE_ID_KEY) == write_id:
                        return version
        raise RuntimeError(f"{self.table_uri(table)}: commit {write_id} is not in the table's log")

    def write_partition_stream(
        self, table: str, batches: pa.RecordBatchReader, column: str, value: date | str
    ) -> int:
        """:meth:`write_partition` from a stream of record batches, in bounded memory; still one
        Delta transaction. The batches must hold only ``value`` in ``column``.

        Hand-written on purpose: deltalake 1.6.6's ``write_deltalake`` accepts a
        RecordBatchReader but materialises it (measured: ~300 bytes per row held until the commit;
        delta-rs issues #2255, #3578). Here the batches go straight into Parquet data files under
        the partition folder (``ROWS_PER_DATA_FILE`` rows each), and one ``overwrite`` commit with
        a partition filter swaps the day's old files for them
        (``DeltaTable.create_write_transaction``).
        """
        literal = value.isoformat() if isinstance(value, date) else str(value)
        schema = batches.schema
        # Pull the first batch before touching the table: a stream that fails at once (the day's
        # producer raising on its first file) then leaves no trace, not even an empty table.
        stream = iter(batches)
        first = next(stream, None)
        self._ensure_table(table, schema, column)
        file_schema = pa.schema([f for f in schema if f.name != column])
        fs, root = self._filesystem(table)
        adds: list[AddAction] = []
        writer: pq.ParquetWriter | None = None
        handle = None
        path = ""
        rows = 0

        def close() -> None:
            nonlocal writer, handle
            if writer is None:
                return
            writer.close()
            handle.close()
            size = fs.info(f"{root}/{path}")["size"]
            stats = json.dumps({"numRecords": rows})
            adds.append(
                AddAction(path, size, {column: literal}, int(time.time() * 1000), True, stats)
            )
            writer = handle = None

        for batch in itertools.chain([] if first is None else [first], stream):
            if batch.num_rows == 0:
                continue
            if writer is None:
                path = f"{column}={literal}/part-{len(adds):05d}-{uuid.uuid4()}-c000.zstd.parquet"
                fs.makedirs(f"{root}/{column}={literal}", exist_ok=True)
                handle = fs.open(f"{root}/{path}", "wb")
                writer = pq.ParquetWriter(handle, file_schema, compression="zstd")
                rows = 0
            writer.write_batch(batch.drop_columns([column]))
            rows += batch.num_rows
            if rows >= ROWS_PER_DATA_FILE:
                close()
        close()

        def commit(properties: CommitProperties) -> None:
            if self.exists(table):
                dt = DeltaTable(self.table_uri(table), storage_options=self._options())
                dt.create_write_transaction(
                    adds,
                    mode="overwrite",
                    schema=schema,
                    partition_by=[column],
                    partition_filters=[(column, "=", literal)],
                    commit_properties=properties,
                )
            else:
                create_table_with_add_actions(
                    self.table_uri(table),
                    DeltaSchema.from_arrow(schema),
                    adds,
                    mode="overwrite",
                    partition_by=[column],
                    storage_options=self._options(),
                    commit_properties=properties,
                )

        return self._commit_with_retries(table, f"{column}={literal}", commit)

    def _filesystem(self, table: str) -> tuple[fsspec.AbstractFileSystem, str]:
        """An fsspec filesystem for the table's folder (s3fs for ``s3://``), and the folder."""
        uri = self.table_uri(table)
        fs = filesystem_for(
            uri,
            self.storage_options.get("AWS_ENDPOINT_URL"),
            self.storage_options.get("AWS_REGION"),
        )
        if uri.startswith(S3):
            return fs, uri.removeprefix(S3)
        return fs, str(Path(uri).absolute())

    def write_day(self, table: Table, frame: pl.DataFrame, value: date | str) -> int:
        """:meth:`write_partition` of a registered table, by its own partition column."""
        return self.write_partition(table.name, frame, table.partition_column, value)

    def write_day_stream(
        self, table: Table, batches: pa.RecordBatchReader, value: date | str
    ) -> int:
        """:meth:`write_partition_stream` of a registered table, by its own partition column."""
        return self.write_partition_stream(table.name, batches, table.partition_column, value)

    def read_day(
        self, table: Table, value: date | str, columns: list[str] | None = None
    ) -> pl.DataFrame:
        """One partition of a registered table; no rows (of its declared schema) while the table
        does not exist yet, so a first day reads like an empty one."""
        if self.exists(table.name):
            missing = self._added_since(table, columns)
            stored = [c for c in columns if c not in missing] if columns is not None else None
            frame = self.read_partition(table.name, table.partition_column, value, stored)
            if not missing:
                return frame
            # A declared column the stored table does not have yet (it was written before the
            # column was added, and no write since merged it in) reads as null, not as an error.
            nulls = [pl.lit(None, dtype=table.schema[c]).alias(c) for c in missing]
            return frame.with_columns(nulls).select(columns)
        if table.schema is None:
            raise LookupError(f"{self.table_uri(table.name)}: no such table yet")
        empty = pl.DataFrame(schema=dict(table.schema))
        return empty.select(columns) if columns is not None else empty

    def _added_since(self, table: Table, columns: list[str] | None) -> list[str]:
        """Of ``columns``, those the table declares but its stored schema lacks."""
        if columns is None or table.schema is None:
            return []
        # From the commit log (no data file is read, and no scan is made of the table).
        dt = DeltaTable(self.table_uri(table.name), storage_options=self._options())
        stored = {field.name for field in dt.schema().fields}
        return [c for c in columns if c not in stored and c in table.schema]

    def row_count(self, table: str, version: int | None = None) -> int:
        """Rows in the table (at ``version``), from the commit log's file statistics: no data
        file is read."""
        dt = DeltaTable(self.table_uri(table), version=version, storage_options=self._options())
        actions = pa.table(dt.get_add_actions(flatten=True))
        return int(pc.sum(actions["num_records"]).as_py() or 0)

    def version(self, table: str) -> int:
        return DeltaTable(self.table_uri(table), storage_options=self._options()).version()

    def exists(self, table: str) -> bool:
        try:
            DeltaTable(self.table_uri(table), storage_options=self._options())
        except TableNotFoundError:
            return False
        return True

    def scan(self, table: str) -> pl.LazyFrame:
        return pl.scan_delta(self.table_uri(table), storage_options=self._options())

    def read_partition(
        self, table: str, column: str, value: date | str, columns: list[str] | None = None
    ) -> pl.DataFrame:
        frame = self.scan(table).filter(pl.col(column) == pl.lit(value))
        if columns is not None:
            frame = frame.select(columns)
        return frame.collect()

    def partition_values(self, table: str, column: str) -> list[str]:
        """The values of a partition column present in the table (sorted), without reading data."""
        if not self.exists(table):
            return []
        dt = DeltaTable(self.table_uri(table), storage_options=self._options())
        values = {p[column] for p in dt.partitions()}
        return sorted(v for v in values if v is not None)


def warehouse_from_settings(uri: str | None = None) -> Warehouse:
    """The warehouse of the code location's settings (``NATFLOW_WAREHOUSE_URI``, and
    ``NATFLOW_S3_ENDPOINT_URL`` / ``NATFLOW_S3_REGION`` for S3; natflow_pipeline.settings reads
    them); ``uri`` overrides its location. For the command-line tools (report, focus_export)."""
    return Warehouse(
        uri or settings.warehouse_uri(),
        delta_storage_options(settings.s3_endpoint_url(), settings.s3_region()),
    )
