"""IP addresses and prefixes as sortable 128-bit integers, and the longest-prefix match.

Both families share one key space: an IPv4 address ``a.b.c.d`` maps to the IPv4-mapped IPv6
address ``::ffff:a.b.c.d``, so one ``UInt128`` column sorts and joins IPv4 and IPv6 together and
one ``join_asof`` answers the longest-prefix match for both.

Nested prefixes are flattened once per table (IPAM snapshot, ip-ranges version) into
non-overlapping intervals, each carrying its most specific owner. The per-row work is then one
sorted ``join_asof`` on the distinct addresses, never a cross or range join.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

KEY = pl.UInt128
IPV4_MAPPED_BASE = 0xFFFF << 32
_IPV4_PATTERN = r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$"


def address_keys(addresses: pl.Series) -> pl.Series:
    """Sortable 128-bit keys of textual addresses; null where the text is not an address.

    IPv4 is converted with vectorised string expressions. IPv6 text (``::`` compression, embedded
    IPv4) is parsed by the standard library once per *distinct* value: IPv6 is a small share of
    flow log addresses and its grammar is not worth re-implementing in expressions.
    """
    frame = pl.DataFrame({"text": addresses.cast(pl.String)})
    v4 = frame.select(_ipv4_key(pl.col("text")).alias("key")).to_series()
    is_v6 = frame.select(pl.col("text").str.contains(":", literal=True).fill_null(False)).to_series()
    if not is_v6.any():
        return v4.alias(addresses.name)
    distinct_v6 = addresses.filter(is_v6).unique()
    lookup = pl.DataFrame(
        {"text": distinct_v6, "key6": pl.Series([_ipv6_int(t) for t in distinct_v6.to_list()], dtype=KEY)}
    )
    keyed = frame.join(lookup, on="text", how="left", maintain_order="left")
    return keyed.select(pl.coalesce("key6", v4).alias(addresses.name)).to_series()


NAT64_FIRST = 0x64FF9B << 96  # 64:ff9b::/96, the well-known NAT64 prefix (RFC 6052)


def unwrap_nat64(keys: pl.Expr) -> pl.Expr:
    """Map ``64:ff9b::a.b.c.d`` to the IPv4 address it embeds.

    An IPv6-only client reaches IPv4 destinations through the NAT gateway's NAT64; the flow log shows
    the synthesised IPv6 address, but the service it reaches is the embedded IPv4's.
    """
    first = pl.lit(NAT64_FIRST, dtype=KEY)
    last = pl.lit(NAT64_FIRST + 0xFFFFFFFF, dtype=KEY)
    return pl.when(keys.is_between(first, last)).then(keys - first + pl.lit(IPV4_MAPPED_BASE, dtype=KEY)).otherwise(keys)


def _ipv4_key(text: pl.Expr) -> pl.Expr:
    # One regex pass decides validity; the octets come from a plain split (four regex extractions
    # cost four passes over every address).
    shaped = text.str.contains(_IPV4_PATTERN)
    parts = text.str.split_exact(".", 3)
    octets = [parts.struct.field(f"field_{i}").cast(pl.UInt32, strict=False) for i in range(4)]
    valid = shaped & pl.all_horizontal([o.is_not_null() & (o <= 255) for o in octets])
    value = (octets[0] * (1 << 24) + octets[1] * (1 << 16) + octets[2] * (1 << 8) + octets[3]).cast(KEY)
    return pl.when(valid).then(value + pl.lit(IPV4_MAPPED_BASE, dtype=KEY)).otherwise(None)


def _ipv6_int(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(ipaddress.IPv6Address(text))
    except ValueError:
        return None


def key_of(address: str) -> int:
    """The key of one address (scalar counterpart of :func:`address_keys`, for configuration)."""
    ip = ipaddress.ip_address(address)
    return int(ip) + IPV4_MAPPED_BASE if ip.version == 4 else int(ip)


def cidr_bounds(cidr: str) -> tuple[int, int, int]:
    """(first key, last key, prefix length in the 128-bit space) of a CIDR string.

    Host bits are ignored (``10.1.2.3/8`` is ``10.0.0.0/8``), as ``ip_network(strict=False)`` does.
    Plain IPv4 is parsed by hand: reference tables hold tens of thousands of prefixes, and the
    ``ipaddress`` module costs about 30 us for each; anything else goes through ``ipaddress``.
    """
    fast = _ipv4_cidr_bounds(cidr)
    if fast is not None:
        return fast
    net = ipaddress.ip_network(cidr, strict=False)
    if net.version == 4:
        first = int(net.network_address) + IPV4_MAPPED_BASE
        return first, first + net.num_addresses - 1, net.prefixlen + 96
    first = int(net.network_address)
    return first, first + net.num_addresses - 1, net.prefixlen


_IPV4_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4_CIDR = re.compile(rf"{_IPV4_OCTET}\.{_IPV4_OCTET}\.{_IPV4_OCTET}\.{_IPV4_OCTET}(?:/(3[0-2]|[12]?[0-9]))?")


def _ipv4_cidr_bounds(cidr: str) -> tuple[int, int, int] | None:
    match = _IPV4_CIDR.fullmatch(cidr)
    if match is None:
        return None
    a, b, c, d, length_text = match.groups()
    value = (int(a) << 24) | (int(b) << 16) | (int(c) << 8) | int(d)
    length = 32 if length_text is None else int(length_text)
    size = 1 << (32 - length)
    first = (value & ~(size - 1)) + IPV4_MAPPED_BASE
    return first, first + size - 1, length + 96


@dataclass(frozen=True)
class Owned:
    """A prefix (or single address) and what it says about the addresses inside it.

    ``rank`` breaks ties between equal prefixes: the higher rank wins (an IPAM address object over
    a /32 prefix, a specific AWS service over ``AMAZON``).
    """

    first: int
    last: int
    length: int
    rank: int
    payload: dict[str, Any]


def flatten(prefixes: Iterable[Owned], payload_schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Non-overlapping intervals, each with the payload of its most specific covering prefix.

    CIDR blocks are either nested or disjoint, so one sweep over the blocks sorted by start (the
    larger block first when two start together, so a parent precedes its children), with a stack
    of open blocks, hands every gap between children back to the enclosing parent.
    Runs once per reference table (thousands of prefixes), not per flow.
    """
    ordered = sorted(prefixes, key=lambda p: (p.first, p.length, p.rank))
    # Equal blocks: keep only the highest rank (sorted last among equals).
    unique: list[Owned] = []
    for p in ordered:
        if unique and unique[-1].first == p.first and unique[-1].length == p.length:
            unique[-1] = p
        else:
            unique.append(p)

    starts: list[int] = []
    ends: list[int] = []
    owners: list[Owned] = []

    def emit(first: int, last: int, owner: Owned) -> None:
        if first <= last:
            starts.append(first)
            ends.append(last)
            owners.append(owner)

    stack: list[tuple[Owned, int]] = []  # (block, next uncovered key inside it)
    for block in unique:
        while stack and stack[-1][0].last < block.first:
            closed, cursor = stack.pop()
            emit(cursor, closed.last, closed)
            if stack:
                stack[-1] = (stack[-1][0], closed.last + 1)
        if stack:
            parent, cursor = stack[-1]
            emit(cursor, block.first - 1, parent)
        stack.append((block, block.first))
    while stack:
        closed, cursor = stack.pop()
        emit(cursor, closed.last, closed)
        if stack:
            stack[-1] = (stack[-1][0], closed.last + 1)

    columns: dict[str, pl.Series] = {
        "range_first": pl.Series(starts, dtype=KEY),
        "range_last": pl.Series(ends, dtype=KEY),
    }
    for name, dtype in payload_schema.items():
        columns[name] = pl.Series(name, [o.payload.get(name) for o in owners], dtype=dtype)
    return pl.DataFrame(columns).sort("range_first")


def longest_prefix_match(
    addresses: pl.DataFrame, key_column: str, intervals: pl.DataFrame, payload: Sequence[str]
) -> pl.DataFrame:
    """Attach the payload of the interval containing each address (nulls where none does).

    ``intervals`` comes from :func:`flatten`; ``addresses`` should hold distinct keys, since the
    caller joins the answer back to its rows.
    """
    left = addresses.sort(key_column)
    right = intervals.select("range_first", "range_last", *payload)
    matched = left.join_asof(right, left_on=key_column, right_on="range_first", strategy="backward", check_sortedness=False)
    inside = pl.col(key_column) <= pl.col("range_last")
    return matched.with_columns(
        [pl.when(inside).then(pl.col(c)).otherwise(None).alias(c) for c in payload]
    ).drop("range_first", "range_last", strict=False)
