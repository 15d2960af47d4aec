"""team_daily_network_costs: Transit Gateway data processing and cross-AZ transfer per team,
against the generator's own truth (the company model classes each client and states its AZ;
natflow's code is not used to compute it)."""

from __future__ import annotations

import json
import shutil
import warnings
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from pydantic import ValidationError

from natflow_pipeline import settings, tables
from natflow_pipeline.assets.costs import team_daily_costs
from natflow_pipeline.assets.enrichment import address_attribution
from natflow_pipeline.assets.flow_logs import nat_flows
from natflow_pipeline.assets.network_costs import team_daily_network_costs
from natflow_pipeline.assets.reference import aws_ip_ranges, ipam_prefixes, ipam_snapshot_for
from natflow_pipeline.flowlogs.day import read_day
from natflow_pipeline.flowlogs.layout import FlowLogObject
from natflow_pipeline.ipam import az_intervals
from natflow_pipeline.network_costs import (
    FLOW_COLUMNS,
    NAT_COST_COLUMNS,
    SCHEMA,
)
from natflow_pipeline.network_costs import (
    team_daily_network_costs as network_costs_of,
)
from natflow_pipeline.paths import DEFAULT_IP_RANGES
from natflow_pipeline.price_catalogue import CATALOGUE, PriceCatalogue, UnknownPrice
from natflow_pipeline.resources.cost_checks import CostChecksResource
from natflow_pipeline.resources.flow_logs import FlowLogSource
from natflow_pipeline.resources.network_costs import NetworkCostsResource
from natflow_pipeline.resources.pricing import PricingResource
from natflow_pipeline.resources.reference import IpamSource, IpRangesSource
from natflow_pipeline.resources.warehouse import WarehouseResource
from natflow_pipeline.sample_data import company
from natflow_pipeline.sample_data.generator import generate

FIRST_DAY = date(2026, 11, 1)
DAYS = 2
GB = 2**30
#: The catalogue's us-east-1 TGW data processing price (docs/pricing.md).
TGW_PER_GB = 0.02
#: The catalogue's us-east-1 inter-AZ price, per GB each direction (docs/pricing.md).
INTER_AZ_PER_GB = 0.01
KEYS = ["team", "source_account_id", "tgw_state"]
AZ_KEYS = ["team", "source_account_id", "az_state"]


@dataclass(frozen=True)
class Run:
    truth: dict
    warehouse: WarehouseResource
    metadata: dict[str, dict]

    def day(self, table: tables.Table, day: str) -> pl.DataFrame:
        return self.warehouse.get().read_day(table, date.fromisoformat(day))

    def days(self) -> list[str]:
        return [(FIRST_DAY + timedelta(days=n)).isoformat() for n in range(DAYS)]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """Two generated days with clients inside the egress VPC and in several AZs, materialized
    through Dagster into real Delta tables."""
    root = tmp_path_factory.mktemp("network_costs")
    truth = generate(
        root / "generated",
        DEFAULT_IP_RANGES,
        FIRST_DAY,
        DAYS,
        400,
        seed=11,
        egress_vpc_connections_per_day=60,
        multi_az=True,
    )
    warehouse = WarehouseResource(uri=str(root / "warehouse"))
    resources = {
        "warehouse": warehouse,
        "flow_logs": FlowLogSource(uri=str(root / "generated" / "flowlogs")),
        "ipam": IpamSource(export_path=str(root / "generated" / "ipam" / "netbox-export.json")),
        "ip_ranges": IpRangesSource(url=str(DEFAULT_IP_RANGES)),
        "pricing": PricingResource(),
        "cost_checks": CostChecksResource(),
        "network_costs": NetworkCostsResource(),
    }
    daily = [nat_flows, ipam_prefixes, address_attribution, team_daily_costs]
    metadata = {}
    with warnings.catch_warnings(), dg.instance_for_test() as instance:
        warnings.simplefilter("ignore", dg.BetaWarning)
        for n in range(DAYS):
            day = (FIRST_DAY + timedelta(days=n)).isoformat()
            result = dg.materialize(
                [*([aws_ip_ranges] if n == 0 else []), *daily, team_daily_network_costs],
                partition_key=day,
                resources=resources,
                instance=instance,
            )
            assert result.success
            (event,) = (
                e
                for e in result.get_asset_materialization_events()
                if e.asset_key.to_user_string() == tables.TEAM_DAILY_NETWORK_COSTS.name
            )
            metadata[day] = {
                k: v.value for k, v in event.event_specific_data.materialization.metadata.items()
            }
    return Run(truth, warehouse, metadata)


