"""The company's IPAM (NetBox prefixes and IP addresses) as a team lookup table.

NetBox does not inherit tenants: teams usually set theirs on a container and leave the subnets that
automation creates bare. So each entry gets an *effective* team: its own, or (inheritance on, the
default) that of its nearest enclosing prefix that has one. The same holds for the source account
(the AWS account that owns the address space), which flow logs cannot tell behind a shared NAT.
An IP address object with a team beats every prefix.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from natflow_pipeline.addresses import Owned, cidr_bounds, flatten, network_text

UNATTRIBUTED = "unattributed"

#: The columns of the ``ipam_prefixes`` snapshot table (one row per NetBox prefix or address).
SNAPSHOT_SCHEMA: dict[str, pl.DataType] = {
    "kind": pl.String,  # "prefix" | "ip_address"
    "netbox_id": pl.Int64,
    "prefix": pl.String,  # CIDR; an address object as /32 or /128
    "family": pl.Int8,
    "status": pl.String,
    "vrf": pl.String,
    "tenant": pl.String,
    "tenant_group": pl.String,
    "team": pl.String,  # the entry's own team (per TeamSource); null when it names none
    "source_account_id": pl.String,
    "effective_team": pl.String,
    "effective_source_account_id": pl.String,
    "team_inherited_from": pl.String,  # the prefix the effective team came from, when inherited
    # The entry's own Availability Zone ID (custom field ``az_id``, e.g. ``use1-az1``): a subnet's
    # AZ. Not inherited here: :func:`az_intervals` gives an address the most specific prefix's.
    "az_id": pl.String,
    # The entry's own VPC role (custom field ``vpc_role``): ``egress`` marks a prefix of the
    # egress VPC (:func:`egress_vpc_prefixes`). Not inherited; an address object carries none.
    "vpc_role": pl.String,
}

#: The NetBox custom field (on a prefix; the same key in the export) holding a subnet's AZ ID.
AZ_FIELD = "az_id"
#: The NetBox custom field (on a prefix; the same key in the export) holding its VPC's role.
VPC_ROLE_FIELD = "vpc_role"
#: The ``vpc_role`` value that marks a prefix as (a CIDR of) the egress VPC.
EGRESS_VPC_ROLE = "egress"

#: What the client-AZ lookup carries (:func:`az_intervals`).
AZ_MATCH_SCHEMA: dict[str, pl.DataType] = {
    "client_az_id": pl.String,
    "az_prefix": pl.String,
}

#: What the enrichment join carries from the matched IPAM entry.
MATCH_SCHEMA: dict[str, pl.DataType] = {
    "team": pl.String,
    "source_account_id": pl.String,
    "ipam_prefix": pl.String,
}


@dataclass(frozen=True)
class TeamSource:
    """Which NetBox attribute names the team: ``tenant`` (default), ``tenant_group``,
    ``custom_field:<name>`` or ``tag:<prefix>`` (a tag such as ``team:payments``)."""

    spec: str = "tenant"

    def team_of(self, entry: Mapping[str, Any]) -> str | None:
        kind, _, arg = self.spec.partition(":")
        if kind == "tenant":
            return _name(entry.get("tenant"))
        if kind == "tenant_group":
            return _name((entry.get("tenant") or {}).get("group"))
        if kind == "custom_field":
            value = (entry.get("custom_fields") or {}).get(arg)
            return str(value) if value not in (None, "") else None
        if kind == "tag":
            for tag in entry.get("tags") or []:
                label = tag.get("name") or tag.get("slug") or ""
                if label.startswith(arg):
                    return label[len(arg) :]
            return None
        raise ValueError(
            f"unknown team source {self.spec!r}: "
            "expected tenant, tenant_group, custom_field:<name> or tag:<prefix>"
        )


def _name(obj: Mapping[str, Any] | None) -> str | None:
    return None if not obj else obj.get("name") or obj.get("slug")


def load_export(path: Path) -> dict[str, list[dict[str, Any]]]:
    """A NetBox-shaped export: ``{"prefixes": [...], "ip_addresses": [...], "tenants": [...]}``,
    each list as NetBox's REST API returns it (``/api/ipam/prefixes/`` results and so on)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"IPAM export {path}: cannot read JSON: {exc}") from exc
    missing = [k for k in ("prefixes", "ip_addresses") if not isinstance(data.get(k), list)]
    if missing:
        raise ValueError(f"IPAM export {path}: expected lists {missing} (NetBox API results)")
    return data


