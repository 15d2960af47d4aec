"""Longest-prefix match against the obvious reference (the ipaddress module), by property tests."""

from __future__ import annotations

import ipaddress

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from natflow_pipeline.addresses import (
    Owned,
    address_keys,
    cidr_bounds,
    flatten,
    key_of,
    longest_prefix_match,
    network_text,
    unwrap_nat64,
)

PAYLOAD = {"owner": pl.String}


def match(prefixes: list[tuple[str, str, int]], addresses: list[str]) -> dict[str, str | None]:
    owned = []
    for cidr, owner, rank in prefixes:
        first, last, length = cidr_bounds(cidr)
        owned.append(Owned(first, last, length, rank, {"owner": owner}))
    intervals = flatten(owned, PAYLOAD)
    frame = pl.DataFrame({"addr": addresses})
    frame = frame.with_columns(key=address_keys(frame["addr"]))
    out = longest_prefix_match(frame, "key", intervals, ["owner"])
    return dict(zip(out["addr"], out["owner"], strict=True))


def reference(prefixes: list[tuple[str, str, int]], address: str) -> str | None:
    ip = ipaddress.ip_address(address)
    best = None
    for cidr, owner, rank in prefixes:
        net = ipaddress.ip_network(cidr)
        if net.version == ip.version and ip in net:
            key = (net.prefixlen, rank)
            if best is None or key >= best[0]:
                best = (key, owner)
    return None if best is None else best[1]


v4_prefix = st.builds(
    lambda a, n: str(ipaddress.ip_network(f"{ipaddress.IPv4Address(a)}/{n}", strict=False)),
    st.integers(0, 2**32 - 1).map(
        lambda a: a & 0x0FFFFFFF | 0x0A000000
    ),  # 10/8: overlaps are likely
    st.integers(8, 32),
)
v6_prefix = st.builds(
    lambda a, n: str(ipaddress.ip_network(f"{ipaddress.IPv6Address(a)}/{n}", strict=False)),
    st.integers(0, 2**128 - 1).map(lambda a: a & ((1 << 100) - 1) | (0x2600 << 112)),
    st.integers(16, 128),
)


@settings(max_examples=150, deadline=None)
@given(
    prefixes=st.lists(
        st.tuples(st.one_of(v4_prefix, v6_prefix), st.sampled_from("abcdef"), st.integers(0, 1)),
        max_size=25,
        unique_by=lambda p: (p[0], p[2]),
    ),
    probes=st.lists(
        st.one_of(
            st.integers(0x0A000000, 0x0AFFFFFF).map(lambda a: str(ipaddress.IPv4Address(a))),
            st.integers(0x2600 << 112, (0x2600 << 112) + (1 << 100)).map(
                lambda a: str(ipaddress.IPv6Address(a))
            ),
        ),
        max_size=30,
    ),
)
def test_longest_prefix_match_agrees_with_the_obvious_reference(prefixes, probes):
    # Probes inside each prefix too, at its edges, where interval mistakes hide.
    edges = []
    for cidr, _, _ in prefixes:
        net = ipaddress.ip_network(cidr)
        edges += [
            str(net.network_address),
            str(net.broadcast_address),
            str(net.network_address - 1) if int(net.network_address) else str(net.network_address),
        ]
    # Deduplicate equal (prefix, rank) choices the way the product does: one owner per prefix and
    # rank.
    got = match(prefixes, probes + edges)
    for address in probes + edges:
        assert got[address] == reference(prefixes, address), address


def test_address_keys_parse_both_families_and_null_the_rest():
    keys = address_keys(
        pl.Series(
            ["10.0.0.1", "::ffff:10.0.0.1", "2600::1", "10.0.0.256", "nonsense", None, "1.2.3"]
        )
    )
    assert keys.to_list()[:3] == [
        key_of("10.0.0.1"),
        key_of("10.0.0.1"),
        int(ipaddress.IPv6Address("2600::1")),
    ]
    assert keys.to_list()[3:] == [None, None, None, None]


def test_nat64_addresses_unwrap_to_their_ipv4():
    keys = pl.DataFrame({"k": address_keys(pl.Series(["64:ff9b::34d8:1", "2600::1"]))})
    out = keys.select(unwrap_nat64(pl.col("k"))).to_series().to_list()
    assert out == [key_of("52.216.0.1"), int(ipaddress.IPv6Address("2600::1"))]


@settings(max_examples=300, deadline=None)
@given(
    value=st.integers(0, 2**32 - 1),
    length=st.one_of(st.none(), st.integers(0, 32)),
    v6=st.integers(0, 2**128 - 1),
    v6_length=st.integers(0, 128),
)
def test_network_text_is_what_ipaddress_says(value, length, v6, v6_length):
    """Host bits dropped, a bare address a /32, IPv6 canonical: exactly
    ``str(ip_network(strict=False))``."""
    for cidr in (
        str(ipaddress.IPv4Address(value)) + ("" if length is None else f"/{length}"),
        f"{ipaddress.IPv6Address(v6)}/{v6_length}",
        f"::ffff:{ipaddress.IPv4Address(value)}/{96 + (length or 0)}",
    ):
        net = ipaddress.ip_network(cidr, strict=False)
        assert network_text(cidr) == (str(net), net.version)


@pytest.mark.parametrize(
    "text",
    ["10.0.0.01/8", "10.0.0.1/33", "256.0.0.0/8", "10.0.0/8", "10.0.0.0/ 8", "not-a-prefix", ""],
)
def test_network_text_refuses_what_ipaddress_refuses(text):
    with pytest.raises(ValueError):
        ipaddress.ip_network(text, strict=False)
    with pytest.raises(ValueError):
        network_text(text)