def truth_of(run: Run, day: str) -> pl.DataFrame:
    return pl.DataFrame(
        run.truth["tgw"][day],
        schema={**{k: pl.String for k in KEYS}, "egress_bytes": pl.Int64},
    )


@pytest.mark.parametrize("day", [FIRST_DAY.isoformat(), (FIRST_DAY + timedelta(1)).isoformat()])
def test_per_team_tgw_bytes_equal_the_generators_truth_exactly(run: Run, day: str):
    truth = truth_of(run, day)
    table = run.day(tables.TEAM_DAILY_NETWORK_COSTS, day)
    # Every state the company model sees, with its egress bytes, per team and account.
    got = table.group_by(KEYS).agg(pl.col("egress_bytes").sum()).sort(KEYS, nulls_last=True)
    assert got.equals(truth.sort(KEYS, nulls_last=True))
    # TGW-processed bytes: exactly the egress bytes of the clients outside the egress VPC whose
    # VPC is known, per team and account.
    expected = (
        truth.filter(pl.col("tgw_state") == "workload")
        .select("team", "source_account_id", pl.col("egress_bytes").alias("tgw_bytes"))
        .sort("team", "source_account_id")
    )
    charged = (
        table.filter(pl.col("tgw_bytes") > 0)
        .group_by("team", "source_account_id")
        .agg(pl.col("tgw_bytes").sum())
        .sort("team", "source_account_id")
    )
    assert charged.equals(expected)
    assert set(expected["team"]) >= set(company.TEAM_ACCOUNTS)
    assert run.metadata[day]["tgw_bytes"] == expected["tgw_bytes"].sum()


def test_a_client_inside_the_egress_vpc_is_not_charged(run: Run):
    for day in run.days():
        truth = truth_of(run, day).filter(pl.col("tgw_state") == "egress_vpc")
        assert truth.height == 1 and truth["egress_bytes"].item() > 0  # the generator's clients
        rows = run.day(tables.TEAM_DAILY_NETWORK_COSTS, day).filter(
            pl.col("tgw_state") == "egress_vpc"
        )
        # one row per AZ state: the proxy subnet in the NAT's AZ and the one in another AZ
        assert set(rows["source_account_id"]) == {company.NAT_ACCOUNT}
        assert set(rows["az_state"]) == {"same_az", "cross_az"}
        assert rows["egress_bytes"].sum() == truth["egress_bytes"].item()
        assert rows["tgw_bytes"].to_list() == [0] * rows.height
        assert rows["tgw_usd"].to_list() == [0.0] * rows.height
        # no TGW: what it pays beyond NAT is the inter-AZ transfer of its other-AZ subnet only
        extra = rows["total_usd"] - rows["nat_usd"] - rows["cross_az_usd"]
        assert extra.abs().max() < 1e-12
        assert rows["nat_usd"].sum() > 0  # its NAT traffic is still NAT-charged
        assert run.metadata[day]["egress_vpc_addresses"] == rows["addresses"].sum()


