"""TGW bytes and inter-AZ transfer against Cost Explorer (a real moto server, through Dagster):
the share of the bill the NAT flow logs explain, and the offline file's 'no data'."""

from __future__ import annotations

from datetime import date

import dagster as dg
import polars as pl
import pytest
import requests

from natflow_pipeline import tables
from natflow_pipeline.assets.cost_explorer import (
    cost_explorer_network_usage,
    network_cost_reconciliation,
)
from natflow_pipeline.cost_explorer import (
    CostExplorerError,
    FileCostExplorer,
    fetch_network_day,
    network_request_for,
    network_usage_type_of,
    usage_response,
)
from natflow_pipeline.demo import sample_days
from natflow_pipeline.paths import DEFAULT_COST_EXPLORER_FILE
from natflow_pipeline.resources.cost_checks import CostChecksResource
from natflow_pipeline.resources.cost_explorer import CostExplorerResource
from natflow_pipeline.resources.pricing import PricingResource
from natflow_pipeline.resources.warehouse import WarehouseResource

GB = 2**30
NAT_ACCOUNT = "999999999999"
PAYMENTS = "111111111111"
SEARCH = "222222222222"


@pytest.mark.parametrize(
    ("usage_type", "charge", "region"),
    [
        ("TransitGateway-Bytes", "tgw", "us-east-1"),
        ("USE1-TransitGateway-Bytes", "tgw", "us-east-1"),
        ("USE2-TransitGateway-Bytes", "tgw", "us-east-2"),
        ("EU-DataTransfer-Regional-Bytes", "inter_az", "eu-west-1"),
        ("DataTransfer-Regional-Bytes", "inter_az", "us-east-1"),
    ],
)
def test_network_usage_types_decode_charge_and_region(usage_type, charge, region):
    assert network_usage_type_of(usage_type) == (charge, region)


def test_other_usage_types_and_unknown_codes_are_errors():
    with pytest.raises(CostExplorerError, match="unknown region code 'XYZ1'"):
        network_usage_type_of("XYZ1-TransitGateway-Bytes")
    with pytest.raises(CostExplorerError, match="not a TransitGateway-Bytes"):
        network_usage_type_of("NatGateway-Bytes")


def test_the_network_request_filters_on_every_regions_usage_types():
    values = network_request_for(date(2026, 11, 2))["Filter"]["Dimensions"]
    assert values["Key"] == "USAGE_TYPE"
    assert {"TransitGateway-Bytes", "USE1-TransitGateway-Bytes"} <= set(values["Values"])
    assert "APS3-TransitGateway-Bytes" in values["Values"]
    assert "DataTransfer-Regional-Bytes" in values["Values"]


def test_the_offline_file_has_no_network_usage():
    day = date.fromisoformat(sample_days()[0])
    answer = fetch_network_day(FileCostExplorer(DEFAULT_COST_EXPLORER_FILE), day)
    assert answer.usage.is_empty() and not answer.estimated


def queue_results(moto_server: str, *responses: dict) -> None:
    answer = requests.post(
        f"{moto_server}/moto-api/static/ce/cost-and-usage-results",
        json={"results": list(responses), "account_id": "123456789012"},
        timeout=10,
    )
    assert answer.status_code == 201, answer.text


def _frame(rows: list[dict], schema) -> pl.DataFrame:
    return pl.DataFrame(rows).select(
        [
            (pl.col(c) if c in rows[0] else pl.lit(None)).cast(t).alias(c)
            for c, t in dict(schema).items()
        ]
    )


