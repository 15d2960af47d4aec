"""The IPAM and ip-ranges rules, by property tests against slow, obvious references.

test_addresses.py checks the interval machinery; these check the rules built on it: address
objects beat prefixes, bare prefixes inherit (or not), the account follows the team's rules;
and in ip-ranges.json the most specific prefix wins with AMAZON < EC2 < a named service.
"""

from __future__ import annotations

import ipaddress

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from natflow_pipeline import aws_ip_ranges, ipam
from natflow_pipeline.addresses import address_keys, longest_prefix_match

TEAMS = [None, "payments", "search", "identity"]
ACCOUNTS = [None, "111111111111", "222222222222"]
SERVICES = ["AMAZON", "EC2", "S3", "DYNAMODB", "ROUTE53_HEALTHCHECKS"]
REGIONS = ["us-east-1", "eu-west-1", "GLOBAL"]
V6_BASE = 0x2600 << 112


def _v4(a: int, n: int) -> str:
    return str(
        ipaddress.ip_network(
            f"{ipaddress.IPv4Address(0x0A000000 | a & 0xFFFFFF)}/{n}", strict=False
        )
    )


def _v6(a: int, n: int) -> str:
    return str(
        ipaddress.ip_network(
            f"{ipaddress.IPv6Address(V6_BASE | a & ((1 << 40) - 1))}/{n}", strict=False
        )
    )


# Prefixes packed into 10.0.0.0/8 (lengths 8..28) and a small IPv6 /88, so they nest often.
cidr = st.one_of(
    st.builds(_v4, st.integers(0, 2**24 - 1), st.integers(8, 28)),
    st.builds(_v6, st.integers(0, 2**40 - 1), st.integers(88, 124)),
)
v4_addr = st.integers(0, 2**24 - 1).map(lambda a: str(ipaddress.IPv4Address(0x0A000000 | a)))
v6_addr = st.integers(0, 2**40 - 1).map(lambda a: str(ipaddress.IPv6Address(V6_BASE | a)))
address = st.one_of(v4_addr, v6_addr)


def probes_for(cidrs: list[str], extra: list[str]) -> list[str]:
    """Random addresses plus each prefix's edges and the addresses just outside them."""
    out = list(extra)
    for text in cidrs:
        net = ipaddress.ip_network(text)
        out += [
            str(net.network_address),
            str(net.broadcast_address),
            str(net.network_address - 1),
            str(net.broadcast_address + 1),
        ]
    return sorted(set(out))


def lpm(
    intervals: pl.DataFrame, payload: list[str], addresses: list[str]
) -> dict[str, dict[str, object]]:
    probe = pl.DataFrame({"addr": addresses}).with_columns(key=address_keys(pl.Series(addresses)))
    out = longest_prefix_match(probe, "key", intervals, payload)
    return {row["addr"]: row for row in out.iter_rows(named=True)}


# --- IPAM -------------------------------------------------------------------------------------


def ipam_reference(
    prefixes: list[dict], addresses: list[dict], inherit: bool, ip: str
) -> tuple[str | None, str | None]:
    """(team, account) of ``ip`` by reading the rules literally, one address at a time."""
    target = ipaddress.ip_address(ip)
    containing = sorted(
        (p for p in prefixes if target in ipaddress.ip_network(p["prefix"])),
        key=lambda p: ipaddress.ip_network(p["prefix"]).prefixlen,
        reverse=True,
    )

    def nearest(field: str) -> str | None:  # the most specific enclosing prefix that has one
        return next((p[field] for p in containing if p[field]), None)

    def own_or_inherited(value: str | None, field: str) -> str | None:
        return value if value or not inherit else nearest(field)

    for a in addresses:
        if ipaddress.ip_interface(a["address"]).ip == target:
            team = own_or_inherited(a["team"], "team")
            if team:  # an address object with a team beats every prefix
                return team, own_or_inherited(None, "account")
    if not containing:
        return None, None
    most_specific = containing[0]
    return own_or_inherited(most_specific["team"], "team"), own_or_inherited(
        most_specific["account"], "account"
    )


