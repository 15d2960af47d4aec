"""Transit Gateway data processing per team, beside its NAT cost (``team_daily_network_costs``).

The rule (docs/network-costs.md; AWS: https://aws.amazon.com/transit-gateway/pricing/): a
transit gateway charges data processing per GB on the traffic sent INTO it from an attachment,
to the attachment's owner, at the region's price (catalogue charge ``tgw_gb``). In the
consolidated-egress layout a workload VPC's client reaching the internet through the egress VPC's
NAT sends its egress-direction bytes into the TGW from its own VPC's attachment: those bytes are
charged to the client's team. A client inside the egress VPC's own CIDRs reaches the NAT without
the TGW: those CIDRs are the setting's and the prefixes the day's IPAM marks as the egress VPC's
(custom field ``vpc_role`` = ``egress``, :func:`natflow_pipeline.ipam.egress_vpc_prefixes`), both
(:func:`egress_vpc_cidrs_of`). The return traffic enters the TGW from the egress VPC's attachment
and is charged to the egress VPC's owner: natflow reports it as the egress VPC's (asset metadata),
never a team's.

Each internal address of the day's NAT rows is in one state:

- ``workload``: outside the egress VPC, with an owning account from the IPAM: its egress bytes
  are TGW-processed and priced;
- ``egress_vpc``: inside the egress VPC's CIDRs: no TGW bytes (0, known);
- ``unknown``: outside the egress VPC and outside every VPC the IPAM knows (no prefix gives it an
  owning account, or the attribution does not list it): whether and through whose attachment it
  crossed is not known, so its TGW bytes and cost are null (counted in ``egress_bytes`` and
  ``addresses``), never a guess.

Cross-AZ transfer (step 3; AWS:
https://aws.amazon.com/ec2/pricing/on-demand/#Data_Transfer_within_the_same_AWS_Region): when the
client's Availability Zone differs from the NAT gateway's, its NAT bytes cross between AZs in both
directions and pay inter-AZ transfer (catalogue charge ``inter_az_gb``, per GB out of one AZ and
again into the other), charged to the client's team. The NAT gateway's AZ is the flow log's
``az-id`` (``nat_flows.nat_az_id``), else the ``interface_azs`` setting for its interface; the
client's is the IPAM's: the custom field ``az_id`` of the most specific prefix holding the address
that has one (:func:`natflow_pipeline.ipam.az_intervals`). Each (address, NAT AZ) is in one
``az_state``: ``same_az`` (0 bytes, known), ``cross_az`` (its NAT bytes, priced), ``via_tgw``
(a workload client: through the Transit Gateway, where AWS charges no inter-AZ transfer since
2022-04; 0 bytes) or ``unknown`` (either AZ, or the path, unknown: null bytes and cost, counted,
never a guess). Only clients in the egress VPC itself can be ``cross_az``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import polars as pl

from natflow_pipeline.addresses import address_keys, cidr_bounds, longest_prefix_match
from natflow_pipeline.enrichment import internal_matches
from natflow_pipeline.ipam import AZ_MATCH_SCHEMA, UNATTRIBUTED
from natflow_pipeline.price_catalogue import PriceCatalogue

WORKLOAD = "workload"
EGRESS_VPC = "egress_vpc"
UNKNOWN = "unknown"
TGW_STATES: tuple[str, ...] = (WORKLOAD, EGRESS_VPC, UNKNOWN)

#: The flow direction whose bytes a workload's attachment sends into the TGW (client -> NAT).
EGRESS = "egress"

SAME_AZ = "same_az"
CROSS_AZ = "cross_az"
#: A workload client reaches the NAT through the Transit Gateway: since 2022-04-01 AWS charges no
#: inter-AZ transfer on that path (https://aws.amazon.com/about-aws/whats-new/2022/04/
#: aws-data-transfer-price-reduction-privatelink-transit-gateway-client-vpn-services/), whatever
#: the AZs. Only clients in the NAT's own VPC (the egress VPC) can pay it.
VIA_TGW = "via_tgw"
AZ_STATES: tuple[str, ...] = (SAME_AZ, CROSS_AZ, VIA_TGW, UNKNOWN)

#: Data transfer between AZs is charged out of the sending AZ and again into the receiving one:
#: each cross-AZ byte pays ``inter_az_gb`` this many times.
INTER_AZ_CHARGES_PER_BYTE = 2

#: What the table reads from nat_flows (``interface_id`` and ``nat_az_id``: the NAT's AZ).
FLOW_COLUMNS: tuple[str, ...] = (
    "usage_date",
    "region",
    "interface_id",
    "nat_az_id",
    "direction",
    "internal_addr",
    "bytes",
)

GROUP_KEYS: tuple[str, ...] = (
    "usage_date",
    "team",
    "source_account_id",
    "region",
    "tgw_state",
    "az_state",
)

SCHEMA: dict[str, pl.DataType] = {
    "usage_date": pl.Date,
    "team": pl.String,
    "source_account_id": pl.String,  # the owner of the client's VPC: its attachment pays
    "region": pl.String,  # the NAT gateway's (and so the transit gateway's) region
    "tgw_state": pl.String,  # workload | egress_vpc | unknown
    "az_state": pl.String,  # same_az | cross_az | unknown (client's or NAT's AZ unknown)
    "addresses": pl.Int64,  # distinct internal addresses of the row
    "nat_bytes": pl.Int64,  # NAT bytes, both directions (team_daily_costs' bytes)
    "egress_bytes": pl.Int64,  # the egress-direction share of nat_bytes (client -> NAT)
    "nat_usd": pl.Float64,  # the team's total_usd of team_daily_costs
    "tgw_bytes": pl.Int64,  # bytes sent into the TGW by the row's attachment; null: unknown
    "tgw_gb": pl.Float64,
    "tgw_usd": pl.Float64,
    "cross_az_bytes": pl.Int64,  # NAT bytes (both directions) crossing AZs; null: unknown
    "cross_az_gb": pl.Float64,
    "cross_az_usd": pl.Float64,  # cross_az_gb x inter_az_gb, out of one AZ and into the other
    # nat_usd + tgw_usd + cross_az_usd (a null counts as nothing known)
    "total_usd": pl.Float64,
}

#: What the table reads from team_daily_costs.
NAT_COST_COLUMNS: tuple[str, ...] = (
    "usage_date",
    "team",
    "source_account_id",
    "region",
    "bytes",
    "total_usd",
)


def egress_vpc_cidrs_of(setting: Iterable[str], from_ipam: Iterable[str]) -> list[str]:
    """The egress VPC's CIDRs: the union of the setting's (``network_costs.egress_vpc_cidrs``)
    and the IPAM's marked prefixes, the setting's first, each once."""
    return list(dict.fromkeys([*setting, *from_ipam]))


def in_cidrs(column: str, cidrs: Iterable[str]) -> pl.Expr:
    """Whether each row's address (text) is inside one of ``cidrs``; false for a non-address."""
    key = pl.col(column).map_batches(address_keys, return_dtype=pl.UInt128)
    inside = pl.lit(False)
    for cidr in cidrs:
        first, last, _ = cidr_bounds(cidr)
        inside = inside | key.is_between(first, last)
    return inside.fill_null(False)


