"""Globex, the fictional company of the embedded default, and its NetBox IPAM.

The model states each subnet's intended team directly, independent of the pipeline's matching
logic, so the ground truth checks the pipeline rather than repeating it. The IPAM deliberately has
nesting (bare subnets under a team's container, a subnet of another team inside a container), an
IP address object that overrides its prefix, an address object without a tenant (overrides
nothing), untenanted space, a custom field with the owning AWS account, and IPv6.
"""

from __future__ import annotations

from dataclasses import dataclass

NAT_ACCOUNT = "999999999999"
NAT_REGION = "us-east-1"
NAT_INTERFACE = "eni-0a1b2c3d4e5f67890"
NAT_PRIVATE_IP = "10.255.0.10"
NAT_PRIVATE_IPV6 = "2600:1f18:4a00:ff::10"
NAT_VPC = "vpc-0e1d2c3b4a5968777"
NAT_SUBNET = "subnet-0aa11bb22cc33dd44"
FLOW_LOG_ID = "fl-0123456789abcdef0"
#: The NAT gateway's Availability Zone ID: the az-id of its interface's flow log records.
NAT_AZ_ID = "use1-az1"
#: The shared egress VPC's own CIDRs (the NAT gateway's subnet is in them): its clients reach the
#: NAT without crossing the Transit Gateway. The default of ``network_costs.egress_vpc_cidrs``.
EGRESS_VPC_CIDRS: tuple[str, ...] = ("10.255.0.0/24",)

TENANT_GROUPS = {
    "commerce": ["payments", "checkout"],
    "platform": ["data-platform", "identity", "observability"],
    "ai": ["search", "ml-training"],
}
TEAM_ACCOUNTS = {
    "payments": "111111111111",
    "checkout": "111111111112",
    "search": "222222222221",
    "ml-training": "222222222222",
    "data-platform": "333333333333",
    "identity": "444444444441",
    "observability": "444444444442",
}


@dataclass(frozen=True)
class Prefix:
    cidr: str
    tenant: str | None  # what NetBox holds
    account: str | None  # the aws_account_id custom field as NetBox holds it
    status: str = "active"
    vrf: str | None = None


@dataclass(frozen=True)
class ClientSpace:
    """Where the generator draws client addresses, and the team that space belongs to."""

    cidr: str
    team: str  # intended team ("unattributed" for space nobody owns)
    account: str | None  # intended owning account
    weight: float
    #: Intended AZ ID of the clients (None: no subnet says), with the generator's multi-AZ option
    az_id: str | None = None


PREFIXES: tuple[Prefix, ...] = (
    Prefix("10.0.0.0/8", None, None, "container"),
    Prefix("10.10.0.0/16", "payments", TEAM_ACCOUNTS["payments"], "container"),
    Prefix("10.10.1.0/24", None, None),  # bare: payments by inheritance
    Prefix(
        "10.10.2.0/24", "checkout", TEAM_ACCOUNTS["checkout"]
    ),  # another team inside payments' container
    Prefix("10.10.2.128/25", None, None),  # bare: checkout (nearest ancestor), not payments
    Prefix("10.20.0.0/16", "search", TEAM_ACCOUNTS["search"], "container"),
    Prefix("10.20.0.0/20", None, None),
    Prefix("10.20.16.0/20", "ml-training", TEAM_ACCOUNTS["ml-training"]),
    Prefix("10.30.0.0/16", "data-platform", TEAM_ACCOUNTS["data-platform"], "container"),
    Prefix("10.30.5.0/24", None, None),
    Prefix("10.40.0.0/16", None, None, "container"),  # shared services: no tenant on the container
    Prefix("10.40.1.0/24", "identity", TEAM_ACCOUNTS["identity"]),
    Prefix("10.40.2.0/24", "observability", TEAM_ACCOUNTS["observability"]),
    Prefix("10.40.3.0/24", None, None),  # nobody owns it: unattributed
    Prefix(EGRESS_VPC_CIDRS[0], None, NAT_ACCOUNT),  # the shared egress VPC
    Prefix("172.20.0.0/16", None, None, "reserved"),  # a sandbox /16 with no tenant
    Prefix("2600:1f18:4a00::/56", "data-platform", TEAM_ACCOUNTS["data-platform"], "container"),
    Prefix("2600:1f18:4a00:10::/64", None, None),
)

