"""The IPAM lookup: nesting, inheritance, address objects, team sources."""

from __future__ import annotations

import polars as pl
import pytest

from natflow_pipeline import ipam
from natflow_pipeline.addresses import address_keys, longest_prefix_match
from natflow_pipeline.ipam import TeamSource, lookup_intervals, snapshot


def prefix(cidr, tenant=None, account=None, group=None, tags=(), team_cf=None):
    t = (
        None
        if tenant is None
        else {
            "id": hash(tenant) % 1000,
            "name": tenant,
            "slug": tenant,
            **({"group": {"name": group}} if group else {}),
        }
    )
    return {
        "id": hash(cidr) % 10_000,
        "prefix": cidr,
        "tenant": t,
        "status": {"value": "active"},
        "vrf": None,
        "custom_fields": {"aws_account_id": account, "team": team_cf},
        "tags": [{"name": n} for n in tags],
    }


def address(addr, tenant=None):
    return {
        "id": hash(addr) % 10_000,
        "address": addr,
        "tenant": None if tenant is None else {"name": tenant},
        "custom_fields": {},
    }


def teams_of(frame: pl.DataFrame, addresses: list[str]) -> dict[str, str | None]:
    probe = pl.DataFrame({"addr": addresses}).with_columns(key=address_keys(pl.Series(addresses)))
    out = longest_prefix_match(probe, "key", lookup_intervals(frame), list(ipam.MATCH_SCHEMA))
    return dict(zip(out["addr"], out["team"], strict=True))


NESTED = [
    prefix("10.10.0.0/16", "payments", "111111111111"),
    prefix("10.10.1.0/24"),
    prefix("10.10.2.0/24", "checkout"),
    prefix("10.10.2.128/25"),
    prefix("10.40.0.0/16"),
    prefix("10.40.1.0/24", "identity"),
    prefix("2600:1f18::/56", "data-platform"),
]


def test_most_specific_prefix_with_a_team_wins_and_bare_children_inherit():
    frame = snapshot(NESTED, [address("10.10.1.50/24", "identity"), address("10.10.1.60/24")])
    got = teams_of(
        frame,
        [
            "10.10.1.7",
            "10.10.2.5",
            "10.10.2.200",
            "10.10.9.9",
            "10.40.1.1",
            "10.40.9.9",
            "10.10.1.50",
            "10.10.1.60",
            "2600:1f18::7",
            "8.8.8.8",
        ],
    )
    assert got == {
        "10.10.1.7": "payments",
        "10.10.2.5": "checkout",
        "10.10.2.200": "checkout",  # nearest ancestor with a tenant, not the /16
        "10.10.9.9": "payments",
        "10.40.1.1": "identity",
        "10.40.9.9": None,  # untenanted container: unattributed downstream
        "10.10.1.50": "identity",  # the address object beats every prefix
        "10.10.1.60": "payments",  # an address object without a tenant overrides nothing
        "2600:1f18::7": "data-platform",
        "8.8.8.8": None,
    }


def test_source_account_is_inherited_like_the_team():
    frame = snapshot(NESTED, [])
    row = frame.filter(pl.col("prefix") == "10.10.2.128/25").row(0, named=True)
    assert row["effective_team"] == "checkout" and row["team_inherited_from"] == "10.10.2.0/24"
    assert row["effective_source_account_id"] == "111111111111"


def test_inheritance_off_leaves_bare_subnets_unattributed():
    frame = snapshot(NESTED, [], inherit=False)
    assert teams_of(frame, ["10.10.1.7", "10.10.9.9"]) == {
        "10.10.1.7": None,
        "10.10.9.9": "payments",
    }


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("tenant", "payments"),
        ("tenant_group", "commerce"),
        ("custom_field:team", "pay-team"),
        ("tag:team:", "pay"),
    ],
)
def test_the_team_attribute_is_configuration(source, expected):
    entry = prefix(
        "10.10.0.0/16",
        "payments",
        group="commerce",
        tags=("env:prod", "team:pay"),
        team_cf="pay-team",
    )
    frame = snapshot([entry], [], team_source=TeamSource(source))
    assert frame["team"].to_list() == [expected]