def test_an_address_of_no_known_vpc_is_counted_in_its_own_state(run: Run):
    for day in run.days():
        truth = truth_of(run, day).filter(pl.col("tgw_state") == "unknown")
        assert truth.height > 0
        rows = run.day(tables.TEAM_DAILY_NETWORK_COSTS, day).filter(
            pl.col("tgw_state") == "unknown"
        )
        # Counted (addresses, bytes), never priced as a guess.
        assert rows["egress_bytes"].sum() == truth["egress_bytes"].sum() > 0
        assert rows["addresses"].sum() > 0
        assert rows["tgw_bytes"].null_count() == rows.height
        assert rows["tgw_usd"].null_count() == rows.height
        assert run.metadata[day]["unknown_addresses"] == rows["addresses"].sum()
        assert run.metadata[day]["unknown_egress_bytes"] == truth["egress_bytes"].sum()


def test_an_address_missing_from_the_attribution_is_unknown(run: Run):
    day = run.days()[0]
    at = date.fromisoformat(day)
    store = run.warehouse.get()
    flows = store.read_day(tables.NAT_FLOWS, at, columns=list(FLOW_COLUMNS))
    attribution = store.read_day(tables.ADDRESS_ATTRIBUTION, at)
    nat = store.read_day(tables.TEAM_DAILY_COSTS, at, columns=list(NAT_COST_COLUMNS))
    # A workload address the attribution does not list (an IPAM that lost it).
    gone = attribution.filter((pl.col("side") == "internal") & (pl.col("team") == "search"))[
        "address"
    ][0]
    table = network_costs_of(
        flows, attribution.filter(pl.col("address") != gone), nat, ["10.255.0.0/24"], CATALOGUE, GB
    )
    unknown = table.filter(pl.col("tgw_state") == "unknown")
    gone_egress = flows.filter(
        (pl.col("internal_addr") == gone) & (pl.col("direction") == "egress")
    )["bytes"].sum()
    before = truth_of(run, day).filter(pl.col("tgw_state") == "unknown")["egress_bytes"].sum()
    assert unknown["egress_bytes"].sum() == before + gone_egress
    assert unknown["tgw_bytes"].null_count() == unknown.height


def test_totals_are_nat_plus_tgw_per_team_to_the_cent(run: Run):
    for day in run.days():
        table = run.day(tables.TEAM_DAILY_NETWORK_COSTS, day)
        nat = (
            run.day(tables.TEAM_DAILY_COSTS, day)
            .group_by("team")
            .agg(pl.col("total_usd").sum().alias("nat"))
        )
        teams = (
            table.group_by("team")
            .agg(
                pl.col("nat_usd").sum(),
                pl.col("tgw_bytes").sum(),
                pl.col("tgw_usd").sum(),
                pl.col("cross_az_usd").sum(),
                pl.col("total_usd").sum(),
            )
            .join(nat, on="team", how="full", coalesce=True)
        )
        assert teams.height == nat.height
        for row in teams.iter_rows(named=True):
            assert round(row["nat_usd"], 2) == round(row["nat"], 2), row
            assert round(row["tgw_usd"], 2) == round(row["tgw_bytes"] / GB * TGW_PER_GB, 2), row
            # The NAT and TGW part of the total (cross-AZ: the test below).
            assert round(row["total_usd"] - row["cross_az_usd"], 2) == round(
                row["nat"] + row["tgw_usd"], 2
            ), row
        # Row by row, with full precision.
        workload = table.filter(pl.col("tgw_state") == "workload")
        assert (workload["tgw_usd"] - workload["tgw_bytes"] / GB * TGW_PER_GB).abs().max() < 1e-12
        total = table["nat_usd"] + table["tgw_usd"].fill_null(0.0)
        tgw_part = table["total_usd"] - table["cross_az_usd"].fill_null(0.0)
        assert (tgw_part - total).abs().max() < 1e-12
        meta = run.metadata[day]
        assert meta["total_usd"] == round(table["total_usd"].sum(), 2)
        assert meta["tgw_gb"] == round(table["tgw_gb"].sum(), 3)
        assert meta["egress_vpc_return_tgw_usd"] > 0  # the egress VPC's, in no team's row


