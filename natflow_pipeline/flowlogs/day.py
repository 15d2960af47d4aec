"""One day's NAT rows from its delivered objects, with every row accounted for.

Objects are read one at a time, in path order, and classified in batches of about
``BATCH_ROWS`` rows (several small deliveries or one large one); each batch's NAT rows are
spooled to a Parquet part on local disk and dropped from memory, so a partition holds a few
files' worth of rows at a time, never the day. The spooled parts are then streamed back (Arrow
record batches, in ``source_file, source_line`` order) into a single Delta transaction by the
asset (``Warehouse.write_partition_stream``).

Every listed object ends up in the per-file table with a status: ``read``, ``duplicate`` (the same
delivery listed twice: read once) or ``rejected`` (unreadable, when told to skip such files).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from natflow_pipeline.flowlogs import nat
from natflow_pipeline.flowlogs.fields import FIELD_TYPES
from natflow_pipeline.flowlogs.layout import FlowLogObject, delivery_name
from natflow_pipeline.flowlogs.reader import REJECTED_SCHEMA, FlowLogFileError, ParsedFile, read_delivery

#: Without these a day's NAT bytes cannot be computed from a file.
DAY_REQUIRED_FIELDS: tuple[str, ...] = ("srcaddr", "dstaddr", "pkt_srcaddr", "pkt_dstaddr", "bytes", "start")
#: How many rejected lines a partition keeps for a user to look at (all are counted).
REJECTED_SAMPLE_SIZE = 1000

NAT_FLOWS_SCHEMA: dict[str, pl.DataType] = {
    "usage_date": pl.Date,
    "account_id": pl.String,
    "region": pl.String,
    "interface_id": pl.String,
    "direction": pl.String,
    "internal_addr": pl.String,
    "external_addr": pl.String,
    "srcaddr": pl.String,
    "dstaddr": pl.String,
    "pkt_srcaddr": pl.String,
    "pkt_dstaddr": pl.String,
    "srcport": FIELD_TYPES["srcport"],
    "dstport": FIELD_TYPES["dstport"],
    "protocol": FIELD_TYPES["protocol"],
    "packets": FIELD_TYPES["packets"],
    "bytes": FIELD_TYPES["bytes"],
    "start": FIELD_TYPES["start"],
    "end": FIELD_TYPES["end"],
    "action": pl.String,
    "vpc_id": pl.String,
    "subnet_id": pl.String,
    "flow_direction": pl.String,
    "pkt_src_aws_service": pl.String,
    "pkt_dst_aws_service": pl.String,
    "source_file": pl.String,
    "source_line": pl.Int64,
}
#: Rows in a day's output are ordered by these, so a re-run writes identical content.
NAT_FLOWS_ORDER: tuple[str, ...] = ("source_file", "source_line")
#: Rows classified together: enough to amortise per-call overhead over small deliveries, few
#: enough that a partition holds a few files' worth of rows at a time.
BATCH_ROWS = 200_000
#: Rows per Arrow batch when streaming the spooled parts into Delta.
STREAM_BATCH_ROWS = 64 * 1024

READ = "read"
DUPLICATE = "duplicate"
REJECTED = "rejected"
#: What to do with an object that cannot be read at all (corrupt/truncated gzip, empty, no header).
UnreadablePolicy = Literal["fail", "skip"]

FILE_STATS_SCHEMA: dict[str, pl.DataType] = {
    "file": pl.String,
    "account_id": pl.String,
    "region": pl.String,
    "delivered_at": pl.Datetime("us", "UTC"),
    "size_bytes": pl.Int64,
    "rows_read": pl.Int64,
    "rows_kept": pl.Int64,
    "rows_non_nat": pl.Int64,
    "rows_no_data": pl.Int64,
    "rows_other_day": pl.Int64,
    "rows_rejected": pl.Int64,
    "nat_bytes": pl.Int64,
    "status": pl.String,  # read | duplicate | rejected
    "duplicate_of": pl.String,  # the path read instead, for a duplicate
    "error": pl.String,  # why a rejected file could not be read (reason code: message)
}


class MissingNatFieldsError(FlowLogFileError):
    """The header lacks fields the NAT logic needs: a flow log format problem, never skipped."""


@dataclass
class SpooledNatFlows:
    """A day's NAT rows as Parquet parts on local disk (one per batch of whole files), streamed
    back in order."""

    directory: Path
    parts: dict[str, Path] = field(default_factory=dict)  # source file -> part
    streamed_rows: int = 0  # rows handed out by the last reader, to check against the kept count

    def add(self, source_file: str, rows: pl.DataFrame) -> None:
        """Spool ``rows`` (in order) as the part starting at ``source_file``; parts are added in
        file order, each holding one or more whole files."""
        part = self.directory / f"part-{len(self.parts):06d}.parquet"
        rows.write_parquet(part, compression="zstd", statistics=False)
        self.parts[source_file] = part

    def reader(self, batch_rows: int = STREAM_BATCH_ROWS) -> pa.RecordBatchReader:
        """Every row, ordered by ``source_file, source_line`` without sorting the day in memory:
        parts are visited in file order and each part is already in line order."""
        schema = pl.DataFrame(schema=NAT_FLOWS_SCHEMA).to_arrow().schema
        return pa.RecordBatchReader.from_batches(schema, self._batches(schema, batch_rows))

    def _batches(self, schema: pa.Schema, batch_rows: int) -> Iterator[pa.RecordBatch]:
        self.streamed_rows = 0
        for source_file in sorted(self.parts):
            for batch in pq.ParquetFile(self.parts[source_file]).iter_batches(batch_size=batch_rows):
                self.streamed_rows += batch.num_rows
                yield batch.cast(schema)

    def collect(self) -> pl.DataFrame:
        """The whole day in memory: for tests and small days only."""
        return pl.from_arrow(self.reader().read_all())  # type: ignore[return-value]


@dataclass
class DayOfFlows:
    """What reading a day produced: spooled NAT rows, per-file accounting, rejected lines."""

    nat_flows: SpooledNatFlows
    files: pl.DataFrame
    rejected_sample: pl.DataFrame
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    files_rejected_by_reason: dict[str, int] = field(default_factory=dict)

    def totals(self) -> dict[str, int]:
        counted = [c for c in FILE_STATS_SCHEMA if c.startswith("rows_")] + ["nat_bytes"]
        sums = self.files.select(pl.col(c).sum() for c in counted).row(0, named=True)
        out = {k: int(v or 0) for k, v in sums.items()}
        out["rows_filtered"] = out["rows_non_nat"] + out["rows_no_data"] + out["rows_other_day"]
        for status in (READ, DUPLICATE, REJECTED):
            out[f"files_{status}"] = int((self.files["status"] == status).sum())
        return out

    def balanced(self) -> bool:
        """rows read = kept + filtered + rejected, for every file (and so for the day)."""
        filtered = pl.col("rows_non_nat") + pl.col("rows_no_data") + pl.col("rows_other_day")
        return self.files.filter(pl.col("rows_read") != pl.col("rows_kept") + filtered + pl.col("rows_rejected")).is_empty()

    def by_account_region(self) -> pl.DataFrame:
        """Files, rows and NAT bytes per account and region: what a user checks first."""
        return (
            self.files.group_by("account_id", "region")
            .agg(
                (pl.col("status") == READ).sum().alias("files"),
                pl.col("rows_read").sum(),
                pl.col("rows_kept").sum(),
                pl.col("rows_rejected").sum(),
                pl.col("nat_bytes").sum(),
            )
            .sort("account_id", "region")
        )


def read_day(
    objects: Sequence[FlowLogObject],
    read_bytes: Callable[[str], bytes],
    day: date,
    spool_dir: Path,
    internal_cidrs: Sequence[str] = nat.DEFAULT_INTERNAL_CIDRS,
    on_unreadable: UnreadablePolicy = "fail",
    batch_rows: int = BATCH_ROWS,
) -> DayOfFlows:
    """Read, type, classify and orient every object of ``day``, spooling NAT rows to ``spool_dir``.

    A file that cannot be read at all (corrupt or truncated gzip, empty, no header) raises
    :class:`FlowLogFileError` naming it, since the day would otherwise be silently short; with
    ``on_unreadable="skip"`` it is counted as a rejected file instead, with its reason. A header
    without the NAT fields always fails: that is the flow log's format, and every file would skip.
    The same delivery listed twice (same key, or the same AWS file name under two keys) is read once.

    Files are read in path order and classified in batches of about ``batch_rows`` rows (several
    small deliveries, or one large one): classifying a 700-row five-minute delivery on its own
    costs mostly fixed overhead, and a batch in path order spools as one already-ordered part.
    """
    unique, stats = _drop_duplicates(objects)
    batch = _Batch(day, internal_cidrs, SpooledNatFlows(spool_dir))
    samples: list[pl.DataFrame] = []
    reasons: Counter[str] = Counter()
    file_reasons: Counter[str] = Counter()
    sampled = 0
    for obj in sorted(unique, key=lambda o: o.path):
        try:
            parsed = read_delivery(_fetch(read_bytes, obj.path), obj.path)
            _require_fields(parsed)
        except MissingNatFieldsError:
            raise
        except FlowLogFileError as err:
            if on_unreadable == "fail":
                raise
            file_reasons[err.code] += 1
            stats.append(_file_stats(obj, REJECTED, error=f"{err.code}: {err}"))
            samples.append(_file_rejection(err))
            sampled += 1
            continue
        reasons.update(parsed.rejected["reason"].to_list())
        if parsed.rejected.height and sampled < REJECTED_SAMPLE_SIZE:
            samples.append(parsed.rejected.head(REJECTED_SAMPLE_SIZE - sampled))
            sampled += samples[-1].height
        batch.add(obj, parsed)
        if batch.rows >= batch_rows:
            stats += batch.flush()
    stats += batch.flush()
    files = pl.DataFrame(stats, schema=FILE_STATS_SCHEMA) if stats else pl.DataFrame(schema=FILE_STATS_SCHEMA)
    return DayOfFlows(
        nat_flows=batch.spool,
        files=files.sort("delivered_at", "file"),
        rejected_sample=pl.concat(samples) if samples else pl.DataFrame(schema=REJECTED_SCHEMA),
        rejected_by_reason=dict(sorted(reasons.items())),
        files_rejected_by_reason=dict(sorted(file_reasons.items())),
    )


def _drop_duplicates(objects: Sequence[FlowLogObject]) -> tuple[list[FlowLogObject], list[dict[str, object]]]:
    """The objects to read, and a ``duplicate`` stats row for each repeat (in listing order, the
    first one listed is read)."""
    first_seen: dict[str, str] = {}
    unique: list[FlowLogObject] = []
    duplicates: list[dict[str, object]] = []
    for obj in objects:
        name = delivery_name(obj.path)
        seen = first_seen.get(obj.path) or (first_seen.get(name) if name else None)
        if seen is not None:
            duplicates.append(_file_stats(obj, DUPLICATE, duplicate_of=seen))
            continue
        first_seen[obj.path] = obj.path
        if name:
            first_seen[name] = obj.path
        unique.append(obj)
    return unique, duplicates


class _Batch:
    """Parsed files waiting to be classified together; flushing spools their NAT rows."""

    def __init__(self, day: date, internal_cidrs: Sequence[str], spool: SpooledNatFlows) -> None:
        self.day = day
        self.internal_cidrs = internal_cidrs
        self.spool = spool
        self.files: list[tuple[FlowLogObject, ParsedFile]] = []
        self.rows = 0

    def add(self, obj: FlowLogObject, parsed: ParsedFile) -> None:
        self.files.append((obj, parsed))
        self.rows += parsed.rows.height

    def flush(self) -> list[dict[str, object]]:
        """Classify and orient the batch, spool its NAT rows, and return each file's counts."""
        if not self.files:
            return []
        frames = [
            _with_key_context(parsed, obj).with_columns(pl.lit(obj.path).alias("source_file"))
            for obj, parsed in self.files
            if parsed.rows.height
        ]
        counts: dict[str, dict[str, int]] = {}
        nat_bytes: dict[str, int] = {}
        if frames:
            classified = nat.classify(pl.concat(frames, how="diagonal_relaxed"), self.day)
            for source_file, outcome, n in classified.group_by("source_file", "outcome").len().iter_rows():
                counts.setdefault(source_file, {})[outcome] = n
            kept = classified.filter(pl.col("outcome") == nat.KEPT)
            if kept.height:
                flows = _to_nat_flows(nat.orient(kept, self.internal_cidrs), self.day).sort(NAT_FLOWS_ORDER)
                nat_bytes = dict(flows.group_by("source_file").agg(pl.col("bytes").sum()).iter_rows())
                self.spool.add(flows["source_file"][0], flows)
        stats = [
            _file_stats(obj, READ, parsed, counts.get(obj.path, {}), int(nat_bytes.get(obj.path) or 0))
            for obj, parsed in self.files
        ]
        self.files, self.rows = [], 0
        return stats


