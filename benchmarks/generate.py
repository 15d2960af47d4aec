"""A day of NAT gateway flow logs at benchmark scale, written fast (numpy + Polars, no Python loop
per row).

The embedded generator (``natflow_pipeline.sample_data.generator``) is exact but pure Python
(about 30k rows/s); a 20 M row day would take ten minutes. This one draws whole columns with numpy
and lets Polars format and write the text, in AWS's real format and key layout:

- gzip text with a header line (the sample's v5 custom format, 27 fields), one object per
  5-minute delivery window, named
  ``{account}_vpcflowlogs_{region}_{flow-log-id}_{stamp}_{hash}.log.gz`` under
  ``AWSLogs/{account}/vpcflowlogs/{region}/yyyy/mm/dd/``;
- the day's first object holds the previous day's last records, about 1% of records arrive one
  window late, and the next day's first object holds the day's last window;
- four records per NAT connection (two of them translated), REJECTed scans and NODATA/SKIPDATA rows,
  a few percent IPv6 clients through NAT64;
- an IPAM export in NetBox's REST shape: thousands of nested prefixes (containers with a team, bare
  subnets that inherit, other teams' subnets inside a container, /26 children), dozens of tenants in
  tenant groups, IP address objects, the ``aws_account_id`` custom field;
- destinations drawn from AWS's real ip-ranges.json (S3, DynamoDB, EC2 in and out of region) and
  from the rest of the IPv4 internet.

The same day is also written as AWS's Parquet delivery (underscore column names) for the Parquet
timing. Output is cached under ``benchmarks/.cache/`` by its parameters.
"""

from __future__ import annotations

import gzip
import hashlib
import ipaddress
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import polars as pl

from natflow_pipeline.sample_data.generator import HEADER_FIELDS

DAY = date(2026, 11, 10)
ACCOUNT = "999999999999"
REGION = "us-east-1"
INTERFACE = "eni-0a1b2c3d4e5f67890"
VPC = "vpc-0e1d2c3b4a5968777"
SUBNET = "subnet-0aa11bb22cc33dd44"
FLOW_LOG_ID = "fl-0123456789abcdef0"
NAT_IP = "10.255.0.10"
NAT_IPV6 = "2600:1f18:4a00:ff::10"
WINDOW_S = 300
DELIVERY_DELAY_S = 120
FORMAT_VERSION = 1  # bump when the output changes, so old caches are not reused

TENANTS = 48
TENANT_GROUPS = 8
SUBNETS_PER_CONTAINER = 64
CLIENT_HOSTS = 40_000
INTERNET_HOSTS = 60_000
AWS_HOSTS = 4_000
IPV6_SHARE = 0.03
LATE_SHARE = 0.01
SCAN_SHARE = 0.02
NODATA_SHARE = 0.005


@dataclass(frozen=True)
class Day:
    """Where a generated day lives and what it holds."""

    root: Path
    rows: int

    @property
    def flowlogs(self) -> Path:
        return self.root / "flowlogs"

    @property
    def parquet(self) -> Path:
        return self.root / "flowlogs-parquet"

    @property
    def ipam(self) -> Path:
        return self.root / "ipam" / "netbox-export.json"

    @property
    def ipam_changed(self) -> Path:
        return self.root / "ipam" / "netbox-export-fixed.json"


def generate(cache: Path, rows: int, seed: int, ip_ranges_path: Path) -> Day:
    """Write (once) the day for ``rows`` and ``seed``; later calls with the same parameters reuse
    it."""
    root = cache / f"day-rows{rows}-seed{seed}-v{FORMAT_VERSION}"
    day = Day(root, rows)
    if (root / "DONE").exists():
        return day
    rng = np.random.default_rng(seed)
    export = _ipam_export(rng)
    day.ipam.parent.mkdir(parents=True, exist_ok=True)
    day.ipam.write_text(json.dumps(export))
    day.ipam_changed.write_text(json.dumps(_netbox_fix(export, rng)))
    records = _records(rng, rows, export, json.loads(ip_ranges_path.read_text()))
    _write_deliveries(day, records, seed)
    (root / "DONE").write_text(f"rows={records.height}\n")
    return day


# --- the IPAM ---------------------------------------------------------------------------------