def test_the_table_has_its_declared_schema_and_grain(run: Run):
    table = run.warehouse.get().scan(tables.TEAM_DAILY_NETWORK_COSTS.name).collect()
    assert dict(table.schema) == SCHEMA
    keys = ["usage_date", "team", "source_account_id", "region", "tgw_state", "az_state"]
    assert table.select(keys).is_duplicated().sum() == 0
    assert set(table["tgw_state"]) == {"workload", "egress_vpc", "unknown"}
    assert set(table["az_state"]) == {"same_az", "cross_az", "via_tgw", "unknown"}


def test_a_region_without_a_tgw_price_fails_loudly(run: Run):
    day = run.days()[0]
    at = date.fromisoformat(day)
    store = run.warehouse.get()
    without = PriceCatalogue(
        tuple(p for p in CATALOGUE.entries if (p.charge, p.region) != ("tgw_gb", "us-east-1"))
    )
    with pytest.raises(UnknownPrice) as raised:
        network_costs_of(
            store.read_day(tables.NAT_FLOWS, at, columns=list(FLOW_COLUMNS)),
            store.read_day(tables.ADDRESS_ATTRIBUTION, at),
            store.read_day(tables.TEAM_DAILY_COSTS, at, columns=list(NAT_COST_COLUMNS)),
            company.EGRESS_VPC_CIDRS,
            without,
            GB,
        )
    assert raised.value.charge == "tgw_gb" and raised.value.region == "us-east-1"
    assert "tgw_gb" in str(raised.value) and "price_overrides" in str(raised.value)


def rematerialize(
    run: Run, root: Path, network_costs: NetworkCostsResource, export: dict | None = None
) -> tuple[WarehouseResource, dict[str, dict]]:
    """A copy of the run's warehouse, with team_daily_network_costs materialized again for each
    day under ``network_costs`` (and, given ``export``, ipam_prefixes first from that export)."""
    warehouse = WarehouseResource(uri=str(root / "warehouse"))
    shutil.copytree(run.warehouse.uri, warehouse.uri)
    resources: dict = {
        "warehouse": warehouse,
        "pricing": PricingResource(),
        "network_costs": network_costs,
    }
    assets = [team_daily_network_costs]
    if export is not None:
        path = root / "netbox-export.json"
        path.write_text(json.dumps(export))
        resources["ipam"] = IpamSource(export_path=str(path))
        assets = [ipam_prefixes, team_daily_network_costs]
    metadata = {}
    with warnings.catch_warnings(), dg.instance_for_test() as instance:
        warnings.simplefilter("ignore", dg.BetaWarning)
        for day in run.days():
            result = dg.materialize(
                assets, partition_key=day, resources=resources, instance=instance
            )
            assert result.success
            (event,) = (
                e
                for e in result.get_asset_materialization_events()
                if e.asset_key.to_user_string() == tables.TEAM_DAILY_NETWORK_COSTS.name
            )
            metadata[day] = {
                k: v.value for k, v in event.event_specific_data.materialization.metadata.items()
            }
    return warehouse, metadata


def test_the_metadata_names_where_each_egress_vpc_cidr_came_from(run: Run):
    # The run's setting (the default) and its IPAM (the generator marks the egress VPC's prefix
    # when it adds egress VPC clients) both name the sample's egress VPC.
    for day in run.days():
        assert run.metadata[day]["egress_vpc_cidrs"] == {
            "setting": list(company.EGRESS_VPC_CIDRS),
            "ipam": list(company.EGRESS_VPC_CIDRS),
        }


def test_a_prefix_marked_as_the_egress_vpc_in_the_ipam_is_the_egress_vpc(run: Run, tmp_path):
    # No setting: the IPAM's vpc_role = egress alone makes the egress VPC's clients pay no TGW.
    warehouse, metadata = rematerialize(run, tmp_path, NetworkCostsResource(egress_vpc_cidrs=[]))
    for day in run.days():
        table = warehouse.get().read_day(tables.TEAM_DAILY_NETWORK_COSTS, date.fromisoformat(day))
        got = table.group_by(KEYS).agg(pl.col("egress_bytes").sum()).sort(KEYS, nulls_last=True)
        assert got.equals(truth_of(run, day).sort(KEYS, nulls_last=True))
        assert_frame_equal(
            table, run.day(tables.TEAM_DAILY_NETWORK_COSTS, day), check_exact=False, rel_tol=1e-12
        )
        inside = table.filter(pl.col("tgw_state") == "egress_vpc")
        assert set(inside["source_account_id"]) == {company.NAT_ACCOUNT}
        assert set(inside["tgw_bytes"]) == {0} and set(inside["tgw_usd"]) == {0.0}
        assert metadata[day]["egress_vpc_cidrs"] == {
            "setting": [],
            "ipam": list(company.EGRESS_VPC_CIDRS),
        }