def _fetch(read_bytes: Callable[[str], bytes], path: str) -> bytes:
    try:
        return read_bytes(path)
    except FileNotFoundError as exc:
        # Listed, then gone (lifecycle rule, manual delete): the day cannot be complete.
        raise FlowLogFileError(path, f"object listed but not found when read: {exc}", code="object_not_found") from exc


def _file_rejection(err: FlowLogFileError) -> pl.DataFrame:
    """A rejected file as a row of the rejected-lines table, so users find it where they look."""
    row = {"file": err.path, "line": err.line, "reason": f"file:{err.code}", "detail": err.problem, "text": None}
    return pl.DataFrame([row], schema=REJECTED_SCHEMA)


def _require_fields(parsed: ParsedFile) -> None:
    missing = [f for f in DAY_REQUIRED_FIELDS if f not in parsed.fields]
    if missing:
        raise MissingNatFieldsError(
            parsed.path,
            f"header lacks {', '.join(f.replace('_', '-') for f in missing)}: the NAT logic needs "
            "srcaddr, dstaddr, pkt-srcaddr, pkt-dstaddr, bytes and start (add them to the flow log's custom format)",
            line=1,
            code="missing_nat_fields",
        )


def _with_key_context(parsed: ParsedFile, obj: FlowLogObject) -> pl.DataFrame:
    """Fill account and region from the object key where the format does not carry them."""
    rows = parsed.rows
    fills = {"account_id": obj.account_id, "region": obj.region}
    return rows.with_columns(
        [pl.col(c).fill_null(v) if c in rows.columns else pl.lit(v, dtype=pl.String).alias(c) for c, v in fills.items()]
    )


