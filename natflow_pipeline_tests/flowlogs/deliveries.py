"""Hand-built flow log deliveries whose expected outcome is known by construction.

Each connection through a NAT gateway yields AWS's four records; the builder marks the two
translated legs itself, so the expected bytes per account/region/day never come from the code
under test. Deliveries are written as AWS writes them: gzip text with a (hyphenated) header line in
any field order, or Parquet with AWS's underscore column names and types, under the plain or Hive
key layout, with or without the per-hour folder.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

import pyarrow as pa
import pyarrow.parquet as pq

#: A custom format with every field the pipeline needs plus a few more; text files shuffle it.
TEXT_FIELDS = (
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes "
    "start end action log-status vpc-id subnet-id pkt-srcaddr pkt-dstaddr region flow-direction "
    "traffic-path"
).split()

#: The Parquet types AWS documents for its Parquet delivery (integers are int32 or int64).
PARQUET_TYPES: dict[str, pa.DataType] = {
    "version": pa.int32(),
    "account_id": pa.string(),
    "interface_id": pa.string(),
    "srcaddr": pa.string(),
    "dstaddr": pa.string(),
    "srcport": pa.int32(),
    "dstport": pa.int32(),
    "protocol": pa.int32(),
    "packets": pa.int64(),
    "bytes": pa.int64(),
    "start": pa.int64(),
    "end": pa.int64(),
    "action": pa.string(),
    "log_status": pa.string(),
    "vpc_id": pa.string(),
    "subnet_id": pa.string(),
    "pkt_srcaddr": pa.string(),
    "pkt_dstaddr": pa.string(),
    "region": pa.string(),
    "flow_direction": pa.string(),
    "traffic_path": pa.int32(),
}

NAT_IP = "10.200.0.10"


def epoch(text: str) -> int:
    """``2026-11-02T00:01:30`` (UTC) as epoch seconds."""
    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp())


@dataclass
class Delivery:
    account: str
    region: str
    flow_log_id: str
    delivered_at: datetime
    layout: str = "plain"  # plain | hive
    hourly: bool = False
    fmt: str = "text"  # text | parquet
    records: list[dict[str, object]] = field(default_factory=list)
    #: bytes of the translated (NAT) legs by UTC day of their start: the expected outcome
    nat_bytes_by_day: dict[date, int] = field(default_factory=lambda: defaultdict(int))
    field_order_seed: int = 0

    def name(self) -> str:
        stamp = f"{self.delivered_at:%Y%m%dT%H%MZ}"
        digest = hashlib.sha256(
            f"{self.account}{self.region}{self.flow_log_id}{stamp}".encode()
        ).hexdigest()[:8]
        suffix = "log.parquet" if self.fmt == "parquet" else "log.gz"
        return (
            f"{self.account}_vpcflowlogs_{self.region}_{self.flow_log_id}_{stamp}_{digest}.{suffix}"
        )

    def key(self, prefix: str = "") -> str:
        t = self.delivered_at
        if self.layout == "hive":
            folder = (
                f"AWSLogs/aws-account-id={self.account}/aws-service=vpcflowlogs/aws-region={self.region}/"
                f"year={t:%Y}/month={t:%m}/day={t:%d}/" + (f"hour={t:%H}/" if self.hourly else "")
            )
        else:
            folder = f"AWSLogs/{self.account}/vpcflowlogs/{self.region}/{t:%Y/%m/%d}/" + (
                f"{t:%H}/" if self.hourly else ""
            )
        return f"{prefix.strip('/')}/{folder}{self.name()}".lstrip("/")

    def connection(self, start: int, up: int, down: int, client: str, server: str) -> None:
        """AWS's four records of one connection; only client->NAT and NAT->client are translated."""
        legs = (
            (client, NAT_IP, client, server, up, True),
            (NAT_IP, server, NAT_IP, server, up, False),
            (server, NAT_IP, server, NAT_IP, down, False),
            (NAT_IP, client, server, client, down, True),
        )
        for src, dst, pkt_src, pkt_dst, nbytes, translated in legs:
            self.records.append(self._record(start, src, dst, pkt_src, pkt_dst, nbytes))
            if translated:
                self.nat_bytes_by_day[datetime.fromtimestamp(start, timezone.utc).date()] += nbytes

    def no_data(self, start: int) -> None:
        self.records.append(
            {
                "version": 5,
                "account_id": self.account,
                "interface_id": "eni-0nat",
                "start": start,
                "end": start + 60,
                "log_status": "NODATA",
            }
        )

    def _record(
        self, start: int, src: str, dst: str, pkt_src: str, pkt_dst: str, nbytes: int
    ) -> dict[str, object]:
        return {
            "version": 5,
            "account_id": self.account,
            "interface_id": "eni-0nat",
            "srcaddr": src,
            "dstaddr": dst,
            "srcport": 40000 + len(self.records),
            "dstport": 443,
            "protocol": 6,
            "packets": max(1, nbytes // 1200),
            "bytes": nbytes,
            "start": start,
            "end": start + 30,
            "action": "ACCEPT",
            "log_status": "OK",
            "vpc_id": "vpc-0egress",
            "subnet_id": "subnet-0public",
            "pkt_srcaddr": pkt_src,
            "pkt_dstaddr": pkt_dst,
            "region": self.region,
            "flow_direction": "egress",
            "traffic_path": None,
        }

    def body(self) -> bytes:
        if self.fmt == "parquet":
            columns = {
                name: pa.array([r.get(name) for r in self.records], type=t)
                for name, t in PARQUET_TYPES.items()
            }
            sink = io.BytesIO()
            pq.write_table(pa.table(columns), sink)
            return sink.getvalue()
        fields = list(TEXT_FIELDS)
        random.Random(self.field_order_seed).shuffle(fields)
        lines = [" ".join(fields)]
        for record in self.records:
            values = (record.get(f.replace("-", "_")) for f in fields)
            lines.append(" ".join("-" if v is None else str(v) for v in values))
        return gzip.compress(("\n".join(lines) + "\n").encode(), mtime=0)


def text_file(header: str, *lines: str) -> bytes:
    """A gzip text delivery from literal lines (for the bad-input cases)."""
    return gzip.compress(("\n".join((header, *lines)) + "\n").encode(), mtime=0)
