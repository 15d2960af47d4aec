"""One day's NAT rows from its delivered objects, with every row accounted for.

The day streams, in three stages that overlap: objects are fetched, inflated and parsed about a
batch ahead on two worker threads (S3 reads, ISA-L and Polars release the GIL); a classifying
thread checks, classifies and orients a batch of about ``BATCH_ROWS`` rows at a time; and each
batch's NAT rows are handed to the consumer one batch behind it (the asset streams them into one
Delta transaction, ``Warehouse.write_partition_stream``) and dropped. So a partition holds a few
batches of rows at a time, never the day, and nothing is written twice. Rows come out in
``source_file, source_line`` order without a sort: files are read in path order and a file's rows
in line order.

Only the fields natflow uses are read from a delivery (``READ_FIELDS``): the others are never
parsed, typed or validated. Every line's field count is still checked.

Every listed object ends up in the per-file table with a status: ``read``, ``duplicate`` (the same
delivery listed twice: read once) or ``rejected`` (unreadable, when told to skip such files).
"""

from __future__ import annotations

import queue
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

import polars as pl
import pyarrow as pa

from natflow_pipeline.addresses import address_keys
from natflow_pipeline.allocator import keep_freed_buffers
from natflow_pipeline.flowlogs import nat
from natflow_pipeline.flowlogs.fields import ADDRESS_FIELDS, FIELD_TYPES
from natflow_pipeline.flowlogs.layout import FlowLogObject, delivery_name
from natflow_pipeline.flowlogs.reader import (
    REJECTED_SCHEMA,
    FlowLogFileError,
    ParsedFile,
    read_delivery,
)

#: Without these a day's NAT bytes cannot be computed from a file.
DAY_REQUIRED_FIELDS: tuple[str, ...] = (
    "srcaddr",
    "dstaddr",
    "pkt_srcaddr",
    "pkt_dstaddr",
    "bytes",
    "start",
)
#: Every field natflow reads from a delivery: the NAT logic's, the day's, and what nat_flows keeps.
#: Reading 12 of a 27-field format costs about half of reading all of them. ``az_id`` (version 4,
#: optional) is the AZ of the logged interface, here the NAT gateway's: kept as ``nat_az_id``.
READ_FIELDS: tuple[str, ...] = (
    "account_id",
    "region",
    "interface_id",
    "srcaddr",
    "dstaddr",
    "pkt_srcaddr",
    "pkt_dstaddr",
    "packets",
    "bytes",
    "start",
    "log_status",
    "az_id",
)
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
    "packets": FIELD_TYPES["packets"],
    "bytes": FIELD_TYPES["bytes"],
    "start": FIELD_TYPES["start"],
    "source_file": pl.String,
    "source_line": pl.Int64,
    # The NAT gateway interface's AZ ID (the format's az-id); null when the format lacks it.
    # Last, so the columns before it keep their positions.
    "nat_az_id": pl.String,
}
#: Where a nat_flows column comes from in a delivery, when it is named differently there.
NAT_FLOWS_SOURCE_FIELDS: dict[str, str] = {"nat_az_id": "az_id"}
#: Rows in a day's output are ordered by these, so a re-run writes identical content.
NAT_FLOWS_ORDER: tuple[str, ...] = ("source_file", "source_line")
#: Rows classified together: enough to amortise per-call overhead over small deliveries (measured:
#: 100,000 rows per batch cost ~20% more time than 400,000 on the 5 M-row benchmark day), few
#: enough that a partition holds a few files' worth of rows at a time.
BATCH_ROWS = 400_000
#: Compressed bytes of objects fetched, inflated and parsed ahead of the batch being classified.
#: About one batch of gzip text (~21 bytes a row): the workers must not run dry while a whole batch
#: is classified (measured at 5 M rows: four objects ahead left the cores idle, and the
#: day took ~20% longer; 16 MiB was no faster and held ~80 MB more), and memory follows this
#: budget, not the day.
READ_AHEAD_BYTES = 8 << 20
#: Objects loaded ahead whatever their size, so two large deliveries still overlap.
MIN_READ_AHEAD = 2
#: Rows per Arrow batch when streaming NAT rows into Delta.
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


