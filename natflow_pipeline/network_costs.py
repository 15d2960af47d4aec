"""Transit Gateway data processing per team, beside its NAT cost (``team_daily_network_costs``).

The rule (docs/network-costs.md; AWS: https://aws.amazon.com/transit-gateway/pricing/): a
transit gateway charges data processing per GB on the traffic sent INTO it from an attachment,
to the attachment's owner, at the region's price (catalogue charge ``tgw_gb``). In the
consolidated-egress layout a workload VPC's client reaching the internet through the egress VPC's
NAT sends its egress-direction bytes into the TGW from its own VPC's attachment: those bytes are
charged to the client's team. A client inside the egress VPC's own CIDRs reaches the NAT without
the TGW. The return traffic enters the TGW from the egress VPC's attachment and is charged to the
egress VPC's owner: natflow reports it as the egress VPC's (asset metadata), never a team's.

Each internal address of the day's NAT rows is in one state:

- ``workload``: outside the egress VPC, with an owning account from the IPAM: its egress bytes
  are TGW-processed and priced;
- ``egress_vpc``: inside the egress VPC's CIDRs: no TGW bytes (0, known);
- ``unknown``: outside the egress VPC and outside every VPC the IPAM knows (no prefix gives it an
  owning account, or the attribution does not list it): whether and through whose attachment it
  crossed is not known, so its TGW bytes and cost are null (counted in ``egress_bytes`` and
  ``addresses``), never a guess.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from natflow_pipeline.addresses import address_keys, cidr_bounds
from natflow_pipeline.enrichment import internal_matches
from natflow_pipeline.ipam import UNATTRIBUTED
from natflow_pipeline.price_catalogue import PriceCatalogue

WORKLOAD = "workload"
EGRESS_VPC = "egress_vpc"
UNKNOWN = "unknown"
TGW_STATES: tuple[str, ...] = (WORKLOAD, EGRESS_VPC, UNKNOWN)

#: The flow direction whose bytes a workload's attachment sends into the TGW (client -> NAT).
EGRESS = "egress"

#: What the table reads from nat_flows.
FLOW_COLUMNS: tuple[str, ...] = ("usage_date", "region", "direction", "internal_addr", "bytes")

GROUP_KEYS: tuple[str, ...] = ("usage_date", "team", "source_account_id", "region", "tgw_state")

SCHEMA: dict[str, pl.DataType] = {
    "usage_date": pl.Date,
    "team": pl.String,
    "source_account_id": pl.String,  # the owner of the client's VPC: its attachment pays
    "region": pl.String,  # the NAT gateway's (and so the transit gateway's) region
    "tgw_state": pl.String,  # workload | egress_vpc | unknown
    "addresses": pl.Int64,  # distinct internal addresses of the row
    "nat_bytes": pl.Int64,  # NAT bytes, both directions (team_daily_costs' bytes)
    "egress_bytes": pl.Int64,  # the egress-direction share of nat_bytes (client -> NAT)
    "nat_usd": pl.Float64,  # the team's total_usd of team_daily_costs
    "tgw_bytes": pl.Int64,  # bytes sent into the TGW by the row's attachment; null: unknown
    "tgw_gb": pl.Float64,
    "tgw_usd": pl.Float64,
    "total_usd": pl.Float64,  # nat_usd + tgw_usd (tgw_usd null counts as nothing known)
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


def in_cidrs(column: str, cidrs: Iterable[str]) -> pl.Expr:
    """Whether each row's address (text) is inside one of ``cidrs``; false for a non-address."""
    key = pl.col(column).map_batches(address_keys, return_dtype=pl.UInt128)
    inside = pl.lit(False)
    for cidr in cidrs:
        first, last, _ = cidr_bounds(cidr)
        inside = inside | key.is_between(first, last)
    return inside.fill_null(False)


def per_address_state(
    flows: pl.DataFrame | pl.LazyFrame, attribution: pl.DataFrame, egress_vpc_cidrs: Iterable[str]
) -> pl.DataFrame:
    """The day's NAT and egress bytes per internal address and region, with its team, owning
    account and TGW state."""
    matches = internal_matches(attribution).select("internal_addr", "team", "source_account_id")
    return (
        flows.lazy()
        .group_by("usage_date", "region", "internal_addr")
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
) -> pl.DataFrame:
    """The day's rows: per team, owning account, region and TGW state, its NAT cost (from the
    day's ``team_daily_costs`` rows, ``nat_costs``) and its Transit Gateway data processing.

    ``nat_usd`` is the team's ``total_usd`` for (team, account, region). When one (team, account,
    region) has addresses in two states (a team with a subnet in the egress VPC, or part of its
    space without an account), its total is split by the NAT bytes of each state, so the rows of a
    team still add up to its team_daily_costs total.
    """
    per_state = (
        per_address_state(flows, attribution, egress_vpc_cidrs)
        .group_by(GROUP_KEYS)
        .agg(
            pl.len().cast(pl.Int64).alias("addresses"),
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
    regions = per_state.filter(workload)["region"].drop_nulls()
    prices = tgw_prices(catalogue, regions.to_list())
    tgw_gb = pl.col("tgw_bytes") / billing_gb_bytes
    return (
        per_state.join(nat, on=nat_keys, how="left", nulls_equal=True)
        .join(prices, on="region", how="left")
        .with_columns(
            (pl.col("_nat_total_usd").fill_null(0.0) * share).alias("nat_usd"),
            tgw_bytes.alias("tgw_bytes"),
        )
        .with_columns(tgw_gb.alias("tgw_gb"))
        .with_columns(
            pl.when(pl.col("tgw_state") == EGRESS_VPC)
            .then(pl.lit(0.0))
            .otherwise(pl.col("tgw_gb") * pl.col("_tgw_per_gb"))
            .alias("tgw_usd")
        )
        .with_columns((pl.col("nat_usd") + pl.col("tgw_usd").fill_null(0.0)).alias("total_usd"))
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