def as_netbox(prefixes: list[dict], addresses: list[dict]) -> tuple[list[dict], list[dict]]:
    def tenant(name: str | None) -> dict | None:
        return None if name is None else {"id": TEAMS.index(name), "name": name, "slug": name}

    nb_prefixes = [
        {
            "id": i,
            "prefix": p["prefix"],
            "tenant": tenant(p["team"]),
            "custom_fields": {"aws_account_id": p["account"]},
        }
        for i, p in enumerate(prefixes)
    ]
    nb_addresses = [
        {"id": i, "address": a["address"], "tenant": tenant(a["team"]), "custom_fields": {}}
        for i, a in enumerate(addresses)
    ]
    return nb_prefixes, nb_addresses


@settings(max_examples=120, deadline=None)
@given(
    prefixes=st.lists(
        st.fixed_dictionaries(
            {"prefix": cidr, "team": st.sampled_from(TEAMS), "account": st.sampled_from(ACCOUNTS)}
        ),
        max_size=20,
        unique_by=lambda p: p["prefix"],
    ),
    addresses=st.lists(
        st.fixed_dictionaries(
            {
                "address": address.map(lambda a: f"{a}/{24 if '.' in a else 64}"),
                "team": st.sampled_from(TEAMS),
            }
        ),
        max_size=6,
        unique_by=lambda a: a["address"].split("/")[0],
    ),
    probes=st.lists(address, max_size=20),
    inherit=st.booleans(),
)
def test_ipam_lookup_agrees_with_the_rules_read_literally(prefixes, addresses, probes, inherit):
    nb_prefixes, nb_addresses = as_netbox(prefixes, addresses)
    table = ipam.snapshot(nb_prefixes, nb_addresses, inherit=inherit)
    addrs = probes_for(
        [p["prefix"] for p in prefixes], probes + [a["address"].split("/")[0] for a in addresses]
    )
    got = lpm(ipam.lookup_intervals(table), list(ipam.MATCH_SCHEMA), addrs)
    for ip in addrs:
        row = got[ip]
        assert (row["team"], row["source_account_id"]) == ipam_reference(
            prefixes, addresses, inherit, ip
        ), ip


# --- ip-ranges.json ---------------------------------------------------------------------------


BREADTH = {"AMAZON": 0, "EC2": 1}


def ranges_reference(entries: list[dict], ip: str) -> tuple[str, str, str] | None:
    """(service, region, prefix): the longest prefix; for it AMAZON < EC2 < a named service, then
    the alphabetically first service and region."""
    target = ipaddress.ip_address(ip)
    containing = [e for e in entries if target in ipaddress.ip_network(e["prefix"])]
    if not containing:
        return None
    longest = max(ipaddress.ip_network(e["prefix"]).prefixlen for e in containing)
    same = [e for e in containing if ipaddress.ip_network(e["prefix"]).prefixlen == longest]
    best = min(same, key=lambda e: (-BREADTH.get(e["service"], 2), e["service"], e["region"]))
    return best["service"], best["region"], best["prefix"]


@settings(max_examples=120, deadline=None)
@given(
    entries=st.lists(
        st.fixed_dictionaries(
            {
                "prefix": cidr,
                "service": st.sampled_from(SERVICES),
                "region": st.sampled_from(REGIONS),
            }
        ),
        max_size=25,
        unique_by=lambda e: (e["prefix"], e["service"], e["region"]),
    ),
    probes=st.lists(address, max_size=20),
)
def test_ip_ranges_lookup_agrees_with_the_rules_read_literally(entries, probes):
    document = {
        "syncToken": "1",
        "createDate": "2026-08-22-15-17-05",
        "prefixes": [
            {
                "ip_prefix": e["prefix"],
                "service": e["service"],
                "region": e["region"],
                "network_border_group": e["region"],
            }
            for e in entries
            if "." in e["prefix"]
        ],
        "ipv6_prefixes": [
            {
                "ipv6_prefix": e["prefix"],
                "service": e["service"],
                "region": e["region"],
                "network_border_group": e["region"],
            }
            for e in entries
            if ":" in e["prefix"]
        ],
    }
    if not entries:
        return  # a document without prefixes is refused (tested in test_aws_ip_ranges.py)
    table = aws_ip_ranges.parse(document, "generated")
    addrs = probes_for([e["prefix"] for e in entries], probes)
    got = lpm(aws_ip_ranges.lookup_intervals(table), list(aws_ip_ranges.MATCH_SCHEMA), addrs)
    for ip in addrs:
        row = got[ip]
        answer = (
            None
            if row["aws_service"] is None
            else (row["aws_service"], row["aws_region"], row["aws_prefix"])
        )
        assert answer == ranges_reference(entries, ip), ip