class NatFlowStream:
    """A day's NAT rows as batches of ``NAT_FLOWS_SCHEMA`` frames, in ``source_file, source_line``
    order. Reading the day happens while the batches are consumed, once: iterate (or ``reader()``)
    to stream them, or ``collect()`` a small day into memory (kept, so it can be asked again)."""

    def __init__(self, batches: Iterator[pl.DataFrame]) -> None:
        self._batches = batches
        self._started = False
        self._finished = False
        self._closed_early = False
        self._collected: pl.DataFrame | None = None
        self.streamed_rows = 0  # rows handed out so far, to check against the kept count

    def __iter__(self) -> Iterator[pl.DataFrame]:
        if self._collected is not None:
            yield self._collected
            return
        if self._closed_early:
            raise RuntimeError("the day's NAT rows were closed before being read in full")
        if self._started:
            raise RuntimeError("a day's NAT rows stream once: collect() them to use them twice")
        self._started = True
        for batch in self._batches:
            self.streamed_rows += batch.height
            yield batch
        self._finished = True

    @property
    def consumed(self) -> bool:
        return self._started

    @property
    def closed_early(self) -> bool:
        """Closed before every batch was read: the day's counts are incomplete."""
        return self._closed_early

    def close(self) -> None:
        """Stop reading the day now (a consumer that failed partway): the classifying thread and
        the read workers end here, not whenever the abandoned stream is garbage-collected (an
        exception's traceback can hold it for as long as the exception is kept). A no-op once
        the day has been read in full."""
        if self._finished or self._collected is not None:
            return
        self._closed_early = True
        getattr(self._batches, "close", lambda: None)()

    def reader(self, batch_rows: int = STREAM_BATCH_ROWS) -> pa.RecordBatchReader:
        """The rows as Arrow record batches (what ``Warehouse.write_partition_stream`` takes)."""
        schema = pl.DataFrame(schema=NAT_FLOWS_SCHEMA).to_arrow().schema
        batches = (
            b.cast(schema)
            for frame in self
            for b in frame.to_arrow().to_batches(max_chunksize=batch_rows)
        )
        return pa.RecordBatchReader.from_batches(schema, batches)

    def collect(self) -> pl.DataFrame:
        """The whole day in memory: for tests and small days only."""
        if self._collected is None:
            frames = list(self)
            self._collected = pl.concat(frames) if frames else pl.DataFrame(schema=NAT_FLOWS_SCHEMA)
        return self._collected


@dataclass
class _Accounting:
    """What reading the day counted, filled in as the NAT rows are streamed."""

    stats: list[dict[str, object]] = field(default_factory=list)
    samples: list[pl.DataFrame] = field(default_factory=list)
    sampled: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    file_reasons: Counter[str] = field(default_factory=Counter)

    def sample(self, rejected: pl.DataFrame) -> None:
        if rejected.height and self.sampled < REJECTED_SAMPLE_SIZE:
            self.samples.append(rejected.head(REJECTED_SAMPLE_SIZE - self.sampled))
            self.sampled += self.samples[-1].height