def snapshot(
    prefixes: Iterable[Mapping[str, Any]],
    ip_addresses: Iterable[Mapping[str, Any]],
    tenants: Iterable[Mapping[str, Any]] = (),
    team_source: TeamSource = TeamSource(),
    account_field: str = "aws_account_id",
    inherit: bool = True,
    az_field: str = AZ_FIELD,
    vpc_role_field: str = VPC_ROLE_FIELD,
) -> pl.DataFrame:
    """One row per prefix and IP address object, with its own and its effective team."""
    groups = {t.get("id"): (t.get("group") or None) for t in tenants}
    rows = [
        _row("prefix", p, p["prefix"], team_source, account_field, groups, az_field, vpc_role_field)
        for p in prefixes
    ]
    rows += [
        _row(
            "ip_address",
            a,
            _host_cidr(a["address"]),
            team_source,
            account_field,
            groups,
            None,
            None,
        )
        for a in ip_addresses
    ]
    _resolve_inheritance(rows, inherit)
    frame = (
        pl.DataFrame(rows, schema=SNAPSHOT_SCHEMA, orient="row")
        if rows
        else pl.DataFrame(schema=SNAPSHOT_SCHEMA)
    )
    return frame.sort("family", "prefix", "kind", "netbox_id")


def _host_cidr(address: str) -> str:
    ip = ipaddress.ip_interface(address).ip
    return f"{ip}/{ip.max_prefixlen}"


def _row(
    kind: str,
    entry: Mapping[str, Any],
    cidr: str,
    team_source: TeamSource,
    account_field: str,
    groups: Mapping[Any, Any],
    az_field: str | None,
    vpc_role_field: str | None,
) -> dict[str, Any]:
    tenant = dict(entry.get("tenant") or {})
    if tenant and "group" not in tenant and tenant.get("id") in groups:
        tenant["group"] = groups[tenant.get("id")]
    enriched = {**entry, "tenant": tenant or None}
    account = (entry.get("custom_fields") or {}).get(account_field)
    prefix, family = network_text(cidr)
    status = entry.get("status")
    return {
        "kind": kind,
        "netbox_id": entry.get("id"),
        "prefix": prefix,
        "family": family,
        "status": status.get("value") if isinstance(status, Mapping) else status,
        "vrf": _name(entry.get("vrf")),
        "tenant": _name(tenant or None),
        "tenant_group": _name(tenant.get("group")) if tenant else None,
        "team": team_source.team_of(enriched),
        "source_account_id": str(account) if account not in (None, "") else None,
        "az_id": _custom_text(entry, az_field),
        "vpc_role": _custom_text(entry, vpc_role_field),
    }


def _custom_text(entry: Mapping[str, Any], field: str | None) -> str | None:
    """A prefix's custom field as text (``az_id``, ``vpc_role``; blank: none); an address object
    carries none (``field`` None)."""
    if field is None:
        return None
    value = (entry.get("custom_fields") or {}).get(field)
    return str(value).strip() if value not in (None, "") and str(value).strip() else None


def _resolve_inheritance(rows: list[dict[str, Any]], inherit: bool) -> None:
    """Fill effective_* from the nearest enclosing *prefix* that has a value
    (O(n x prefix length))."""
    teams = _by_block({r["prefix"]: r["team"] for r in rows if r["kind"] == "prefix" and r["team"]})
    accounts = _by_block(
        {
            r["prefix"]: r["source_account_id"]
            for r in rows
            if r["kind"] == "prefix" and r["source_account_id"]
        }
    )
    for row in rows:
        row["effective_team"], row["team_inherited_from"] = row["team"], None
        row["effective_source_account_id"] = row["source_account_id"]
        if not inherit:
            continue
        if row["effective_team"] is None:
            found = _nearest_ancestor(row["prefix"], row["family"], teams)
            if found:
                row["team_inherited_from"], row["effective_team"] = found
        if row["effective_source_account_id"] is None:
            found = _nearest_ancestor(row["prefix"], row["family"], accounts)
            if found:
                row["effective_source_account_id"] = found[1]


