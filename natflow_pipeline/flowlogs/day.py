"""One day's NAT rows from its delivered objects, with every row accounted for.

Objects are read one at a time and only their NAT rows (about half, in fewer columns) are kept, so
memory follows the largest object plus the day's NAT rows, not the day's raw text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from natflow_pipeline.flowlogs import nat
from natflow_pipeline.flowlogs.fields import FIELD_TYPES
from natflow_pipeline.flowlogs.layout import FlowLogObject
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
}


@dataclass
class DayOfFlows:
    """What reading a day produced: NAT rows, per-file accounting, rejected lines."""

    nat_flows: pl.DataFrame
    files: pl.DataFrame
    rejected_sample: pl.DataFrame
    rejected_by_reason: dict[str, int] = field(default_factory=dict)

    def totals(self) -> dict[str, int]:
        sums = self.files.select(pl.col(c).sum() for c in FILE_STATS_SCHEMA if c.startswith("rows_")).row(0, named=True)
        return {k: int(v or 0) for k, v in sums.items()}


def read_day(
    objects: Sequence[FlowLogObject],
    read_bytes: Callable[[str], bytes],
    day: date,
    internal_cidrs: Sequence[str] = nat.DEFAULT_INTERNAL_CIDRS,
) -> DayOfFlows:
    """Read, type, classify and orient every object of ``day``.

    A file that cannot be read at all (corrupt gzip, no header, no NAT fields) raises
    :class:`FlowLogFileError` naming it: the day would otherwise be silently short.
    """
    kept: list[pl.DataFrame] = []
    stats: list[dict[str, object]] = []
    samples: list[pl.DataFrame] = []
    reasons: Counter[str] = Counter()
    sampled = 0
    for obj in objects:
        parsed = read_delivery(read_bytes(obj.path), obj.path)
        _require_fields(parsed)
        classified = nat.classify(_with_key_context(parsed, obj), day)
        counts = classified["outcome"].value_counts().rows()
        by_outcome = dict(counts)
        stats.append(_file_stats(obj, parsed, by_outcome))
        reasons.update(parsed.rejected["reason"].to_list())
        if parsed.rejected.height and sampled < REJECTED_SAMPLE_SIZE:
            samples.append(parsed.rejected.head(REJECTED_SAMPLE_SIZE - sampled))
            sampled += samples[-1].height
        rows = classified.filter(pl.col("outcome") == nat.KEPT)
        if rows.height:
            kept.append(_to_nat_flows(nat.orient(rows, internal_cidrs), obj, day))
    nat_flows = pl.concat(kept) if kept else pl.DataFrame(schema=NAT_FLOWS_SCHEMA)
    return DayOfFlows(
        nat_flows=nat_flows.sort(NAT_FLOWS_ORDER),
        files=pl.DataFrame(stats, schema=FILE_STATS_SCHEMA) if stats else pl.DataFrame(schema=FILE_STATS_SCHEMA),
        rejected_sample=pl.concat(samples) if samples else pl.DataFrame(schema=REJECTED_SCHEMA),
        rejected_by_reason=dict(sorted(reasons.items())),
    )


def _require_fields(parsed: ParsedFile) -> None:
    missing = [f for f in DAY_REQUIRED_FIELDS if f not in parsed.fields]
    if missing:
        raise FlowLogFileError(
            parsed.path,
            f"header lacks {', '.join(f.replace('_', '-') for f in missing)}: the NAT logic needs "
            "srcaddr, dstaddr, pkt-srcaddr, pkt-dstaddr, bytes and start (add them to the flow log's custom format)",
            line=1,
        )


def _with_key_context(parsed: ParsedFile, obj: FlowLogObject) -> pl.DataFrame:
    """Fill account and region from the object key where the format does not carry them."""
    rows = parsed.rows
    fills = {"account_id": obj.account_id, "region": obj.region}
    return rows.with_columns(
        [pl.col(c).fill_null(v) if c in rows.columns else pl.lit(v, dtype=pl.String).alias(c) for c, v in fills.items()]
    )


def _file_stats(obj: FlowLogObject, parsed: ParsedFile, by_outcome: dict[str, int]) -> dict[str, object]:
    return {
        "file": obj.path,
        "account_id": obj.account_id,
        "region": obj.region,
        "delivered_at": obj.delivered_at,
        "size_bytes": obj.size,
        "rows_read": parsed.rows_read,
        "rows_kept": by_outcome.get(nat.KEPT, 0),
        "rows_non_nat": by_outcome.get(nat.NON_NAT, 0),
        "rows_no_data": by_outcome.get(nat.NO_DATA, 0),
        "rows_other_day": by_outcome.get(nat.OTHER_DAY, 0),
        "rows_rejected": parsed.rejected.height,
    }


def _to_nat_flows(rows: pl.DataFrame, obj: FlowLogObject, day: date) -> pl.DataFrame:
    present = set(rows.columns)
    columns = []
    for name, dtype in NAT_FLOWS_SCHEMA.items():
        if name == "usage_date":
            columns.append(pl.lit(day, dtype=pl.Date).alias(name))
        elif name == "source_file":
            columns.append(pl.lit(obj.path).alias(name))
        elif name == "source_line":
            columns.append(pl.col("line").alias(name))
        elif name in present:
            columns.append(pl.col(name).cast(dtype))
        else:
            columns.append(pl.lit(None, dtype=dtype).alias(name))
    return rows.select(columns)