def _ipam_export(rng: np.random.Generator) -> dict[str, list[dict[str, object]]]:
    groups = [f"group-{g:02d}" for g in range(TENANT_GROUPS)]
    tenants = [
        {
            "id": i + 1,
            "name": f"team-{i:02d}",
            "slug": f"team-{i:02d}",
            "group": {
                "id": i % TENANT_GROUPS + 1,
                "name": groups[i % TENANT_GROUPS],
                "slug": groups[i % TENANT_GROUPS],
            },
        }
        for i in range(TENANTS)
    ]
    accounts = {t["id"]: f"{100000000000 + t['id'] * 7919:012d}" for t in tenants}
    prefixes: list[dict[str, object]] = []

    def add(cidr: str, tenant: int | None, status: str = "active", account: bool = False) -> None:
        prefixes.append(
            {
                "id": len(prefixes) + 1,
                "prefix": cidr,
                "family": {
                    "value": 6 if ":" in cidr else 4,
                    "label": "IPv6" if ":" in cidr else "IPv4",
                },
                "vrf": None,
                "tenant": None
                if tenant is None
                else {
                    "id": tenant,
                    "name": f"team-{tenant - 1:02d}",
                    "slug": f"team-{tenant - 1:02d}",
                },
                "status": {"value": status, "label": status.title()},
                "custom_fields": {
                    "aws_account_id": accounts[tenant] if (tenant is not None and account) else None
                },
                "tags": [],
            }
        )

    add("10.0.0.0/8", None, "container")
    add("10.255.0.0/24", None)
    add("172.16.0.0/12", None, "container")
    add("172.20.0.0/16", None, "reserved")
    for t in range(1, TENANTS + 1):
        owned = rng.random() < 0.8  # a fifth of the containers carry no tenant: their subnets do
        add(f"10.{t}.0.0/16", t if owned else None, "container", account=owned)
        for third in np.sort(rng.choice(256, SUBNETS_PER_CONTAINER, replace=False)):
            roll = rng.random()
            if not owned or roll < 0.15:
                subnet_team = int(rng.integers(1, TENANTS + 1)) if roll < 0.15 else t
                add(f"10.{t}.{third}.0/24", subnet_team, account=True)
            else:
                add(f"10.{t}.{third}.0/24", None)  # bare: inherits the container's team
            if rng.random() < 0.25:
                add(f"10.{t}.{third}.64/26", None)
                add(f"10.{t}.{third}.128/26", int(rng.integers(1, TENANTS + 1)), account=True)
        if t <= 16:
            add(f"2600:1f18:4a00:{t:x}00::/56", t, "container", account=True)
            add(f"2600:1f18:4a00:{t:x}10::/64", None)
    addresses = []
    for i in range(200):
        t = int(rng.integers(1, TENANTS + 1))
        addresses.append(
            {
                "id": i + 1,
                "address": f"10.{t}.{int(rng.integers(0, 256))}.{int(rng.integers(1, 255))}/24",
                "family": {"value": 4, "label": "IPv4"},
                "vrf": None,
                "tenant": None
                if i % 5 == 0
                else {"id": int(rng.integers(1, TENANTS + 1)), "name": None, "slug": None},
                "status": {"value": "active", "label": "Active"},
                "custom_fields": {"aws_account_id": None},
                "tags": [],
            }
        )
    for a in addresses:
        if a["tenant"]:
            tid = a["tenant"]["id"]
            a["tenant"] = {"id": tid, "name": f"team-{tid - 1:02d}", "slug": f"team-{tid - 1:02d}"}
    return {"prefixes": prefixes, "ip_addresses": addresses, "tenants": tenants}


def _netbox_fix(
    export: dict[str, list[dict[str, object]]], rng: np.random.Generator
) -> dict[str, list[dict[str, object]]]:
    """The same IPAM after someone corrected NetBox: a tenth of the subnets change team."""
    fixed = json.loads(json.dumps(export))
    for p in fixed["prefixes"]:
        if str(p["prefix"]).endswith("/24") and rng.random() < 0.1:
            t = int(rng.integers(1, TENANTS + 1))
            p["tenant"] = {"id": t, "name": f"team-{t - 1:02d}", "slug": f"team-{t - 1:02d}"}
    return fixed


# --- the records ------------------------------------------------------------------------------