def per_address_state(
    flows: pl.DataFrame | pl.LazyFrame,
    attribution: pl.DataFrame,
    egress_vpc_cidrs: Iterable[str],
    client_azs: pl.DataFrame | None = None,
    interface_azs: Mapping[str, str] | None = None,
) -> pl.DataFrame:
    """The day's NAT and egress bytes per internal address, region and NAT AZ, with its team,
    owning account, TGW state, the client's and the NAT's AZ and the AZ state.

    ``client_azs``: :func:`natflow_pipeline.ipam.az_intervals` of the day's IPAM snapshot (None:
    no client AZ known). ``interface_azs``: NAT interface -> AZ ID, for rows whose flow log format
    has no az-id (the flow log's az-id wins where both say)."""
    flows = flows.lazy()
    present = flows.collect_schema().names()
    flows = flows.with_columns(
        pl.lit(None, dtype=pl.String).alias(c)
        for c in ("interface_id", "nat_az_id")
        if c not in present
    )
    configured = dict(interface_azs or {})
    from_setting = (
        pl.col("interface_id").replace_strict(
            list(configured), list(configured.values()), default=None, return_dtype=pl.String
        )
        if configured
        else pl.lit(None, dtype=pl.String)
    )
    matches = internal_matches(attribution).select("internal_addr", "team", "source_account_id")
    per_address = (
        flows.with_columns(pl.coalesce(pl.col("nat_az_id"), from_setting).alias("nat_az_id"))
        .group_by("usage_date", "region", "internal_addr", "nat_az_id")
        .agg(
            pl.col("bytes").sum().cast(pl.Int64).alias("nat_bytes"),
            pl.col("bytes")
            .filter(pl.col("direction") == EGRESS)
            .sum()
            .cast(pl.Int64)
            .alias("egress_bytes"),
        )
        .join(matches, on="internal_addr", how="left")
        # An address missing from the attribution is unattributed with no account, as in
        # team_daily_costs.
        .with_columns(pl.col("team").fill_null(UNATTRIBUTED))
        .with_columns(
            pl.when(in_cidrs("internal_addr", list(egress_vpc_cidrs)))
            .then(pl.lit(EGRESS_VPC))
            .when(pl.col("source_account_id").is_null())
            .then(pl.lit(UNKNOWN))
            .otherwise(pl.lit(WORKLOAD))
            .alias("tgw_state")
        )
        .collect()
    )
    per_address = per_address.join(
        client_az_of(per_address["internal_addr"], client_azs), on="internal_addr", how="left"
    )
    known = pl.col("client_az_id").is_not_null() & pl.col("nat_az_id").is_not_null()
    return per_address.with_columns(
        pl.when(pl.col("tgw_state") == WORKLOAD)
        .then(pl.lit(VIA_TGW))
        .when((pl.col("tgw_state") == UNKNOWN) | ~known)
        .then(pl.lit(UNKNOWN))
        .when(pl.col("client_az_id") == pl.col("nat_az_id"))
        .then(pl.lit(SAME_AZ))
        .otherwise(pl.lit(CROSS_AZ))
        .alias("az_state")
    )