def test_unknown_team_source_is_refused():
    with pytest.raises(ValueError, match="unknown team source"):
        snapshot([prefix("10.0.0.0/8", "x")], [], team_source=TeamSource("owner"))


def test_the_client_az_is_the_most_specific_prefix_with_an_az_id():
    from natflow_pipeline.ipam import AZ_MATCH_SCHEMA, az_intervals

    prefixes = [
        {"id": 1, "prefix": "10.0.0.0/16", "custom_fields": {}},  # a VPC: no AZ
        {"id": 2, "prefix": "10.0.1.0/24", "custom_fields": {"az_id": "use1-az2"}},
        {"id": 3, "prefix": "10.0.1.128/25", "custom_fields": {"az_id": "use1-az1"}},
        {"id": 4, "prefix": "10.0.1.192/26", "custom_fields": {"az_id": ""}},  # blank: none
    ]
    addresses = [{"id": 1, "address": "10.0.1.10/24", "custom_fields": {"az_id": "use1-az9"}}]
    frame = ipam.snapshot(prefixes, addresses)
    assert frame.filter(pl.col("kind") == "ip_address")["az_id"].to_list() == [None]
    probe = pl.DataFrame({"addr": ["10.0.1.10", "10.0.1.130", "10.0.1.200", "10.0.2.1"]})
    probe = probe.with_columns(pl.col("addr").map_batches(address_keys).alias("key"))
    out = longest_prefix_match(probe, "key", az_intervals(frame), list(AZ_MATCH_SCHEMA))
    got = dict(zip(out["addr"], out["client_az_id"], strict=True))
    assert got == {
        "10.0.1.10": "use1-az2",  # the /24's: an address object gives no AZ
        "10.0.1.130": "use1-az1",  # the /25 beats the /24
        "10.0.1.200": "use1-az1",  # the /26 has none: the /25 that holds it does
        "10.0.2.1": None,  # only the VPC, which has no AZ: unknown
    }
    # A snapshot from before az_id was kept: nobody's AZ is known.
    assert az_intervals(frame.drop("az_id")).is_empty()


def test_a_prefix_marked_vpc_role_egress_is_the_egress_vpcs():
    from natflow_pipeline.ipam import egress_vpc_prefixes

    prefixes = [
        {"id": 1, "prefix": "10.255.0.0/24", "custom_fields": {"vpc_role": "egress"}},
        {"id": 2, "prefix": "2600:1f18:4a00:ff::/64", "custom_fields": {"vpc_role": " egress "}},
        {"id": 3, "prefix": "10.10.0.0/16", "custom_fields": {"vpc_role": "workload"}},
        {"id": 4, "prefix": "10.20.0.0/16", "custom_fields": {"vpc_role": ""}},  # blank: none
        {"id": 5, "prefix": "10.30.0.0/16", "custom_fields": {}},
    ]
    addresses = [{"id": 1, "address": "10.40.0.9/24", "custom_fields": {"vpc_role": "egress"}}]
    frame = ipam.snapshot(prefixes, addresses)
    roles = dict(zip(frame["prefix"], frame["vpc_role"], strict=True))
    assert roles["10.10.0.0/16"] == "workload" and roles["10.20.0.0/16"] is None
    assert roles["10.40.0.9/32"] is None  # an address object carries no role
    assert frame.schema["vpc_role"] == pl.String
    assert egress_vpc_prefixes(frame) == ["10.255.0.0/24", "2600:1f18:4a00:ff::/64"]
    # A snapshot from before vpc_role was kept marks nothing.
    assert egress_vpc_prefixes(frame.drop("vpc_role")) == []
    assert egress_vpc_prefixes(ipam.snapshot([], [])) == []
