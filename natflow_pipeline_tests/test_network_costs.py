"""team_daily_network_costs: Transit Gateway data processing per team, against the generator's
own truth (the company model classes each client; natflow's code is not used to compute it)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import date, timedelta

import dagster as dg
import polars as pl
import pytest
from pydantic import ValidationError

from natflow_pipeline import settings, tables
from natflow_pipeline.assets.costs import team_daily_costs
from natflow_pipeline.assets.enrichment import address_attribution
from natflow_pipeline.assets.flow_logs import nat_flows
from natflow_pipeline.assets.network_costs import team_daily_network_costs
from natflow_pipeline.assets.reference import aws_ip_ranges, ipam_prefixes
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
KEYS = ["team", "source_account_id", "tgw_state"]


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
    """Two generated days with clients inside the egress VPC, materialized through Dagster into
    real Delta tables."""
    root = tmp_path_factory.mktemp("network_costs")
    truth = generate(
        root / "generated",
        DEFAULT_IP_RANGES,
        FIRST_DAY,
        DAYS,
        400,
        seed=11,
        egress_vpc_connections_per_day=60,
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
        assert rows["source_account_id"].to_list() == [company.NAT_ACCOUNT]
        assert rows["egress_bytes"].to_list() == truth["egress_bytes"].to_list()
        assert rows["tgw_bytes"].to_list() == [0]
        assert rows["tgw_usd"].to_list() == [0.0]
        assert rows["total_usd"].to_list() == rows["nat_usd"].to_list()
        assert rows["nat_usd"].item() > 0  # its NAT traffic is still NAT-charged
        assert run.metadata[day]["egress_vpc_addresses"] == rows["addresses"].item()


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
                pl.col("total_usd").sum(),
            )
            .join(nat, on="team", how="full", coalesce=True)
        )
        assert teams.height == nat.height
        for row in teams.iter_rows(named=True):
            assert round(row["nat_usd"], 2) == round(row["nat"], 2), row
            assert round(row["tgw_usd"], 2) == round(row["tgw_bytes"] / GB * TGW_PER_GB, 2), row
            assert round(row["total_usd"], 2) == round(row["nat"] + row["tgw_usd"], 2), row
        # Row by row, with full precision.
        workload = table.filter(pl.col("tgw_state") == "workload")
        assert (workload["tgw_usd"] - workload["tgw_bytes"] / GB * TGW_PER_GB).abs().max() < 1e-12
        total = table["nat_usd"] + table["tgw_usd"].fill_null(0.0)
        assert (table["total_usd"] - total).abs().max() < 1e-12
        meta = run.metadata[day]
        assert meta["total_usd"] == round(table["total_usd"].sum(), 2)
        assert meta["tgw_gb"] == round(table["tgw_gb"].sum(), 3)
        assert meta["egress_vpc_return_tgw_usd"] > 0  # the egress VPC's, in no team's row


def test_the_table_has_its_declared_schema_and_grain(run: Run):
    table = run.warehouse.get().scan(tables.TEAM_DAILY_NETWORK_COSTS.name).collect()
    assert dict(table.schema) == SCHEMA
    keys = ["usage_date", "team", "source_account_id", "region", "tgw_state"]
    assert table.select(keys).is_duplicated().sum() == 0
    assert set(table["tgw_state"]) == {"workload", "egress_vpc", "unknown"}


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


def test_the_egress_vpc_cidrs_come_from_the_sample_company_or_the_variable(monkeypatch):
    assert NetworkCostsResource().egress_vpc_cidrs == list(company.EGRESS_VPC_CIDRS)
    monkeypatch.delenv("NATFLOW_EGRESS_VPC_CIDRS", raising=False)
    assert settings.egress_vpc_cidrs() == list(company.EGRESS_VPC_CIDRS)
    monkeypatch.setenv("NATFLOW_EGRESS_VPC_CIDRS", " 10.255.0.0/22, 2600:1f18:4a00:ff::/64 ")
    assert settings.egress_vpc_cidrs() == ["10.255.0.0/22", "2600:1f18:4a00:ff::/64"]
    with pytest.raises(ValidationError, match="not a CIDR"):
        NetworkCostsResource(egress_vpc_cidrs=["10.255.0.0/33"])