def test_without_setting_or_ipam_mark_the_egress_vpc_clients_are_workload(run: Run, tmp_path):
    # The same IPAM without the vpc_role mark, and no setting: nothing says where the egress VPC
    # is, so its clients (an account's VPC like any other) are charged as a workload's.
    unmarked = company.netbox_export(with_azs=True)
    assert all("vpc_role" not in p["custom_fields"] for p in unmarked["prefixes"])
    warehouse, metadata = rematerialize(
        run, tmp_path, NetworkCostsResource(egress_vpc_cidrs=[]), export=unmarked
    )
    for day in run.days():
        truth = truth_of(run, day)
        inside = truth.filter(pl.col("tgw_state") == "egress_vpc")["egress_bytes"].item()
        table = warehouse.get().read_day(tables.TEAM_DAILY_NETWORK_COSTS, date.fromisoformat(day))
        assert table.filter(pl.col("tgw_state") == "egress_vpc").is_empty()
        nat_account = table.filter(pl.col("source_account_id") == company.NAT_ACCOUNT)
        assert set(nat_account["tgw_state"]) == {"workload"}
        assert nat_account["tgw_bytes"].sum() == nat_account["egress_bytes"].sum() == inside
        assert nat_account["tgw_usd"].sum() == pytest.approx(inside / GB * TGW_PER_GB, abs=1e-12)
        workload = truth.filter(pl.col("tgw_state") == "workload")["egress_bytes"].sum()
        assert table["tgw_bytes"].sum() == workload + inside
        assert metadata[day]["egress_vpc_cidrs"] == {"setting": [], "ipam": []}
        assert metadata[day]["egress_vpc_addresses"] == 0


def test_the_egress_vpc_cidrs_come_from_the_sample_company_or_the_variable(monkeypatch):
    assert NetworkCostsResource().egress_vpc_cidrs == list(company.EGRESS_VPC_CIDRS)
    monkeypatch.delenv("NATFLOW_EGRESS_VPC_CIDRS", raising=False)
    assert settings.egress_vpc_cidrs() == list(company.EGRESS_VPC_CIDRS)
    monkeypatch.setenv("NATFLOW_EGRESS_VPC_CIDRS", " 10.255.0.0/22, 2600:1f18:4a00:ff::/64 ")
    assert settings.egress_vpc_cidrs() == ["10.255.0.0/22", "2600:1f18:4a00:ff::/64"]
    with pytest.raises(ValidationError, match="not a CIDR"):
        NetworkCostsResource(egress_vpc_cidrs=["10.255.0.0/33"])


# Cross-AZ transfer (step 3 of #17).


def az_truth_of(run: Run, day: str) -> pl.DataFrame:
    return pl.DataFrame(
        run.truth["cross_az"][day],
        schema={
            **{k: pl.String for k in AZ_KEYS},
            "nat_bytes": pl.Int64,
            "cross_az_bytes": pl.Int64,
        },
    ).sort(AZ_KEYS, nulls_last=True)


def by_az_state(table: pl.DataFrame) -> pl.DataFrame:
    """Per team, account and AZ state: NAT bytes and cross-AZ bytes (null stays null)."""
    return (
        table.group_by(AZ_KEYS)
        .agg(
            pl.col("nat_bytes").sum(),
            pl.when(pl.col("cross_az_bytes").null_count() == pl.len())
            .then(None)
            .otherwise(pl.col("cross_az_bytes").sum())
            .alias("cross_az_bytes"),
        )
        .sort(AZ_KEYS, nulls_last=True)
    )


