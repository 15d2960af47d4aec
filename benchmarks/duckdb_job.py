"""The same partition job in DuckDB SQL, in three formulations of the prefix match.

DuckDB is fast when written well, so it gets every chance: ``read_csv`` with explicit typed
columns (no sniffing) and the NAT filter in the same statement, both cores, and the same flattened
reference intervals natflow uses (flattening is once per IPAM snapshot, not per row). Only the
IPv6 text of distinct addresses (a few hundred) is turned into keys in Python: DuckDB has no IPv6
parser without the ``inet`` extension, which cannot be downloaded here. Everything per row is SQL.

- ``between``: per NAT row, a range join ``key BETWEEN range_first AND range_last``;
- ``asof``: per NAT row, an ``ASOF`` join on the flattened non-overlapping intervals;
- ``distinct``: distinct addresses staged in a temporary table, keyed and matched once, joined back.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from datetime import date

import duckdb
import polars as pl

from natflow_pipeline.addresses import IPV4_MAPPED_BASE, NAT64_FIRST, cidr_bounds
from natflow_pipeline.costs import GROUP_KEYS, HOURS_PER_DAY
from natflow_pipeline.flowlogs.fields import FIELD_TYPES
from natflow_pipeline.flowlogs.layout import FlowLogObject
from natflow_pipeline.flowlogs.nat import DEFAULT_INTERNAL_CIDRS, day_bounds
from natflow_pipeline.pricing import PriceBook

FORMULATIONS = ("between", "asof", "distinct")
_TWO64 = pl.lit(1 << 64, dtype=pl.UInt128)
_SQL_TYPES = {pl.Int64: "BIGINT", pl.Int32: "INTEGER", pl.String: "VARCHAR"}


def run(
    formulation: str,
    objects: Sequence[FlowLogObject],
    header: Sequence[str],
    day: date,
    ipam_intervals: pl.DataFrame,
    aws_intervals: pl.DataFrame,
    prices: PriceBook,
) -> pl.DataFrame:
    """The day's gold rows (flows and bytes per group key, priced) computed by DuckDB."""
    con = duckdb.connect()
    con.execute("SET threads = 2")
    con.execute("SET preserve_insertion_order = false")
    lo, hi = day_bounds(day)
    # Account and region come from the object key where a row lacks them (as natflow does).
    groups: dict[tuple[str, str], list[str]] = {}
    for obj in objects:
        groups.setdefault((obj.account_id, obj.region), []).append(obj.path)
    columns = ", ".join(f"'{name}': '{_SQL_TYPES[FIELD_TYPES[name]]}'" for name in header)
    scans = []
    for (account, region), paths in groups.items():
        scans.append(
            f"""SELECT coalesce(account_id, '{account}') AS account_id,
                coalesce(region, '{region}') AS region,
                interface_id, dstaddr, pkt_srcaddr, pkt_dstaddr, bytes
            FROM read_csv({paths!r}, delim = ' ', header = true, quote = '', escape = '',
                          nullstr = '-', auto_detect = false, compression = 'gzip',
                          columns = {{{columns}}})
            WHERE coalesce(log_status, '') NOT IN ('NODATA', 'SKIPDATA')
              AND srcaddr IS NOT NULL AND dstaddr IS NOT NULL AND pkt_srcaddr IS NOT NULL
              AND pkt_dstaddr IS NOT NULL AND bytes IS NOT NULL AND start IS NOT NULL
              AND start >= {lo} AND start < {hi}
              AND (srcaddr <> pkt_srcaddr OR dstaddr <> pkt_dstaddr)"""
        )
    con.execute("CREATE TEMP TABLE nat AS " + " UNION ALL ".join(scans))
    _register_intervals(con, "ipam_iv", ipam_intervals, ["team", "source_account_id"])
    _register_intervals(con, "aws_iv", aws_intervals, ["aws_service", "aws_region"])
    v6 = con.execute(
        "SELECT DISTINCT a FROM (SELECT pkt_srcaddr AS a FROM nat"
        " UNION SELECT pkt_dstaddr FROM nat) WHERE contains(a, ':')"
    ).fetchall()
    v6_keys = pl.DataFrame(
        {"addr": [a for (a,) in v6], "key6": [_v6_key(a) for (a,) in v6]},
        schema={"addr": pl.String, "key6": pl.UInt128},
    )
    _register_keys(con, "v6_keys", v6_keys, ["key6"])
    internal = " OR ".join(
        f"({{k}} BETWEEN {first}::UHUGEINT AND {last}::UHUGEINT)"
        for first, last, _ in map(cidr_bounds, DEFAULT_INTERNAL_CIDRS)
    )
    if formulation == "distinct":
        oriented = _distinct(con, internal)
    elif formulation in ("asof", "between"):
        oriented = _per_row(con, internal, formulation)
    else:
        raise ValueError(f"unknown formulation {formulation!r}: expected one of {FORMULATIONS}")
    return _price(con, oriented, day, prices)


