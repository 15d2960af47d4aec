"""Delta tables under one warehouse URI (a local folder or ``s3://bucket/prefix``).

Every daily table is partitioned by its date column and rewritten one partition at a time with an
explicit predicate, in a single Delta transaction: a re-run or backfill of a day replaces exactly
that day, and a reader never sees the day half written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import polars as pl
import pyarrow as pa
from deltalake import DeltaTable, write_deltalake
from deltalake.exceptions import TableNotFoundError


@dataclass(frozen=True)
class Warehouse:
    uri: str
    storage_options: Mapping[str, str] = field(default_factory=dict)

    def table_uri(self, table: str) -> str:
        return f"{self.uri.rstrip('/')}/{table}"

    def _options(self) -> dict[str, str] | None:
        return dict(self.storage_options) or None

    def write_partition(self, table: str, frame: pl.DataFrame, column: str, value: date | str) -> int:
        """Replace the rows of ``column == value`` with ``frame`` (which must hold only that value).

        Returns the Delta version written. New columns are merged into the table's schema, so
        adding a column is not a breaking change for readers.
        """
        literal = value.isoformat() if isinstance(value, date) else str(value)
        if frame.height and frame[column].n_unique() != 1:
            raise ValueError(f"{table}: rows for more than one {column} in a write of {column}={literal}")
        write_deltalake(
            self.table_uri(table),
            frame.to_arrow(),
            mode="overwrite",
            predicate=f"{column} = '{literal}'",
            partition_by=[column],
            schema_mode="merge",
            storage_options=self._options(),
        )
        return self.version(table)

    def write_partition_stream(self, table: str, batches: pa.RecordBatchReader, column: str, value: date | str) -> int:
        """:meth:`write_partition` from a stream of record batches, so the partition never has to be
        in memory at once; still one Delta transaction. The batches must hold only ``value``."""
        literal = value.isoformat() if isinstance(value, date) else str(value)
        write_deltalake(
            self.table_uri(table),
            batches,
            mode="overwrite",
            predicate=f"{column} = '{literal}'",
            partition_by=[column],
            schema_mode="merge",
            storage_options=self._options(),
        )
        return self.version(table)

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

    def read_partition(self, table: str, column: str, value: date | str, columns: list[str] | None = None) -> pl.DataFrame:
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