def client_az_of(addresses: pl.Series, client_azs: pl.DataFrame | None) -> pl.DataFrame:
    """``internal_addr`` -> ``client_az_id`` (null where no prefix with an AZ holds it)."""
    distinct = addresses.unique().drop_nulls()
    frame = pl.DataFrame({"internal_addr": distinct, "_key": address_keys(distinct)})
    payload = list(AZ_MATCH_SCHEMA)
    if client_azs is None or client_azs.is_empty():
        return frame.select("internal_addr", pl.lit(None, dtype=pl.String).alias("client_az_id"))
    keyed = frame.filter(pl.col("_key").is_not_null())
    matched = longest_prefix_match(keyed, "_key", client_azs, payload)
    return frame.select("internal_addr").join(
        matched.select("internal_addr", "client_az_id"), on="internal_addr", how="left"
    )


def inter_az_prices(catalogue: PriceCatalogue, regions: Iterable[str]) -> pl.DataFrame:
    """``region`` -> ``_inter_az_per_gb``; a region without an ``inter_az_gb`` price raises
    ``UnknownPrice``, never zero."""
    regions = sorted(set(regions))
    return pl.DataFrame(
        {
            "region": regions,
            "_inter_az_per_gb": [catalogue.usd("inter_az_gb", r) for r in regions],
        },
        schema={"region": pl.String, "_inter_az_per_gb": pl.Float64},
    )


def tgw_prices(catalogue: PriceCatalogue, regions: Iterable[str]) -> pl.DataFrame:
    """``region`` -> ``_tgw_per_gb``; a region without a ``tgw_gb`` price raises ``UnknownPrice``
    (naming the region and how to override it), never zero."""
    regions = sorted(set(regions))
    return pl.DataFrame(
        {"region": regions, "_tgw_per_gb": [catalogue.usd("tgw_gb", r) for r in regions]},
        schema={"region": pl.String, "_tgw_per_gb": pl.Float64},
    )