def inputs(run: Run, day: str) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The day's nat_flows, attribution, team_daily_costs and client AZ lookup, as stored."""
    at = date.fromisoformat(day)
    store = run.warehouse.get()
    snapshot, _ = ipam_snapshot_for(store, at)
    return (
        store.read_day(tables.NAT_FLOWS, at, columns=list(FLOW_COLUMNS)),
        store.read_day(tables.ADDRESS_ATTRIBUTION, at),
        store.read_day(tables.TEAM_DAILY_COSTS, at, columns=list(NAT_COST_COLUMNS)),
        az_intervals(snapshot),
    )


@pytest.mark.parametrize("day", [FIRST_DAY.isoformat(), (FIRST_DAY + timedelta(1)).isoformat()])
def test_per_team_cross_az_bytes_equal_the_generators_truth_exactly(run: Run, day: str):
    truth = az_truth_of(run, day)
    table = run.day(tables.TEAM_DAILY_NETWORK_COSTS, day)
    assert by_az_state(table).equals(truth)
    # Only the egress VPC's own clients in another AZ cross (no team: the network account's
    # proxies), both directions of their bytes; the sample plants every state.
    crossing = truth.filter(pl.col("az_state") == "cross_az")
    assert set(crossing["team"]) == {"unattributed"}
    assert set(crossing["source_account_id"]) == {company.NAT_ACCOUNT}
    assert (crossing["cross_az_bytes"] == crossing["nat_bytes"]).all()
    assert set(truth["az_state"]) == {"same_az", "cross_az", "via_tgw", "unknown"}
    assert run.metadata[day]["cross_az_bytes"] == crossing["cross_az_bytes"].sum() > 0
    flows = run.day(tables.NAT_FLOWS, day)
    # The NAT's AZ came from the flow log's az-id (no interface_azs setting in this run).
    assert flows["nat_az_id"].unique().to_list() == [company.NAT_AZ_ID]


def test_a_client_in_the_nat_gateways_az_pays_no_cross_az_transfer(run: Run):
    for day in run.days():
        table = run.day(tables.TEAM_DAILY_NETWORK_COSTS, day)
        same = table.filter(pl.col("az_state") == "same_az")
        assert same.height > 0 and same["nat_bytes"].sum() > 0
        assert same["cross_az_bytes"].to_list() == [0] * same.height
        assert same["cross_az_usd"].to_list() == [0.0] * same.height
        # only the egress VPC's own clients can be same_az or cross_az
        assert set(same["tgw_state"]) == {"egress_vpc"}


def test_a_workload_client_pays_no_inter_az_transfer_through_the_transit_gateway(run: Run):
    """Since 2022-04-01 AWS charges no inter-AZ transfer on the Transit Gateway path, whatever
    the AZs: checkout's subnets are in two AZs, one of them not the NAT's, and pay none of it."""
    for day in run.days():
        table = run.day(tables.TEAM_DAILY_NETWORK_COSTS, day)
        via = table.filter(pl.col("tgw_state") == "workload")
        assert via.height > 0 and set(via["az_state"]) == {"via_tgw"}
        assert set(via["cross_az_bytes"]) == {0} and set(via["cross_az_usd"]) == {0.0}
        checkout = table.filter(pl.col("team") == "checkout")
        assert set(checkout["az_state"]) == {"via_tgw"}
        total = checkout["nat_usd"] + checkout["tgw_usd"]
        assert (checkout["total_usd"] - total).abs().max() < 1e-12