def _file_stats(
    obj: FlowLogObject,
    status: str,
    parsed: ParsedFile | None = None,
    by_outcome: dict[str, int] | None = None,
    nat_bytes: int = 0,
    duplicate_of: str | None = None,
    error: str | None = None,
) -> dict[str, object]:
    by_outcome = by_outcome or {}
    return {
        "file": obj.path,
        "account_id": obj.account_id,
        "region": obj.region,
        "delivered_at": obj.delivered_at,
        "size_bytes": obj.size,
        "rows_read": parsed.rows_read if parsed else 0,
        "rows_kept": by_outcome.get(nat.KEPT, 0),
        "rows_non_nat": by_outcome.get(nat.NON_NAT, 0),
        "rows_no_data": by_outcome.get(nat.NO_DATA, 0),
        "rows_other_day": by_outcome.get(nat.OTHER_DAY, 0),
        "rows_rejected": parsed.rejected.height if parsed else 0,
        "nat_bytes": nat_bytes,
        "status": status,
        "duplicate_of": duplicate_of,
        "error": error,
    }


def _to_nat_flows(rows: pl.DataFrame, day: date) -> pl.DataFrame:
    present = set(rows.columns)
    columns = []
    for name, dtype in NAT_FLOWS_SCHEMA.items():
        if name == "usage_date":
            columns.append(pl.lit(day, dtype=pl.Date).alias(name))
        elif name == "source_line":
            columns.append(pl.col("line").alias(name))
        elif name in present:
            columns.append(pl.col(name).cast(dtype))
        else:
            columns.append(pl.lit(None, dtype=dtype).alias(name))
    return rows.select(columns)