def warehouse_for(tmp_path, day: date, cross_az: bool) -> WarehouseResource:
    """payments (a workload VPC) sent 6 GB into the TGW and got 4 GB back through it (the NAT
    account's attachment), 1.5 GB of it across AZs; search sits in the egress VPC: no TGW bytes.
    ``cross_az=False``: the table as written before its cross_az_* columns existed."""
    warehouse = WarehouseResource(uri=str(tmp_path / "wh"))
    network = _frame(
        [
            {
                "usage_date": day,
                "team": "payments",
                "source_account_id": PAYMENTS,
                "region": "us-east-1",
                "tgw_state": "workload",
                "addresses": 2,
                "nat_bytes": 10 * GB,
                "egress_bytes": 6 * GB,
                "tgw_bytes": 6 * GB,
                "cross_az_bytes": 3 * GB // 2,
            },
            {
                "usage_date": day,
                "team": "search",
                "source_account_id": SEARCH,
                "region": "us-east-1",
                "tgw_state": "egress_vpc",
                "addresses": 1,
                "nat_bytes": 2 * GB,
                "egress_bytes": GB,
                "tgw_bytes": 0,
                "cross_az_bytes": 0,
            },
        ],
        {**tables.TEAM_DAILY_NETWORK_COSTS.schema, "cross_az_bytes": pl.Int64},
    )
    if not cross_az:
        network = network.drop([c for c in network.columns if c.startswith("cross_az")])
    costs = _frame(
        [
            {
                "usage_date": day,
                "team": team,
                "source_account_id": account,
                "region": "us-east-1",
                "account_id": NAT_ACCOUNT,
                "bytes": nat,
            }
            for team, account, nat in (("payments", PAYMENTS, 10 * GB), ("search", SEARCH, 2 * GB))
        ],
        tables.TEAM_DAILY_COSTS.schema,
    )
    store = warehouse.get()
    store.write_partition(tables.TEAM_DAILY_NETWORK_COSTS.name, network, "usage_date", day)
    store.write_partition(tables.TEAM_DAILY_COSTS.name, costs, "usage_date", day)
    return warehouse


def materialize(day: date, warehouse: WarehouseResource, cost_explorer: CostExplorerResource):
    return dg.materialize(
        [cost_explorer_network_usage, network_cost_reconciliation],
        partition_key=day.isoformat(),
        resources={
            "warehouse": warehouse,
            "pricing": PricingResource(),
            "cost_checks": CostChecksResource(),
            "cost_explorer": cost_explorer,
        },
        raise_on_error=False,
    )


def check(result: dg.ExecuteInProcessResult, name: str) -> dg.AssetCheckEvaluation:
    (evaluation,) = [e for e in result.get_asset_check_evaluations() if e.check_name == name]
    return evaluation


def test_tgw_coverage_is_the_share_of_the_bill_the_flow_logs_explain(tmp_path, moto_server):
    day = date(2026, 11, 20)
    warehouse = warehouse_for(tmp_path, day, cross_az=True)
    queue_results(
        moto_server,
        usage_response(
            day,
            [
                ("USE1-TransitGateway-Bytes", PAYMENTS, 12.0, 0.24),  # half seen by the NAT
                ("TransitGateway-Bytes", NAT_ACCOUNT, 4.0, 0.08),  # the return traffic, all seen
                ("USE2-TransitGateway-Bytes", SEARCH, 1.0, 0.02),  # never reaches the NAT
                ("USE1-DataTransfer-Regional-Bytes", PAYMENTS, 3.0, 0.03),  # half seen
                ("DataTransfer-Regional-Bytes", NAT_ACCOUNT, 1.5, 0.015),  # the NAT's side
            ],
        ),
    )
    result = materialize(day, warehouse, CostExplorerResource(mode="aws", endpoint_url=moto_server))
    assert result.success  # a share below 100% warns, never fails the run
    tgw = check(result, "tgw_covered_by_flow_logs")
    assert not tgw.passed and tgw.severity == dg.AssetCheckSeverity.WARN
    assert tgw.metadata["status"].value == "WARN"
    assert tgw.metadata["flow_log_gb"].value == 10.0
    assert tgw.metadata["cost_explorer_gb"].value == 17.0
    assert tgw.metadata["covered_pct"].value == round(10 / 17 * 100, 2)
    usage = warehouse.get().read_day(tables.COST_EXPLORER_NETWORK_USAGE, day)
    assert sorted(zip(usage["charge"], usage["region"], usage["account_id"], strict=True)) == [
        ("inter_az", "us-east-1", PAYMENTS),
        ("inter_az", "us-east-1", NAT_ACCOUNT),
        ("tgw", "us-east-1", PAYMENTS),
        ("tgw", "us-east-1", NAT_ACCOUNT),
        ("tgw", "us-east-2", SEARCH),
    ]
    rows = {
        (r["account_id"], r["region"]): r
        for r in warehouse.get()
        .read_day(tables.NETWORK_COST_RECONCILIATION, day)
        .filter(pl.col("charge") == "tgw")
        .iter_rows(named=True)
    }
    assert rows[(PAYMENTS, "us-east-1")]["covered_pct"] == 50.0
    assert rows[(PAYMENTS, "us-east-1")]["status"] == "WARN"
    assert rows[(NAT_ACCOUNT, "us-east-1")]["covered_pct"] == 100.0
    assert rows[(NAT_ACCOUNT, "us-east-1")]["status"] == "PASS"
    assert rows[(SEARCH, "us-east-2")]["covered_pct"] == 0.0
    inter_az = check(result, "inter_az_covered_by_flow_logs")
    assert not inter_az.passed and inter_az.severity == dg.AssetCheckSeverity.WARN
    # 1.5 GB crossed AZs: billed once in the client's account and once in the NAT's
    assert inter_az.metadata["flow_log_gb"].value == 3.0
    assert inter_az.metadata["cost_explorer_gb"].value == 4.5
    assert inter_az.metadata["covered_pct"].value == round(3 / 4.5 * 100, 2)


