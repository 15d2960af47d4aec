"""The sibling gold table: per team, its NAT cost, its Transit Gateway data processing and its
cross-AZ transfer."""

import dagster as dg
import polars as pl

from natflow_pipeline import tables
from natflow_pipeline.assets.daily import daily_table_asset, partition_day, write_day
from natflow_pipeline.assets.metadata import gb, markdown_table, usd
from natflow_pipeline.assets.reference import ipam_snapshot_for
from natflow_pipeline.ipam import az_intervals, egress_vpc_prefixes
from natflow_pipeline.network_costs import (
    CROSS_AZ,
    EGRESS_VPC,
    FLOW_COLUMNS,
    NAT_COST_COLUMNS,
    SAME_AZ,
    UNKNOWN,
    WORKLOAD,
    egress_vpc_cidrs_of,
    egress_vpc_return,
    interface_azs_seen,
)
from natflow_pipeline.network_costs import (
    team_daily_network_costs as network_costs_of,
)
from natflow_pipeline.resources.network_costs import NetworkCostsResource
from natflow_pipeline.resources.pricing import PricingResource
from natflow_pipeline.resources.warehouse import WarehouseResource


@daily_table_asset(
    tables.TEAM_DAILY_NETWORK_COSTS,
    deps=[
        tables.NAT_FLOWS.name,
        tables.IPAM_PREFIXES.name,
        tables.ADDRESS_ATTRIBUTION.name,
        tables.TEAM_DAILY_COSTS.name,
    ],
    group_name="costs",
)
def team_daily_network_costs(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    pricing: PricingResource,
    network_costs: NetworkCostsResource,
) -> dg.MaterializeResult:
    """Per team and UTC day: its NAT cost (team_daily_costs), the Transit Gateway data
    processing of its egress bytes and the cross-AZ transfer of clients outside the NAT's AZ, with
    counted states for addresses of no known VPC or AZ (docs/network-costs.md)."""
    day = partition_day(context)
    store = warehouse.get()
    catalogue = pricing.catalogue()
    flows = store.read_day(tables.NAT_FLOWS, day, columns=list(FLOW_COLUMNS))
    # The same IPAM snapshot address_attribution used for the day (the day's, else the latest
    # before it): the client's AZ is its most specific prefix's az_id, and the prefixes it marks
    # as the egress VPC's (vpc_role = egress) join the setting's egress VPC CIDRs.
    snapshot, snapshot_date = ipam_snapshot_for(store, day)
    from_ipam = egress_vpc_prefixes(snapshot)
    frame = network_costs_of(
        flows,
        store.read_day(tables.ADDRESS_ATTRIBUTION, day),
        store.read_day(tables.TEAM_DAILY_COSTS, day, columns=list(NAT_COST_COLUMNS)),
        egress_vpc_cidrs_of(network_costs.egress_vpc_cidrs, from_ipam),
        catalogue,
        pricing.billing_gb_bytes,
        client_azs=az_intervals(snapshot),
        interface_azs=network_costs.interface_azs,
    )
    return_bytes, return_usd = egress_vpc_return(frame, catalogue, pricing.billing_gb_bytes)
    write = write_day(store, tables.TEAM_DAILY_NETWORK_COSTS, day, frame)

    def state(name: str) -> pl.DataFrame:
        return frame.filter(pl.col("tgw_state") == name)

    def az(name: str) -> pl.DataFrame:
        return frame.filter(pl.col("az_state") == name)

    by_team = (
        frame.group_by("team")
        .agg(
            pl.col("nat_usd").sum(),
            pl.col("tgw_gb").sum(),
            pl.col("tgw_usd").sum(),
            pl.col("cross_az_gb").sum(),
            pl.col("cross_az_usd").sum(),
            pl.col("total_usd").sum(),
        )
        .sort("total_usd", "team", descending=[True, False])
    )
    unknown = state(UNKNOWN)
    unknown_az = az(UNKNOWN)
    # Every numeric entry is present with one type on every partition (0 on an empty day).
    return dg.MaterializeResult(
        metadata={
            **write,
            "rows": frame.height,
            "teams": by_team.height,
            "nat_usd": usd(frame["nat_usd"].sum()),
            "tgw_bytes": int(frame["tgw_bytes"].sum() or 0),
            "tgw_gb": gb(frame["tgw_gb"].sum()),
            "tgw_usd": usd(frame["tgw_usd"].sum()),
            "total_usd": usd(frame["total_usd"].sum()),
            "workload_addresses": int(state(WORKLOAD)["addresses"].sum() or 0),
            "egress_vpc_addresses": int(state(EGRESS_VPC)["addresses"].sum() or 0),
            "egress_vpc_egress_bytes": int(state(EGRESS_VPC)["egress_bytes"].sum() or 0),
            "unknown_addresses": int(unknown["addresses"].sum() or 0),
            "unknown_egress_bytes": int(unknown["egress_bytes"].sum() or 0),
            # Return traffic enters the TGW from the egress VPC's attachment: the egress VPC
            # owner's charge, reported here and in no team's row.
            "egress_vpc_return_tgw_gb": gb(return_bytes / pricing.billing_gb_bytes),
            "egress_vpc_return_tgw_usd": usd(return_usd),
            # The egress VPC's CIDRs used (their union), by where each came from.
            "egress_vpc_cidrs": dg.MetadataValue.json(
                {"setting": list(network_costs.egress_vpc_cidrs), "ipam": from_ipam}
            ),
            "cross_az_bytes": int(frame["cross_az_bytes"].sum() or 0),
            "cross_az_gb": gb(frame["cross_az_gb"].sum()),
            "cross_az_usd": usd(frame["cross_az_usd"].sum()),
            "same_az_addresses": int(az(SAME_AZ)["addresses"].sum() or 0),
            "cross_az_addresses": int(az(CROSS_AZ)["addresses"].sum() or 0),
            # Either AZ unknown (no IPAM prefix with an az_id, or no az-id / interface_azs for
            # the NAT interface): counted, never priced.
            "unknown_az_addresses": int(unknown_az["addresses"].sum() or 0),
            "unknown_az_nat_bytes": int(unknown_az["nat_bytes"].sum() or 0),
            "ipam_snapshot_used": snapshot_date,
            "nat_interface_azs": dg.MetadataValue.json(
                {
                    "from_flow_logs": interface_azs_seen(flows),
                    "from_setting": dict(sorted(network_costs.interface_azs.items())),
                }
            ),
            "prices_used": dg.MetadataValue.json(
                {
                    region: {
                        "tgw_usd_per_gb": catalogue.usd("tgw_gb", region),
                        "source": catalogue.price("tgw_gb", region).provenance,
                    }
                    for region in sorted(set(state(WORKLOAD)["region"].drop_nulls()))
                }
            ),
            "inter_az_prices_used": dg.MetadataValue.json(
                {
                    region: {
                        "inter_az_usd_per_gb_each_direction": catalogue.usd("inter_az_gb", region),
                        "source": catalogue.price("inter_az_gb", region).provenance,
                    }
                    for region in sorted(set(az(CROSS_AZ)["region"].drop_nulls()))
                }
            ),
            "top_teams": dg.MetadataValue.md(markdown_table(by_team.head(10))),
        }
    )
