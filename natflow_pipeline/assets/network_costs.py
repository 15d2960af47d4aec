"""The sibling gold table: per team, its NAT cost and its Transit Gateway data processing."""

import dagster as dg
import polars as pl

from natflow_pipeline import tables
from natflow_pipeline.assets.daily import daily_table_asset, partition_day, write_day
from natflow_pipeline.assets.metadata import gb, markdown_table, usd
from natflow_pipeline.network_costs import (
    EGRESS_VPC,
    FLOW_COLUMNS,
    NAT_COST_COLUMNS,
    UNKNOWN,
    WORKLOAD,
    egress_vpc_return,
)
from natflow_pipeline.network_costs import (
    team_daily_network_costs as network_costs_of,
)
from natflow_pipeline.resources.network_costs import NetworkCostsResource
from natflow_pipeline.resources.pricing import PricingResource
from natflow_pipeline.resources.warehouse import WarehouseResource


@daily_table_asset(
    tables.TEAM_DAILY_NETWORK_COSTS,
    deps=[tables.NAT_FLOWS.name, tables.ADDRESS_ATTRIBUTION.name, tables.TEAM_DAILY_COSTS.name],
    group_name="costs",
)
def team_daily_network_costs(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    pricing: PricingResource,
    network_costs: NetworkCostsResource,
) -> dg.MaterializeResult:
    """Per team and UTC day: its NAT cost (team_daily_costs) and the Transit Gateway data
    processing of its egress bytes, with a counted state for addresses of no known VPC
    (docs/network-costs.md)."""
    day = partition_day(context)
    store = warehouse.get()
    catalogue = pricing.catalogue()
    frame = network_costs_of(
        store.read_day(tables.NAT_FLOWS, day, columns=list(FLOW_COLUMNS)),
        store.read_day(tables.ADDRESS_ATTRIBUTION, day),
        store.read_day(tables.TEAM_DAILY_COSTS, day, columns=list(NAT_COST_COLUMNS)),
        network_costs.egress_vpc_cidrs,
        catalogue,
        pricing.billing_gb_bytes,
    )
    return_bytes, return_usd = egress_vpc_return(frame, catalogue, pricing.billing_gb_bytes)
    write = write_day(store, tables.TEAM_DAILY_NETWORK_COSTS, day, frame)

    def state(name: str) -> pl.DataFrame:
        return frame.filter(pl.col("tgw_state") == name)

    by_team = (
        frame.group_by("team")
        .agg(
            pl.col("nat_usd").sum(),
            pl.col("tgw_gb").sum(),
            pl.col("tgw_usd").sum(),
            pl.col("total_usd").sum(),
        )
        .sort("total_usd", "team", descending=[True, False])
    )
    unknown = state(UNKNOWN)
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
            "egress_vpc_cidrs": ", ".join(network_costs.egress_vpc_cidrs),
            "prices_used": dg.MetadataValue.json(
                {
                    region: {
                        "tgw_usd_per_gb": catalogue.usd("tgw_gb", region),
                        "source": catalogue.price("tgw_gb", region).provenance,
                    }
                    for region in sorted(set(state(WORKLOAD)["region"].drop_nulls()))
                }
            ),
            "top_teams": dg.MetadataValue.md(markdown_table(by_team.head(10))),
        }
    )