def test_flow_logs_beyond_the_bill_are_an_error(tmp_path, moto_server):
    day = date(2026, 11, 21)
    warehouse = warehouse_for(tmp_path, day, cross_az=False)
    queue_results(
        moto_server,
        usage_response(
            day,
            [
                ("USE1-TransitGateway-Bytes", PAYMENTS, 5.0, 0.1),  # 6 GB seen
                ("TransitGateway-Bytes", NAT_ACCOUNT, 4.0, 0.08),
            ],
        ),
    )
    result = materialize(day, warehouse, CostExplorerResource(mode="aws", endpoint_url=moto_server))
    tgw = check(result, "tgw_covered_by_flow_logs")
    assert not tgw.passed and tgw.severity == dg.AssetCheckSeverity.ERROR
    assert tgw.metadata["covered_pct"].value == round(10 / 9 * 100, 2)
    # a table without the cross_az_bytes column: inter-AZ is not computed, not a failure
    inter_az = check(result, "inter_az_covered_by_flow_logs")
    assert inter_az.passed
    assert inter_az.metadata["status"].value == "NOT_COMPUTED"
    assert inter_az.metadata["flow_log_gb"].value == "not computed"


def test_the_offline_file_reports_no_data_not_a_failure(tmp_path):
    day = date.fromisoformat(sample_days()[0])
    warehouse = warehouse_for(tmp_path, day, cross_az=True)
    result = materialize(day, warehouse, CostExplorerResource())
    assert result.success
    tgw = check(result, "tgw_covered_by_flow_logs")
    assert tgw.passed and tgw.metadata["status"].value == "NO_DATA"
    assert tgw.metadata["cost_explorer_gb"].value == "no data"
    assert tgw.metadata["flow_log_gb"].value == 10.0
    assert check(result, "inter_az_covered_by_flow_logs").metadata["status"].value == "NO_DATA"


def test_cost_explorer_billing_nothing_for_bytes_the_flow_logs_saw_is_an_error(
    tmp_path, moto_server
):
    """From Cost Explorer itself no row is a bill of 0 (it answers for every usage type asked):
    flow-log bytes against it are judged, not 'no data' (an offline file could not know)."""
    day = date(2026, 11, 22)
    warehouse = warehouse_for(tmp_path, day, cross_az=True)
    queue_results(moto_server, usage_response(day, []))
    result = materialize(day, warehouse, CostExplorerResource(mode="aws", endpoint_url=moto_server))
    for name in ("tgw_covered_by_flow_logs", "inter_az_covered_by_flow_logs"):
        evaluation = check(result, name)
        assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR, name
        assert evaluation.metadata["status"].value == "ERROR", name