def test_an_unknown_az_is_counted_with_nulls_never_priced(run: Run):
    for day in run.days():
        truth = az_truth_of(run, day).filter(pl.col("az_state") == "unknown")
        # addresses of no known VPC: the path (and so the AZ charge) is not known
        assert truth.height > 0
        rows = run.day(tables.TEAM_DAILY_NETWORK_COSTS, day).filter(pl.col("az_state") == "unknown")
        assert rows["nat_bytes"].sum() == truth["nat_bytes"].sum() > 0
        for column in ("cross_az_bytes", "cross_az_gb", "cross_az_usd"):
            assert rows[column].null_count() == rows.height, column
        assert rows["nat_usd"].sum() > 0  # still NAT-charged
        meta = run.metadata[day]
        assert meta["unknown_az_addresses"] == rows["addresses"].sum() > 0
        assert meta["unknown_az_nat_bytes"] == truth["nat_bytes"].sum()


def test_the_interface_azs_setting_gives_the_nats_az_when_the_format_has_no_az_id(run: Run):
    day = run.days()[0]
    flows, attribution, nat, client_azs = inputs(run, day)
    # A flow log format without az-id: nat_flows.nat_az_id is null on every row.
    without = flows.with_columns(pl.lit(None, dtype=pl.String).alias("nat_az_id"))

    def table(frame: pl.DataFrame, interface_azs: dict[str, str] | None) -> pl.DataFrame:
        return network_costs_of(
            frame,
            attribution,
            nat,
            company.EGRESS_VPC_CIDRS,
            CATALOGUE,
            GB,
            client_azs=client_azs,
            interface_azs=interface_azs,
        )

    stored = run.day(tables.TEAM_DAILY_NETWORK_COSTS, day)
    # No AZ for the NAT: every address is unknown, nothing priced, the NAT bytes still counted.
    blind = table(without, None)
    # the TGW path needs no AZ (never charged); every other address is unknown, never priced
    assert set(blind["az_state"]) == {"unknown", "via_tgw"}
    unknown = blind.filter(pl.col("az_state") == "unknown")
    assert unknown["cross_az_usd"].null_count() == unknown.height > 0
    assert blind["nat_bytes"].sum() == stored["nat_bytes"].sum()
    # The setting names the interface's AZ: the same table as from the flow log's az-id.
    configured = table(without, {company.NAT_INTERFACE: company.NAT_AZ_ID})
    assert_frame_equal(configured, stored, check_exact=False, rel_tol=1e-12)
    # The flow log's az-id wins over the setting where both say.
    assert_frame_equal(
        table(flows, {company.NAT_INTERFACE: "use1-az9"}), stored, check_exact=False, rel_tol=1e-12
    )
    # The setting in another AZ: the NAT's own-AZ clients now cross, the others' states follow.
    elsewhere = table(without, {company.NAT_INTERFACE: "use1-az2"})
    moved = elsewhere.filter(pl.col("tgw_state") == "egress_vpc")
    stayed = stored.filter(pl.col("tgw_state") == "egress_vpc")
    # the egress VPC's subnets swap states: the NAT's old AZ now crosses, the other one not
    assert set(moved["az_state"]) == set(stayed["az_state"]) == {"same_az", "cross_az"}
    by_state = dict(zip(moved["az_state"], moved["nat_bytes"], strict=True))
    was = dict(zip(stayed["az_state"], stayed["nat_bytes"], strict=True))
    assert by_state["cross_az"] == was["same_az"] and by_state["same_az"] == was["cross_az"]


def test_a_format_without_az_id_leaves_nat_az_id_null(tmp_path):
    header = "srcaddr dstaddr pkt-srcaddr pkt-dstaddr bytes start"
    start = int(datetime(2026, 11, 1, tzinfo=timezone.utc).timestamp()) + 60
    path = tmp_path / "one.log"
    path.write_text(f"{header}\n10.10.1.7 10.255.0.10 10.10.1.7 203.0.113.9 500 {start}\n")
    obj = FlowLogObject(
        str(path),
        company.NAT_ACCOUNT,
        company.NAT_REGION,
        datetime(2026, 11, 1, 1, tzinfo=timezone.utc),
        "plain",
        path.stat().st_size,
    )
    flows = read_day([obj], lambda p: Path(p).read_bytes(), FIRST_DAY).nat_flows.collect()
    assert flows.height == 1 and flows["nat_az_id"].to_list() == [None]
    assert flows["bytes"].to_list() == [500]