#: (address, tenant): an address object with a tenant beats every prefix; one without overrides
#: nothing.
IP_ADDRESSES: tuple[tuple[str, str | None], ...] = (
    ("10.10.1.50/24", "identity"),  # identity's auth proxy, in a payments subnet
    ("10.20.3.7/20", None),
    (f"{NAT_PRIVATE_IP}/24", None),
)

CLIENT_SPACES: tuple[ClientSpace, ...] = (
    ClientSpace("10.10.1.0/24", "payments", TEAM_ACCOUNTS["payments"], 10, "use1-az1"),
    ClientSpace(
        "10.10.3.0/24", "payments", TEAM_ACCOUNTS["payments"], 4
    ),  # in the container, no subnet record: no AZ known
    ClientSpace("10.10.2.0/25", "checkout", TEAM_ACCOUNTS["checkout"], 6, "use1-az2"),
    ClientSpace(
        "10.10.2.128/25", "checkout", TEAM_ACCOUNTS["checkout"], 3, "use1-az1"
    ),  # its own AZ, not its parent /24's
    ClientSpace(
        "10.10.1.50/32", "identity", TEAM_ACCOUNTS["payments"], 2, "use1-az1"
    ),  # account: the prefix's (addresses carry no account)
    ClientSpace("10.20.0.0/20", "search", TEAM_ACCOUNTS["search"], 8, "use1-az2"),
    ClientSpace("10.20.16.0/20", "ml-training", TEAM_ACCOUNTS["ml-training"], 12, "use1-az4"),
    ClientSpace("10.30.5.0/24", "data-platform", TEAM_ACCOUNTS["data-platform"], 14, "use1-az1"),
    ClientSpace("10.40.1.0/24", "identity", TEAM_ACCOUNTS["identity"], 3, "use1-az2"),
    ClientSpace("10.40.2.0/24", "observability", TEAM_ACCOUNTS["observability"], 5, "use1-az1"),
    ClientSpace("10.40.3.0/24", "unattributed", None, 2, "use1-az2"),
    ClientSpace("172.20.0.0/16", "unattributed", None, 1),  # no AZ known
    ClientSpace(
        "2600:1f18:4a00:10::/64", "data-platform", TEAM_ACCOUNTS["data-platform"], 3, "use1-az2"
    ),
)

#: Clients inside the egress VPC itself (a proxy subnet of the network account): their NAT traffic
#: never crosses the Transit Gateway. The default sample has none; the generator adds them only
#: when asked (``generate(..., egress_vpc_connections_per_day=N)``). The IPAM gives them the
#: egress VPC prefix's account and no team.
EGRESS_VPC_CLIENT_SPACE = ClientSpace("10.255.0.128/26", "unattributed", NAT_ACCOUNT, 1, NAT_AZ_ID)
#: A second proxy subnet of the egress VPC, in another AZ than the NAT gateway: its clients pay
#: inter-AZ transfer (the one path where it is charged: no Transit Gateway in between). Drawn
#: from, and given its own prefix with an ``az_id`` in the IPAM, only with the multi-AZ option.
EGRESS_VPC_OTHER_AZ_SPACE = ClientSpace(
    "10.255.0.192/26", "unattributed", NAT_ACCOUNT, 1, "use1-az2"
)
EGRESS_VPC_CLIENT_SPACES: tuple[ClientSpace, ...] = (
    EGRESS_VPC_CLIENT_SPACE,
    EGRESS_VPC_OTHER_AZ_SPACE,
)