class DayOfFlows:
    """What reading a day produced: the NAT rows (a stream), per-file accounting, rejected lines.

    The accounting is complete once the NAT rows have been consumed; asking for it before that
    reads the day into memory first (``nat_flows.collect()``), which suits tests and small days.
    """

    def __init__(self, nat_flows: NatFlowStream, accounting: _Accounting) -> None:
        self.nat_flows = nat_flows
        self._accounting = accounting

    def _read(self) -> _Accounting:
        if self.nat_flows.closed_early:
            raise RuntimeError(
                "the day's NAT rows were closed before being read in full: "
                "its counts are incomplete"
            )
        if not self.nat_flows.consumed:
            self.nat_flows.collect()
        return self._accounting

    @property
    def files(self) -> pl.DataFrame:
        stats = self._read().stats
        files = (
            pl.DataFrame(stats, schema=FILE_STATS_SCHEMA)
            if stats
            else pl.DataFrame(schema=FILE_STATS_SCHEMA)
        )
        return files.sort("delivered_at", "file")

    @property
    def rejected_sample(self) -> pl.DataFrame:
        samples = self._read().samples
        return pl.concat(samples) if samples else pl.DataFrame(schema=REJECTED_SCHEMA)

    @property
    def rejected_by_reason(self) -> dict[str, int]:
        return dict(sorted(self._read().reasons.items()))

    @property
    def files_rejected_by_reason(self) -> dict[str, int]:
        return dict(sorted(self._read().file_reasons.items()))

    def totals(self) -> dict[str, int]:
        counted = [c for c in FILE_STATS_SCHEMA if c.startswith("rows_")] + ["nat_bytes"]
        files = self.files
        sums = files.select(pl.col(c).sum() for c in counted).row(0, named=True)
        out = {k: int(v or 0) for k, v in sums.items()}
        out["rows_filtered"] = out["rows_non_nat"] + out["rows_no_data"] + out["rows_other_day"]
        for status in (READ, DUPLICATE, REJECTED):
            out[f"files_{status}"] = int((files["status"] == status).sum())
        return out

    def balanced(self) -> bool:
        """rows read = kept + filtered + rejected, for every file (and so for the day)."""
        filtered = pl.col("rows_non_nat") + pl.col("rows_no_data") + pl.col("rows_other_day")
        return self.files.filter(
            pl.col("rows_read") != pl.col("rows_kept") + filtered + pl.col("rows_rejected")
        ).is_empty()

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
    internal_cidrs: Sequence[str] = nat.DEFAULT_INTERNAL_CIDRS,
    on_unreadable: UnreadablePolicy = "fail",
    batch_rows: int = BATCH_ROWS,
    columns: Sequence[str] = READ_FIELDS,
) -> DayOfFlows:
    """Read, type, classify and orient every object of ``day``, as its NAT rows are consumed.

    A file that cannot be read at all (corrupt or truncated gzip, empty, no header) raises
    :class:`FlowLogFileError` naming it, since the day would otherwise be silently short; with
    ``on_unreadable="skip"`` it is counted as a rejected file instead, with its reason. A header
    without the NAT fields always fails: that is the flow log's format, and every file would skip.
    The same delivery listed twice (same key, or the same AWS file name under two keys) is read
    once.

    Files are classified in batches of about ``batch_rows`` rows (several small deliveries, or one
    large one): classifying a 700-row five-minute delivery on its own costs mostly fixed overhead.
    The batch's addresses are validated together too, on their distinct values; a file holding a
    bad one is re-read line by line, to say which lines and why.
    """
    keep_freed_buffers()  # each delivery's buffers are freed and allocated again: see allocator
    unique, duplicates = _drop_duplicates(objects)
    accounting = _Accounting(stats=duplicates)
    batch = _Batch(day, internal_cidrs, list(columns), accounting, read_bytes)
    batches = _in_background(
        _nat_batches(sorted(unique, key=lambda o: o.path), on_unreadable, batch_rows, batch)
    )
    return DayOfFlows(NatFlowStream(batches), accounting)


def _in_background(batches: Iterator[pl.DataFrame]) -> Iterator[pl.DataFrame]:
    """The batches, classified on a thread of their own one batch ahead of the consumer, so the
    consumer's work on a batch (the Delta writer's encoding, or the benchmark's matching and
    summing) overlaps the classification of the next (measured on the benchmark's day, alternating
    runs: 5.2 s against 5.5 s at 5 M rows, 18.5-19.3 s against 20.3-24.9 s at 20 M). Errors reach
    the consumer in order; a consumer that stops early stops the thread."""
    handoff: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(kind: str, item: object) -> bool:
        while not stop.is_set():
            try:
                handoff.put((kind, item), timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in batches:
                if not put("batch", item):
                    break
            else:
                put("done", None)
        except BaseException as exc:  # handed to the consumer, raised there
            put("error", exc)
        finally:
            getattr(batches, "close", lambda: None)()  # on this thread, which runs the generator

    worker = threading.Thread(target=produce, name="natflow-classify", daemon=True)
    worker.start()
    try:
        while True:
            kind, item = handoff.get()
            if kind == "done":
                return
            if kind == "error":
                raise item  # type: ignore[misc]
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()


def _nat_batches(
    objects: list[FlowLogObject],
    on_unreadable: UnreadablePolicy,
    batch_rows: int,
    batch: _Batch,
) -> Iterator[pl.DataFrame]:
    accounting = batch.accounting
    for obj, loaded in _prefetched(objects, batch.read_bytes, batch.columns):
        try:
            parsed = loaded.result()  # re-raises the fetch's, inflate's or parser's error
            _require_fields(parsed)
        except MissingNatFieldsError:
            raise
        except FlowLogFileError as err:
            if on_unreadable == "fail":
                raise
            accounting.file_reasons[err.code] += 1
            accounting.stats.append(_file_stats(obj, REJECTED, error=f"{err.code}: {err}"))
            accounting.samples.append(_file_rejection(err))
            accounting.sampled += 1
            continue
        batch.add(obj, parsed)
        if batch.rows >= batch_rows:
            yield from batch.flush()
    yield from batch.flush()


def _prefetched(
    objects: list[FlowLogObject], read_bytes: Callable[[str], bytes], columns: list[str]
) -> Iterator[tuple[FlowLogObject, Future[ParsedFile]]]:
    """Each object with its parsed rows, in order, loaded ``READ_AHEAD_BYTES`` ahead.

    Fetching, inflating and parsing run on two worker threads while the classifying thread takes
    the previous batch: S3 reads, ISA-L and Polars all release the GIL, so both cores stay busy.
    A reader that stops early (the stream closed) cancels the loads not yet started, so closing
    waits for two objects at most, not for every object read ahead.
    """
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="natflow-read") as pool:
        pending: deque[tuple[FlowLogObject, Future[ParsedFile]]] = deque()
        try:
            ahead = 0  # compressed bytes pending
            for obj in objects:
                pending.append((obj, pool.submit(_load, read_bytes, obj.path, columns, False)))
                ahead += obj.size
                while len(pending) > MIN_READ_AHEAD and ahead > READ_AHEAD_BYTES:
                    ahead -= pending[0][0].size
                    yield pending.popleft()
            while pending:
                yield pending.popleft()
        finally:
            for _, loading in pending:
                loading.cancel()