_Block = tuple[int, int, int]  # (family, first key, length in the 128-bit key space)


def _by_block(table: Mapping[str, str]) -> dict[_Block, tuple[str, str]]:
    """Index prefixes by their integer block, so ancestors are found by masking, not by parsing."""
    out = {}
    for cidr, value in table.items():
        first, _, length = cidr_bounds(cidr)
        out[(6 if ":" in cidr else 4, first, length)] = (cidr, value)
    return out


def _nearest_ancestor(
    cidr: str, family: int, table: Mapping[_Block, tuple[str, str]]
) -> tuple[str, str] | None:
    """(prefix, value) of the longest prefix in ``table`` strictly containing ``cidr``."""
    first, _, length = cidr_bounds(cidr)
    floor = 96 if family == 4 else 0  # IPv4 blocks live under ::ffff:0:0/96 in the key space
    for parent in range(length - 1, floor - 1, -1):
        found = table.get((family, first & ~((1 << (128 - parent)) - 1), parent))
        if found:
            return found
    return None


def lookup_intervals(snapshot_frame: pl.DataFrame) -> pl.DataFrame:
    """Flatten a snapshot into non-overlapping intervals for :func:`longest_prefix_match`.

    Entries without an effective team still take part: a bare subnet (inheritance off) is a hole
    that maps to ``unattributed`` rather than falling through to a parent it does not belong to.
    """
    owned = []
    for row in snapshot_frame.iter_rows(named=True):
        if row["kind"] == "ip_address" and row["effective_team"] is None:
            continue  # an address object without a team overrides nothing
        first, last, length = cidr_bounds(row["prefix"])
        owned.append(
            Owned(
                first,
                last,
                length,
                rank=1 if row["kind"] == "ip_address" else 0,
                payload={
                    "team": row["effective_team"],
                    "source_account_id": row["effective_source_account_id"],
                    "ipam_prefix": row["prefix"],
                },
            )
        )
    return flatten(owned, MATCH_SCHEMA)


def az_intervals(snapshot_frame: pl.DataFrame) -> pl.DataFrame:
    """Non-overlapping intervals giving each address the AZ ID of the most specific *prefix* that
    carries one (``client_az_id``, and that prefix, ``az_prefix``), for
    :func:`longest_prefix_match`. Prefixes without an AZ ID take no part, so a bare subnet falls
    through to an enclosing prefix that has one; an address no such prefix covers has no AZ
    (unknown, never guessed). A snapshot written before AZ IDs were kept has none."""
    if "az_id" not in snapshot_frame.columns:
        return flatten([], AZ_MATCH_SCHEMA)
    owned = []
    for row in snapshot_frame.filter(
        (pl.col("kind") == "prefix") & pl.col("az_id").is_not_null()
    ).iter_rows(named=True):
        first, last, length = cidr_bounds(row["prefix"])
        owned.append(
            Owned(
                first,
                last,
                length,
                rank=0,
                payload={"client_az_id": row["az_id"], "az_prefix": row["prefix"]},
            )
        )
    return flatten(owned, AZ_MATCH_SCHEMA)


def egress_vpc_prefixes(snapshot_frame: pl.DataFrame) -> list[str]:
    """The prefixes the IPAM marks as the egress VPC's (custom field ``vpc_role`` =
    ``egress``), sorted and distinct. IP address objects never mark one; a snapshot written
    before ``vpc_role`` was kept marks none."""
    if "vpc_role" not in snapshot_frame.columns:
        return []
    marked = snapshot_frame.filter(
        (pl.col("kind") == "prefix") & (pl.col("vpc_role") == EGRESS_VPC_ROLE)
    )
    return sorted(set(marked["prefix"].to_list()))