#: With the generator's multi-AZ option, each subnet's AZ ID as NetBox holds it (the prefix's
#: custom field ``az_id``). Stated apart from the clients' intended AZs (``ClientSpace.az_id``)
#: so the ground truth does not repeat natflow's matching. 10.10.2.128/25 has its own AZ inside a
#: /24 of another (the most specific prefix with an AZ wins); 10.10.1.50 (an address object) takes
#: its subnet's; 10.10.3.0/24 (no subnet record) and the sandbox /16 have none: unknown.
PREFIX_AZS: dict[str, str] = {
    "10.10.1.0/24": "use1-az1",
    "10.10.2.0/24": "use1-az2",
    "10.10.2.128/25": "use1-az1",
    "10.20.0.0/20": "use1-az2",
    "10.20.16.0/20": "use1-az4",
    "10.30.5.0/24": "use1-az1",
    "10.40.1.0/24": "use1-az2",
    "10.40.2.0/24": "use1-az1",
    "10.40.3.0/24": "use1-az2",
    EGRESS_VPC_CIDRS[0]: NAT_AZ_ID,
    EGRESS_VPC_OTHER_AZ_SPACE.cidr: EGRESS_VPC_OTHER_AZ_SPACE.az_id,
    "2600:1f18:4a00:10::/64": "use1-az2",
}


def netbox_export(
    with_azs: bool = False, mark_egress_vpc: bool = False
) -> dict[str, list[dict[str, object]]]:
    """The IPAM as NetBox 4.x's REST API returns it (brief nested objects, ``custom_fields``).

    ``with_azs`` adds the custom field ``az_id`` to the prefixes of ``PREFIX_AZS`` (the
    generator's multi-AZ option); ``mark_egress_vpc`` adds ``vpc_role: egress`` to the egress
    VPC's prefix (``EGRESS_VPC_CIDRS``; the generator's egress-VPC clients option). Without them
    the export is as it always was."""
    tenants = []
    tenant_ids: dict[str, int] = {}
    for group_id, (group, members) in enumerate(sorted(TENANT_GROUPS.items()), start=1):
        for name in members:
            tenant_ids[name] = len(tenant_ids) + 1
            tenants.append(
                {
                    "id": tenant_ids[name],
                    "name": name,
                    "slug": name,
                    "group": {"id": group_id, "name": group, "slug": group},
                }
            )
    tenants.sort(key=lambda t: t["id"])

    def tenant_ref(name: str | None) -> dict[str, object] | None:
        return None if name is None else {"id": tenant_ids[name], "name": name, "slug": name}

    prefixes = [
        {
            "id": i,
            "prefix": p.cidr,
            "family": {
                "value": 6 if ":" in p.cidr else 4,
                "label": "IPv6" if ":" in p.cidr else "IPv4",
            },
            "vrf": None if p.vrf is None else {"name": p.vrf},
            "tenant": tenant_ref(p.tenant),
            "status": {"value": p.status, "label": p.status.title()},
            "custom_fields": {
                "aws_account_id": p.account,
                **({"az_id": PREFIX_AZS.get(p.cidr)} if with_azs else {}),
                **(
                    {"vpc_role": "egress" if p.cidr in EGRESS_VPC_CIDRS else None}
                    if mark_egress_vpc
                    else {}
                ),
            },
            "tags": [],
        }
        for i, p in enumerate(
            PREFIXES
            + ((Prefix(EGRESS_VPC_OTHER_AZ_SPACE.cidr, None, NAT_ACCOUNT),) if with_azs else ()),
            start=1,
        )
    ]
    addresses = [
        {
            "id": i,
            "address": address,
            "family": {"value": 4, "label": "IPv4"},
            "vrf": None,
            "tenant": tenant_ref(tenant),
            "status": {"value": "active", "label": "Active"},
            "custom_fields": {"aws_account_id": None},
            "tags": [],
        }
        for i, (address, tenant) in enumerate(IP_ADDRESSES, start=1)
    ]
    return {"prefixes": prefixes, "ip_addresses": addresses, "tenants": tenants}