def _load(
    read_bytes: Callable[[str], bytes], path: str, columns: list[str], check_addresses: bool
) -> ParsedFile:
    """The file's rows. Its bytes are dropped once parsed: a file that fails the batch's address
    check (rare) is fetched again rather than every file held until its batch is checked."""
    return read_delivery(_fetch(read_bytes, path), path, columns, check_addresses)


def _drop_duplicates(
    objects: Sequence[FlowLogObject],
) -> tuple[list[FlowLogObject], list[dict[str, object]]]:
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
    """Parsed files waiting to be classified together; flushing yields their NAT rows."""

    def __init__(
        self,
        day: date,
        internal_cidrs: Sequence[str],
        columns: list[str],
        accounting: _Accounting,
        read_bytes: Callable[[str], bytes],
    ) -> None:
        self.day = day
        self.internal_cidrs = internal_cidrs
        self.columns = columns
        self.accounting = accounting
        self.read_bytes = read_bytes
        self.files: list[tuple[FlowLogObject, ParsedFile]] = []
        self.rows = 0

    def add(self, obj: FlowLogObject, parsed: ParsedFile) -> None:
        self.files.append((obj, parsed))
        self.rows += parsed.rows.height

    def flush(self) -> Iterator[pl.DataFrame]:
        """Check the batch's addresses, classify and orient its rows, count each file's outcomes,
        and yield its NAT rows (if any)."""
        if not self.files:
            return
        files, internal = self._with_addresses_checked()
        self.files, self.rows = [], 0
        for _, parsed in files:
            self.accounting.reasons.update(parsed.rejected["reason"].to_list())
            self.accounting.sample(parsed.rejected)
        frames = [
            _with_key_context(parsed, obj, i)
            for i, (obj, parsed) in enumerate(files)
            if parsed.rows.height
        ]
        counts: dict[int, dict[str, int]] = {}
        nat_bytes: dict[int, int] = {}
        if frames:
            # Contiguous: a frame whose columns are chunked differently (the files' several chunks
            # against the added columns' one) is copied whole by every eager step that reads it.
            classified = nat.classify(
                pl.concat(frames, how="diagonal_relaxed", rechunk=True), self.day
            )
            for index, outcome, n in classified.group_by("_file", "outcome").len().iter_rows():
                counts.setdefault(index, {})[outcome] = n
            kept = classified.filter(pl.col("outcome") == nat.KEPT)
            if kept.height:
                source_file = pl.col("_file").replace_strict(
                    list(range(len(files))), [obj.path for obj, _ in files], return_dtype=pl.String
                )
                oriented = nat.orient(kept, self.internal_cidrs, internal).with_columns(
                    source_file.alias("source_file")
                )
                flows = _to_nat_flows(oriented, self.day)
                nat_bytes = dict(oriented.group_by("_file").agg(pl.col("bytes").sum()).iter_rows())
                self._count(files, counts, nat_bytes)
                yield flows
                return
        self._count(files, counts, nat_bytes)

    def _count(
        self,
        files: list[tuple[FlowLogObject, ParsedFile]],
        counts: dict[int, dict[str, int]],
        nat_bytes: dict[int, int],
    ) -> None:
        self.accounting.stats += [
            _file_stats(obj, READ, parsed, counts.get(i, {}), int(nat_bytes.get(i) or 0))
            for i, (obj, parsed) in enumerate(files)
        ]

    def _with_addresses_checked(self) -> tuple[list[tuple[FlowLogObject, ParsedFile]], pl.Series]:
        """The files, each re-read line by line if it holds a value that is not an IP address, and
        the batch's internal addresses (for :func:`nat.orient`).

        The batch's distinct address values are keyed once, for both: a day repeats the same few
        thousand addresses in every file and in all four address fields (one ``unique`` over the
        four measured at half the time of four). A re-read file's rejected lines lose their bad
        values; its good ones were among the distinct values already.
        """
        unchecked = [parsed.rows for _, parsed in self.files if parsed.rows.height]
        values = [
            rows.get_column(c) for rows in unchecked for c in ADDRESS_FIELDS if c in rows.columns
        ]
        distinct = (
            pl.concat(values, rechunk=False).unique().drop_nulls()
            if values
            else pl.Series([], dtype=pl.String)
        )
        keys = address_keys(distinct)
        invalid = distinct.filter(
            keys.is_null()
        )  # what invalid_addresses would say, from the keys orientation needs
        checked = []
        for obj, parsed in self.files:
            if invalid.len() and _holds_any(parsed.rows, invalid):
                parsed = _load(
                    self.read_bytes, obj.path, self.columns, True
                )  # names the lines and why
            checked.append((obj, parsed))
        return checked, nat.internal_addresses(distinct, keys, self.internal_cidrs)