def test_totals_are_nat_plus_tgw_plus_cross_az_per_team_to_the_cent(run: Run):
    for day in run.days():
        table = run.day(tables.TEAM_DAILY_NETWORK_COSTS, day)
        nat = (
            run.day(tables.TEAM_DAILY_COSTS, day)
            .group_by("team")
            .agg(pl.col("total_usd").sum().alias("nat"))
        )
        truth = (
            az_truth_of(run, day)
            .group_by("team")
            .agg(pl.col("cross_az_bytes").sum().alias("truth_cross_az_bytes"))
        )
        teams = (
            table.group_by("team")
            .agg(
                pl.col("nat_usd").sum(),
                pl.col("tgw_usd").sum(),
                pl.col("cross_az_bytes").sum(),
                pl.col("cross_az_usd").sum(),
                pl.col("total_usd").sum(),
            )
            .join(nat, on="team", how="full", coalesce=True)
            .join(truth, on="team", how="left")
        )
        assert teams.height == nat.height
        for row in teams.iter_rows(named=True):
            # Each cross-AZ GB pays the inter-AZ price out of one AZ and again into the other.
            expected_az = row["truth_cross_az_bytes"] / GB * INTER_AZ_PER_GB * 2
            assert row["cross_az_bytes"] == row["truth_cross_az_bytes"], row
            assert round(row["cross_az_usd"], 2) == round(expected_az, 2), row
            assert round(row["nat_usd"], 2) == round(row["nat"], 2), row
            assert round(row["total_usd"], 2) == round(
                row["nat"] + row["tgw_usd"] + row["cross_az_usd"], 2
            ), row
        crossing = table.filter(pl.col("az_state") == "cross_az")
        per_row = crossing["cross_az_bytes"] / GB * INTER_AZ_PER_GB * 2
        assert (crossing["cross_az_usd"] - per_row).abs().max() < 1e-12
        total = (
            table["nat_usd"]
            + table["tgw_usd"].fill_null(0.0)
            + table["cross_az_usd"].fill_null(0.0)
        )
        assert (table["total_usd"] - total).abs().max() < 1e-12
        meta = run.metadata[day]
        assert meta["cross_az_usd"] == round(table["cross_az_usd"].sum(), 4) > 0  # below $1
        assert meta["inter_az_prices_used"]["us-east-1"]["inter_az_usd_per_gb_each_direction"] == (
            INTER_AZ_PER_GB
        )


def test_a_region_without_an_inter_az_price_fails_loudly(run: Run):
    flows, attribution, nat, client_azs = inputs(run, run.days()[0])
    without = PriceCatalogue(
        tuple(p for p in CATALOGUE.entries if (p.charge, p.region) != ("inter_az_gb", "us-east-1"))
    )
    with pytest.raises(UnknownPrice) as raised:
        network_costs_of(
            flows,
            attribution,
            nat,
            company.EGRESS_VPC_CIDRS,
            without,
            GB,
            client_azs=client_azs,
        )
    assert raised.value.charge == "inter_az_gb" and raised.value.region == "us-east-1"


def test_the_interface_azs_come_from_the_resource_or_the_variable(monkeypatch):
    assert NetworkCostsResource().interface_azs == {}
    monkeypatch.delenv("NATFLOW_INTERFACE_AZS", raising=False)
    assert settings.interface_azs() == {}
    monkeypatch.setenv("NATFLOW_INTERFACE_AZS", " eni-1=use1-az1, eni-2 = use1-az2 ,")
    assert settings.interface_azs() == {"eni-1": "use1-az1", "eni-2": "use1-az2"}
    monkeypatch.setenv("NATFLOW_INTERFACE_AZS", "eni-1")
    with pytest.raises(ValueError, match="NATFLOW_INTERFACE_AZS"):
        settings.interface_azs()
    with pytest.raises(ValidationError, match="interface_azs"):
        NetworkCostsResource(interface_azs={"eni-1": " "})
