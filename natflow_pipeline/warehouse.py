"""Delta tables under one warehouse URI (a local folder or ``s3://bucket/prefix``).

Every daily table is partitioned by its date column and rewritten one partition at a time with an
explicit predicate, in a single Delta transaction: a re-run or backfill of a day replaces exactly
that day, and a reader never sees the day half written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import random
import time

import polars as pl
from deltalake import DeltaTable, write_deltalake
from deltalake.exceptions import CommitFailedError, TableNotFoundError

#: Attempts at one partition write when another writer's commit wins the race (see write_partition).
COMMIT_ATTEMPTS = 8


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
            raise ValueError(f"{table}: rows for more than one {column} in a write of {column}={literal}")
        data = frame.to_arrow()
        for attempt in range(1, COMMIT_ATTEMPTS + 1):
            try:
                write_deltalake(
                    self.table_uri(table),
                    data,
                    mode="overwrite",
                    predicate=f"{column} = '{literal}'",
                    partition_by=[column],
                    schema_mode="merge",
                    storage_options=self._options(),
                )
                break
            except CommitFailedError as exc:
                if attempt == COMMIT_ATTEMPTS:
                    raise CommitFailedError(
                        f"{self.table_uri(table)}: {column}={literal} lost {attempt} commit races in a row: {exc}"
                    ) from exc
                # Jittered backoff, so the writers that collided do not collide again.
                time.sleep(random.uniform(0.05, 0.2) * attempt)
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