def _holds_any(rows: pl.DataFrame, values: pl.Series) -> bool:
    present = [c for c in ADDRESS_FIELDS if c in rows.columns]
    return (
        bool(present)
        and rows.select(
            pl.any_horizontal(pl.col(c).is_in(values.implode()) for c in present).any()
        ).item()
    )


def _fetch(read_bytes: Callable[[str], bytes], path: str) -> bytes:
    try:
        return read_bytes(path)
    except FileNotFoundError as exc:
        # Listed, then gone (lifecycle rule, manual delete): the day cannot be complete.
        raise FlowLogFileError(
            path, f"object listed but not found when read: {exc}", code="object_not_found"
        ) from exc


def _file_rejection(err: FlowLogFileError) -> pl.DataFrame:
    """A rejected file as a row of the rejected-lines table, so users find it where they look."""
    row = {
        "file": err.path,
        "line": err.line,
        "reason": f"file:{err.code}",
        "detail": err.problem,
        "text": None,
    }
    return pl.DataFrame([row], schema=REJECTED_SCHEMA)


def _require_fields(parsed: ParsedFile) -> None:
    missing = [f for f in DAY_REQUIRED_FIELDS if f not in parsed.fields]
    if missing:
        raise MissingNatFieldsError(
            parsed.path,
            f"header lacks {', '.join(f.replace('_', '-') for f in missing)}: the NAT logic needs "
            "srcaddr, dstaddr, pkt-srcaddr, pkt-dstaddr, bytes and start "
            "(add them to the flow log's custom format)",
            line=1,
            code="missing_nat_fields",
        )


def _with_key_context(parsed: ParsedFile, obj: FlowLogObject, index: int) -> pl.DataFrame:
    """Fill account and region from the object key where the format does not carry them, and
    number the file within its batch (``_file``): one eager step per file rather than two."""
    rows = parsed.rows
    fills = {"account_id": obj.account_id, "region": obj.region}
    return rows.with_columns(
        *[
            pl.col(c).fill_null(v) if c in rows.columns else pl.lit(v, dtype=pl.String).alias(c)
            for c, v in fills.items()
        ],
        pl.lit(index, dtype=pl.UInt32).alias("_file"),
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
        elif NAT_FLOWS_SOURCE_FIELDS.get(name) in present:
            columns.append(pl.col(NAT_FLOWS_SOURCE_FIELDS[name]).cast(dtype).alias(name))
        elif name in present:
            columns.append(pl.col(name).cast(dtype))
        else:
            columns.append(pl.lit(None, dtype=dtype).alias(name))
    return rows.select(columns)