def _client_hosts(rng: np.random.Generator, export: dict) -> tuple[list[str], np.ndarray]:
    """Client addresses inside the company's prefixes (and some in space nobody owns), with
    weights."""
    subnets = [
        ipaddress.ip_network(p["prefix"])
        for p in export["prefixes"]
        if str(p["prefix"]).endswith("/24") and p["prefix"].startswith("10.")
    ]
    subnets = [s for s in subnets if not str(s).startswith("10.255.")]
    v4_count = int(CLIENT_HOSTS * 0.97)
    picks = rng.integers(0, len(subnets), v4_count)
    hosts = rng.integers(1, 255, v4_count)
    base = np.array([int(s.network_address) for s in subnets], dtype=np.uint64)
    values = base[picks] + hosts.astype(np.uint64)
    unowned = rng.integers(
        int(ipaddress.IPv4Address("172.20.0.1")),
        int(ipaddress.IPv4Address("172.20.255.254")),
        CLIENT_HOSTS // 50,
    )
    v4 = np.unique(np.concatenate([values, unowned.astype(np.uint64)]))
    v4_text = _ipv4_text(v4)
    v6_text = [
        f"2600:1f18:4a00:{t:x}10::{int(h):x}"
        for t, h in zip(rng.integers(1, 17, 400), rng.integers(1, 1 << 16, 400), strict=True)
    ]
    v6_text = sorted(set(v6_text))
    weights = rng.pareto(1.2, len(v4_text)) + 0.01  # a few busy hosts, a long tail
    return v4_text + v6_text, np.concatenate([weights, np.zeros(len(v6_text))])


def _destinations(rng: np.random.Generator, ranges: dict) -> np.ndarray:
    """IPv4 destinations as integers: AWS service ranges (same and other region) and the
    internet."""
    wanted = {
        ("S3", "us-east-1"),
        ("DYNAMODB", "us-east-1"),
        ("EC2", "us-east-1"),
        ("S3", "eu-west-1"),
        ("AMAZON", "us-east-1"),
    }
    nets = [
        ipaddress.ip_network(p["ip_prefix"])
        for p in ranges["prefixes"]
        if (p["service"], p["region"]) in wanted
    ]
    firsts = np.array([int(n.network_address) for n in nets], dtype=np.uint64)
    sizes = np.array([n.num_addresses for n in nets], dtype=np.uint64)
    pick = rng.integers(0, len(nets), AWS_HOSTS)
    aws = firsts[pick] + (rng.random(AWS_HOSTS) * (sizes[pick] - 1)).astype(np.uint64)
    internet = rng.integers(
        int(ipaddress.IPv4Address("1.0.0.0")),
        int(ipaddress.IPv4Address("223.255.255.255")),
        INTERNET_HOSTS,
    ).astype(np.uint64)
    internet = internet[(internet >> np.uint64(24)) != 10]
    return np.unique(np.concatenate([aws, internet]))