def team_daily_network_costs(
    flows: pl.DataFrame | pl.LazyFrame,
    attribution: pl.DataFrame,
    nat_costs: pl.DataFrame,
    egress_vpc_cidrs: Iterable[str],
    catalogue: PriceCatalogue,
    billing_gb_bytes: int,
    client_azs: pl.DataFrame | None = None,
    interface_azs: Mapping[str, str] | None = None,
) -> pl.DataFrame:
    """The day's rows: per team, owning account, region, TGW state and AZ state, its NAT cost
    (from the day's ``team_daily_costs`` rows, ``nat_costs``), its Transit Gateway data processing
    and its cross-AZ transfer (``client_azs`` and ``interface_azs`` as for
    :func:`per_address_state`).

    ``nat_usd`` is the team's ``total_usd`` for (team, account, region). When one (team, account,
    region) has addresses in two states (a team with a subnet in the egress VPC, part of its space
    without an account, or clients in two AZs), its total is split by the NAT bytes of each state,
    so the rows of a team still add up to its team_daily_costs total.
    """
    per_state = (
        per_address_state(flows, attribution, egress_vpc_cidrs, client_azs, interface_azs)
        .group_by(GROUP_KEYS)
        .agg(
            pl.col("internal_addr").n_unique().cast(pl.Int64).alias("addresses"),
            pl.col("nat_bytes").sum(),
            pl.col("egress_bytes").sum(),
        )
    )
    nat_keys = ["usage_date", "team", "source_account_id", "region"]
    nat = (
        nat_costs.lazy()
        .select(NAT_COST_COLUMNS)
        .group_by(nat_keys)
        .agg(
            pl.col("total_usd").sum().alias("_nat_total_usd"),
            pl.col("bytes").sum().alias("_nat_group_bytes"),
        )
        .collect()
    )
    states_in_group = pl.len().over(nat_keys)
    share = (
        pl.when(states_in_group == 1)
        .then(pl.lit(1.0))
        .when(pl.col("_nat_group_bytes") > 0)
        .then(pl.col("nat_bytes") / pl.col("_nat_group_bytes"))
        .otherwise(pl.lit(1.0) / states_in_group)
    )
    workload = pl.col("tgw_state") == WORKLOAD
    tgw_bytes = (
        pl.when(workload)
        .then(pl.col("egress_bytes"))
        .when(pl.col("tgw_state") == EGRESS_VPC)
        .then(pl.lit(0, dtype=pl.Int64))
        .otherwise(pl.lit(None, dtype=pl.Int64))
    )
    cross_az_bytes = (
        pl.when(pl.col("az_state") == CROSS_AZ)
        .then(pl.col("nat_bytes"))
        .when(pl.col("az_state").is_in([SAME_AZ, VIA_TGW]))
        .then(pl.lit(0, dtype=pl.Int64))
        .otherwise(pl.lit(None, dtype=pl.Int64))
    )
    regions = per_state.filter(workload)["region"].drop_nulls()
    prices = tgw_prices(catalogue, regions.to_list())
    crossing = per_state.filter(pl.col("az_state") == CROSS_AZ)["region"].drop_nulls()
    az_prices = inter_az_prices(catalogue, crossing.to_list())
    tgw_gb = pl.col("tgw_bytes") / billing_gb_bytes
    return (
        per_state.join(nat, on=nat_keys, how="left", nulls_equal=True)
        .join(prices, on="region", how="left")
        .join(az_prices, on="region", how="left")
        .with_columns(
            (pl.col("_nat_total_usd").fill_null(0.0) * share).alias("nat_usd"),
            tgw_bytes.alias("tgw_bytes"),
            cross_az_bytes.alias("cross_az_bytes"),
        )
        .with_columns(
            tgw_gb.alias("tgw_gb"),
            (pl.col("cross_az_bytes") / billing_gb_bytes).alias("cross_az_gb"),
        )
        .with_columns(
            pl.when(pl.col("tgw_state") == EGRESS_VPC)
            .then(pl.lit(0.0))
            .otherwise(pl.col("tgw_gb") * pl.col("_tgw_per_gb"))
            .alias("tgw_usd"),
            pl.when(pl.col("az_state").is_in([SAME_AZ, VIA_TGW]))
            .then(pl.lit(0.0))
            .otherwise(
                pl.col("cross_az_gb") * INTER_AZ_CHARGES_PER_BYTE * pl.col("_inter_az_per_gb")
            )
            .alias("cross_az_usd"),
        )
        .with_columns(
            (
                pl.col("nat_usd")
                + pl.col("tgw_usd").fill_null(0.0)
                + pl.col("cross_az_usd").fill_null(0.0)
            ).alias("total_usd")
        )
        .select(list(SCHEMA))
        .cast(SCHEMA)
        .sort(GROUP_KEYS, nulls_last=True)
    )


def egress_vpc_return(
    table: pl.DataFrame, catalogue: PriceCatalogue, billing_gb_bytes: int
) -> tuple[int, float]:
    """The return traffic of the workload rows (NAT -> client, ingress direction): bytes the
    egress VPC's attachment sends into the TGW, charged to the egress VPC's owner, not to a team.
    (bytes, USD)."""
    rows = table.filter(pl.col("tgw_state") == WORKLOAD).select(
        "region", (pl.col("nat_bytes") - pl.col("egress_bytes")).alias("return_bytes")
    )
    if rows.is_empty():
        return 0, 0.0
    by_region = rows.group_by("region").agg(pl.col("return_bytes").sum())
    priced = by_region.join(tgw_prices(catalogue, by_region["region"].to_list()), on="region")
    usd = (priced["return_bytes"] / billing_gb_bytes * priced["_tgw_per_gb"]).sum()
    return int(by_region["return_bytes"].sum()), float(usd)


def interface_azs_seen(flows: pl.DataFrame | pl.LazyFrame) -> dict[str, list[str]]:
    """The AZ IDs the flow log's az-id gave each NAT interface on the day (for the metadata)."""
    frame = (
        flows.lazy()
        .filter(pl.col("nat_az_id").is_not_null())
        .group_by("interface_id")
        .agg(pl.col("nat_az_id").unique().sort())
        .sort("interface_id")
        .collect()
    )
    return {row["interface_id"]: row["nat_az_id"] for row in frame.iter_rows(named=True)}