def _register_intervals(
    con: duckdb.DuckDBPyConnection, name: str, intervals: pl.DataFrame, payload: list[str]
) -> None:
    _register_keys(
        con,
        name,
        intervals.select("range_first", "range_last", *payload),
        ["range_first", "range_last"],
    )


def _register_keys(
    con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame, keys: list[str]
) -> None:
    """Arrow has no 128-bit unsigned integer: keys go over as two 64-bit halves, rebuilt in SQL."""
    halves = frame.with_columns(
        [
            e
            for k in keys
            for e in (
                (pl.col(k) // _TWO64).cast(pl.UInt64).alias(f"{k}_hi"),
                (pl.col(k) % _TWO64).cast(pl.UInt64).alias(f"{k}_lo"),
            )
        ]
    ).drop(keys)
    con.register(f"{name}_raw", halves.to_arrow())
    rebuilt = ", ".join(f"(({k}_hi::UHUGEINT) << 64) + {k}_lo::UHUGEINT AS {k}" for k in keys)
    others = ", ".join(c for c in frame.columns if c not in keys)
    con.execute(
        f"CREATE TEMP TABLE {name} AS SELECT {rebuilt}{', ' + others if others else ''}"
        f" FROM {name}_raw"
    )


def _v6_key(text: str) -> int | None:
    try:
        return int(ipaddress.IPv6Address(text))
    except ValueError:
        return None


def _key_sql(column: str) -> str:
    """An IPv4 text column as its 128-bit key (IPv4-mapped), or the IPv6 key joined from v6_keys."""
    octets = [f"split_part({column}, '.', {i})::UHUGEINT" for i in range(1, 5)]
    v4 = (
        f"(({octets[0]} << 24) + ({octets[1]} << 16) + ({octets[2]} << 8) + {octets[3]}"
        f" + {IPV4_MAPPED_BASE}::UHUGEINT)"
    )
    return f"CASE WHEN contains({column}, ':') THEN NULL ELSE {v4} END"


def _unwrap_nat64(key: str) -> str:
    return (
        f"CASE WHEN {key} BETWEEN {NAT64_FIRST}::UHUGEINT AND {NAT64_FIRST + 0xFFFFFFFF}::UHUGEINT "
        f"THEN {key} - {NAT64_FIRST}::UHUGEINT + {IPV4_MAPPED_BASE}::UHUGEINT ELSE {key} END"
    )


def _orient_sql(src_internal: str, dst_internal: str) -> str:
    return (
        f"CASE WHEN {src_internal} AND NOT {dst_internal} THEN true "
        f"WHEN {dst_internal} AND NOT {src_internal} THEN false ELSE dstaddr <> pkt_dstaddr END"
    )


def _distinct(con: duckdb.DuckDBPyConnection, internal: str) -> str:
    """Each distinct address keyed, tested and matched once; rows join the answers back."""
    con.execute(
        f"""CREATE TEMP TABLE addr AS
        SELECT a.a AS addr, coalesce(v.key6, {_key_sql("a.a")}) AS key
        FROM (SELECT DISTINCT pkt_srcaddr AS a FROM nat
              UNION SELECT DISTINCT pkt_dstaddr FROM nat) a
        LEFT JOIN v6_keys v ON v.addr = a.a"""
    )
    con.execute(
        f"""CREATE TEMP TABLE matched AS
        WITH k AS (SELECT addr, key, {internal.format(k="key")} AS internal,
                          {_unwrap_nat64("key")} AS ext_key FROM addr),
        i AS (SELECT k.*, CASE WHEN k.key <= iv.range_last THEN iv.team END AS team,
                     CASE WHEN k.key <= iv.range_last THEN iv.source_account_id END
                       AS source_account_id
              FROM k ASOF LEFT JOIN ipam_iv iv ON k.key >= iv.range_first)
        SELECT i.addr, coalesce(i.internal, false) AS internal, i.team, i.source_account_id,
               CASE WHEN i.ext_key <= av.range_last THEN av.aws_service END AS aws_service,
               CASE WHEN i.ext_key <= av.range_last THEN av.aws_region END AS aws_region
        FROM i ASOF LEFT JOIN aws_iv av ON i.ext_key >= av.range_first"""
    )
    egress = _orient_sql("s.internal", "d.internal")
    con.execute(
        f"""CREATE TEMP TABLE oriented AS
        SELECT account_id, region, interface_id, bytes,
               CASE WHEN e THEN 'egress' ELSE 'ingress' END AS direction,
               CASE WHEN e THEN s_team ELSE d_team END AS team,
               CASE WHEN e THEN s_account ELSE d_account END AS source_account_id,
               CASE WHEN e THEN d_service ELSE s_service END AS aws_service,
               CASE WHEN e THEN d_region ELSE s_region END AS aws_region
        FROM (SELECT n.account_id, n.region, n.interface_id, n.bytes, {egress} AS e,
                     s.team AS s_team, d.team AS d_team,
                     s.source_account_id AS s_account, d.source_account_id AS d_account,
                     s.aws_service AS s_service, d.aws_service AS d_service,
                     s.aws_region AS s_region, d.aws_region AS d_region
              FROM nat n JOIN matched s ON s.addr = n.pkt_srcaddr
                         JOIN matched d ON d.addr = n.pkt_dstaddr)"""
    )
    return "oriented"


def _per_row(con: duckdb.DuckDBPyConnection, internal: str, formulation: str) -> str:
    """Keys computed and matched for every NAT row (no distinct staging)."""
    con.execute(
        f"""CREATE TEMP TABLE keyed AS
        SELECT n.*, coalesce(vs.key6, {_key_sql("n.pkt_srcaddr")}) AS src_key,
                    coalesce(vd.key6, {_key_sql("n.pkt_dstaddr")}) AS dst_key
        FROM nat n LEFT JOIN v6_keys vs ON vs.addr = n.pkt_srcaddr
                   LEFT JOIN v6_keys vd ON vd.addr = n.pkt_dstaddr"""
    )
    egress = _orient_sql(
        f"coalesce({internal.format(k='src_key')}, false)",
        f"coalesce({internal.format(k='dst_key')}, false)",
    )
    con.execute(
        f"""CREATE TEMP TABLE sided AS
        SELECT account_id, region, interface_id, bytes, e,
               CASE WHEN e THEN src_key ELSE dst_key END AS int_key,
               {_unwrap_nat64("CASE WHEN e THEN dst_key ELSE src_key END")} AS ext_key
        FROM (SELECT *, {egress} AS e FROM keyed)"""
    )
    if formulation == "asof":
        ipam_join = "ASOF LEFT JOIN ipam_iv iv ON s.int_key >= iv.range_first"
        aws_join = "ASOF LEFT JOIN aws_iv av ON t.ext_key >= av.range_first"
        team = "CASE WHEN s.int_key <= iv.range_last THEN iv.{c} END"
        aws = "CASE WHEN t.ext_key <= av.range_last THEN av.{c} END"
    else:
        ipam_join = "LEFT JOIN ipam_iv iv ON s.int_key BETWEEN iv.range_first AND iv.range_last"
        aws_join = "LEFT JOIN aws_iv av ON t.ext_key BETWEEN av.range_first AND av.range_last"
        team = "iv.{c}"
        aws = "av.{c}"
    con.execute(
        f"""CREATE TEMP TABLE oriented AS
        WITH t AS (SELECT s.*, {team.format(c="team")} AS team,
                          {team.format(c="source_account_id")} AS source_account_id
                   FROM sided s {ipam_join})
        SELECT t.account_id, t.region, t.interface_id, t.bytes,
               CASE WHEN t.e THEN 'egress' ELSE 'ingress' END AS direction,
               t.team, t.source_account_id,
               {aws.format(c="aws_service")} AS aws_service,
               {aws.format(c="aws_region")} AS aws_region
        FROM t {aws_join}"""
    )
    return "oriented"


def _price(
    con: duckdb.DuckDBPyConnection, oriented: str, day: date, prices: PriceBook
) -> pl.DataFrame:
    regions = [
        r
        for (r,) in con.execute(
            f"SELECT DISTINCT region FROM {oriented} WHERE region IS NOT NULL"
        ).fetchall()
    ]
    price_table = pl.DataFrame(
        {
            "region": regions,
            "per_gb": [prices.per_gb(r) for r in regions],
            "per_hour": [prices.per_hour(r) for r in regions],
        },
        schema={"region": pl.String, "per_gb": pl.Float64, "per_hour": pl.Float64},
    )
    con.register("prices", price_table.to_arrow())
    keys = ", ".join(k for k in GROUP_KEYS if k != "usage_date")
    result = con.sql(
        f"""WITH g AS (
            SELECT coalesce(team, 'unattributed') AS team, account_id, source_account_id, region,
                   interface_id, direction,
                   CASE WHEN aws_service IS NULL THEN 'internet'
                        WHEN aws_region = region THEN 'aws_same_region'
                        ELSE 'aws_other_region' END AS destination_class, aws_service,
                   count(*)::BIGINT AS flows, sum(bytes)::BIGINT AS bytes
            FROM {oriented}
            GROUP BY ALL)
        SELECT DATE '{day.isoformat()}' AS usage_date, {keys}, flows, bytes,
               bytes / {prices.billing_gb_bytes}::DOUBLE AS gb,
               bytes / {prices.billing_gb_bytes}::DOUBLE * p.per_gb AS data_processing_usd,
               coalesce(p.per_hour * {HOURS_PER_DAY} * bytes
                          / sum(bytes) OVER (PARTITION BY interface_id, g.region), 0) AS hourly_usd
        FROM g LEFT JOIN prices p USING (region)"""
    ).to_arrow_table()
    result = pl.from_arrow(result)
    return result.with_columns(
        (pl.col("data_processing_usd") + pl.col("hourly_usd")).alias("total_usd")
    )