def _ipv4_text(values: np.ndarray) -> list[str]:
    v = pl.Series(values.astype(np.int64))
    frame = pl.DataFrame({"v": v}).select(
        pl.concat_str(
            [(pl.col("v") // (1 << s) % 256).cast(pl.String) for s in (24, 16, 8, 0)], separator="."
        )
    )
    return frame.to_series().to_list()


def _records(rng: np.random.Generator, rows: int, export: dict, ranges: dict) -> pl.DataFrame:
    """Every record of the day as typed columns (addresses as indices into one address table)."""
    clients, client_weights = _client_hosts(rng, export)
    n_v6_clients = int((client_weights == 0).sum())
    dests = _destinations(rng, ranges)
    dest_text = _ipv4_text(dests)
    nat64_text = [f"64:ff9b::{d}" for d in dest_text]  # RFC 6052 form with the IPv4 embedded
    # One address table: NAT v4, NAT v6, clients, destinations, destinations as NAT64.
    table = [NAT_IP, NAT_IPV6, *clients, *dest_text, *nat64_text]
    c0, d0 = 2, 2 + len(clients)
    n64 = d0 + len(dest_text)

    day_start = int(datetime(DAY.year, DAY.month, DAY.day, tzinfo=timezone.utc).timestamp())
    sim_start = (
        day_start - WINDOW_S
    )  # the previous day's last window, found in the day's first file
    sim_end = day_start + 86_400
    extras = int(rows * (SCAN_SHARE + NODATA_SHARE))
    n_conn = max(1, (rows - extras) // 4)

    start = np.sort(rng.integers(sim_start, sim_end, n_conn))
    end = start + rng.integers(1, 59, n_conn)
    v6 = rng.random(n_conn) < IPV6_SHARE
    client = np.where(
        v6,
        c0 + len(clients) - n_v6_clients + rng.integers(0, n_v6_clients, n_conn),
        c0 + rng.choice(len(clients), n_conn, p=client_weights / client_weights.sum()),
    )
    dest = rng.integers(0, len(dests), n_conn)
    dest_v4 = d0 + dest
    true_dst = np.where(v6, n64 + dest, dest_v4)
    nat_side = np.where(v6, 1, 0)
    sport = rng.integers(32768, 61000, n_conn)
    up = rng.lognormal(13, 1.5, n_conn).astype(np.int64)
    down = rng.lognormal(15.5, 1.8, n_conn).astype(np.int64)

    def legs(*columns: np.ndarray) -> np.ndarray:
        return np.stack(columns, axis=1).reshape(-1)

    zeros = np.zeros(n_conn, dtype=np.int64)
    nat_v4 = zeros
    conn = pl.DataFrame(
        {
            "start": np.repeat(start, 4),
            "end": np.repeat(end, 4),
            "src": legs(client, nat_v4, dest_v4, nat_side),
            "dst": legs(nat_side, dest_v4, nat_v4, client),
            "pkt_src": legs(client, nat_v4, dest_v4, true_dst),
            "pkt_dst": legs(true_dst, dest_v4, nat_v4, client),
            "srcport": legs(sport, sport, np.full(n_conn, 443), np.full(n_conn, 443)),
            "dstport": legs(np.full(n_conn, 443), np.full(n_conn, 443), sport, sport),
            "bytes": legs(up, up, down, down),
            "flow_direction": legs(zeros, zeros + 1, zeros, zeros + 1),  # 0 ingress, 1 egress
            "traffic_path": legs(zeros, zeros + 8, zeros, zeros),  # 0: none
            "v6": np.repeat(v6, 4),
            "kind": np.zeros(4 * n_conn, dtype=np.int8),  # 0 NAT leg, 1 scan, 2 NODATA, 3 SKIPDATA
        }
    )
    n_scan = int(rows * SCAN_SHARE)
    scan_start = rng.integers(sim_start, sim_end, n_scan)
    scanner = d0 + rng.integers(0, len(dests), n_scan)
    scans = pl.DataFrame(
        {
            "start": scan_start,
            "end": scan_start + 1,
            "src": scanner,
            "dst": np.zeros(n_scan, dtype=np.int64),
            "pkt_src": scanner,
            "pkt_dst": np.zeros(n_scan, dtype=np.int64),
            "srcport": rng.integers(1024, 65535, n_scan),
            "dstport": np.full(n_scan, 22),
            "bytes": np.full(n_scan, 40),
            "flow_direction": np.zeros(n_scan, dtype=np.int64),
            "traffic_path": np.zeros(n_scan, dtype=np.int64),
            "v6": np.zeros(n_scan, dtype=bool),
            "kind": np.ones(n_scan, dtype=np.int8),
        }
    )
    n_nodata = max(1, int(rows * NODATA_SHARE))
    nd_start = rng.integers(sim_start, sim_end, n_nodata)
    nodata = pl.DataFrame(
        {
            "start": nd_start,
            "end": nd_start + 60,
            "kind": np.where(rng.random(n_nodata) < 0.7, 2, 3).astype(np.int8),
        }
    )
    records = pl.concat([conn, scans, nodata], how="diagonal_relaxed")
    late = rng.random(records.height) < LATE_SHARE
    window = (records["start"].to_numpy() - sim_start) // WINDOW_S + late
    last_window = (sim_end - sim_start) // WINDOW_S - 1
    records = records.with_columns(window=pl.Series(np.minimum(window, last_window)))
    records = records.sort("window", "start", maintain_order=True)
    addresses = pl.Series("address", table, dtype=pl.String)
    tcp_flags = pl.Series(rng.choice(np.array([2, 3, 18, 19], dtype=np.int32), records.height))
    return _format(records, addresses, tcp_flags, sim_start)


def _format(
    records: pl.DataFrame, addresses: pl.Series, tcp_flags: pl.Series, sim_start: int
) -> pl.DataFrame:
    """Typed flow log columns in the header's order; null is AWS's ``-``."""
    is_leg = pl.col("kind") <= 1
    data = pl.col("kind") <= 1

    def addr(column: str) -> pl.Expr:
        return pl.when(is_leg).then(pl.lit(addresses).gather(pl.col(column).fill_null(0)))

    status = pl.col("kind").replace_strict(
        {0: "OK", 1: "OK", 2: "NODATA", 3: "SKIPDATA"}, return_dtype=pl.String
    )
    frame = records.with_columns(tcp=tcp_flags).select(
        pl.col("window"),
        pl.lit(5, dtype=pl.Int32).alias("version"),
        pl.lit(ACCOUNT).alias("account_id"),
        pl.lit(INTERFACE).alias("interface_id"),
        addr("src").alias("srcaddr"),
        addr("dst").alias("dstaddr"),
        pl.when(data).then(pl.col("srcport")).cast(pl.Int32).alias("srcport"),
        pl.when(data).then(pl.col("dstport")).cast(pl.Int32).alias("dstport"),
        pl.when(data).then(pl.lit(6)).cast(pl.Int32).alias("protocol"),
        pl.when(data)
        .then(pl.max_horizontal(pl.lit(1), pl.col("bytes") // 1200))
        .cast(pl.Int64)
        .alias("packets"),
        pl.when(data).then(pl.col("bytes")).cast(pl.Int64).alias("bytes"),
        pl.col("start").cast(pl.Int64),
        pl.col("end").cast(pl.Int64),
        pl.when(data)
        .then(pl.when(pl.col("kind") == 1).then(pl.lit("REJECT")).otherwise(pl.lit("ACCEPT")))
        .alias("action"),
        status.alias("log_status"),
        pl.when(data).then(pl.lit(VPC)).alias("vpc_id"),
        pl.when(data).then(pl.lit(SUBNET)).alias("subnet_id"),
        pl.lit(None, dtype=pl.String).alias("instance_id"),
        pl.when(data).then(pl.col("tcp")).cast(pl.Int32).alias("tcp_flags"),
        pl.when(data)
        .then(pl.when(pl.col("v6")).then(pl.lit("IPv6")).otherwise(pl.lit("IPv4")))
        .alias("type"),
        addr("pkt_src").alias("pkt_srcaddr"),
        addr("pkt_dst").alias("pkt_dstaddr"),
        pl.when(data).then(pl.lit(REGION)).alias("region"),
        pl.when(data).then(pl.lit("use1-az1")).alias("az_id"),
        pl.when(data)
        .then(
            pl.when(pl.col("flow_direction") == 1)
            .then(pl.lit("egress"))
            .otherwise(pl.lit("ingress"))
        )
        .alias("flow_direction"),
        pl.when(pl.col("traffic_path") > 0)
        .then(pl.col("traffic_path"))
        .cast(pl.Int32)
        .alias("traffic_path"),
        pl.lit(None, dtype=pl.String).alias("pkt_src_aws_service"),
        pl.lit(None, dtype=pl.String).alias("pkt_dst_aws_service"),
    )
    assert frame.columns[1:] == [f.replace("-", "_") for f in HEADER_FIELDS]
    return frame.with_columns(
        (pl.col("window") * WINDOW_S + sim_start + WINDOW_S + DELIVERY_DELAY_S).alias("delivered")
    )


def _write_deliveries(day: Day, records: pl.DataFrame, seed: int) -> None:
    header = (" ".join(HEADER_FIELDS) + "\n").encode()

    def write(part: pl.DataFrame) -> None:
        delivered = datetime.fromtimestamp(int(part["delivered"][0]), timezone.utc)
        body = part.drop("window", "delivered")
        text = body.write_csv(
            None, separator=" ", include_header=False, null_value="-", quote_style="never"
        )
        suffix = hashlib.sha256(f"{seed}:{delivered:%Y%m%dT%H%M}".encode()).hexdigest()[:8]
        name = f"{ACCOUNT}_vpcflowlogs_{REGION}_{FLOW_LOG_ID}_{delivered:%Y%m%dT%H%MZ}_{suffix}"
        relative = Path("AWSLogs") / ACCOUNT / "vpcflowlogs" / REGION / f"{delivered:%Y/%m/%d}"
        for folder in (day.flowlogs / relative, day.parquet / relative):
            folder.mkdir(parents=True, exist_ok=True)
        (day.flowlogs / relative / f"{name}.log.gz").write_bytes(
            gzip.compress(header + text.encode(), compresslevel=6, mtime=0)
        )
        # AWS's Parquet delivery: underscore names, '-' as null, one object per delivery.
        body.write_parquet(day.parquet / relative / f"{name}.log.parquet", compression="snappy")

    parts = records.partition_by("window", maintain_order=True)
    with ThreadPoolExecutor(max_workers=2) as pool:  # zlib releases the GIL: use both cores
        list(pool.map(write, parts))


def day_date() -> date:
    return DAY


def next_day() -> date:
    return DAY + timedelta(days=1)
