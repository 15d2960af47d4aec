"""Cost Explorer against a real moto server on loopback (through a throttling proxy), and the
reconciliation check it feeds, materialized through Dagster."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import dagster as dg
import polars as pl
import pytest
import requests

from natflow_pipeline import tables
from natflow_pipeline.assets.cost_explorer import cost_explorer_nat_usage, nat_cost_reconciliation
from natflow_pipeline.cost_explorer import usage_response
from natflow_pipeline.demo import sample_days
from natflow_pipeline.resources.cost_checks import CostChecksResource
from natflow_pipeline.resources.cost_explorer import CostExplorerResource
from natflow_pipeline.resources.pricing import PricingResource
from natflow_pipeline.resources.warehouse import WarehouseResource
from natflow_pipeline_tests.services.throttling_proxy import ThrottlingProxy

NAT_ACCOUNT = "999999999999"
GB = 2**30


@pytest.fixture(scope="module")
def proxy(moto_server: str) -> Iterator[ThrottlingProxy]:
    with ThrottlingProxy(moto_server).running() as running:
        yield running


@pytest.fixture
def ce_proxy(proxy: ThrottlingProxy) -> ThrottlingProxy:
    proxy.reset_counts()
    proxy.throttle_next(0)
    return proxy


def queue_results(moto_server: str, *responses: dict) -> None:
    """Load moto's Cost Explorer with what the next distinct GetCostAndUsage requests return."""
    answer = requests.post(
        f"{moto_server}/moto-api/static/ce/cost-and-usage-results",
        json={"results": list(responses), "account_id": "123456789012"},
        timeout=10,
    )
    assert answer.status_code == 201, answer.text


def warehouse_with_gold_day(
    tmp_path, sample_warehouse: WarehouseResource, day: date
) -> tuple[WarehouseResource, int]:
    """A fresh warehouse holding a sample day's gold rows re-dated to ``day`` (each test asks
    moto about its own day: moto answers a repeated request with the result it gave before)."""
    source = sample_warehouse.get().read_partition(
        "team_daily_costs", "usage_date", date.fromisoformat(sample_days()[0])
    )
    warehouse = WarehouseResource(uri=str(tmp_path / "wh"))
    warehouse.get().write_partition(
        "team_daily_costs", source.with_columns(pl.lit(day).alias("usage_date")), "usage_date", day
    )
    return warehouse, int(source["bytes"].sum())


def materialize(
    day: date,
    warehouse: WarehouseResource,
    proxy: ThrottlingProxy,
    run_config: dict | None = None,
    **ce,
) -> dg.ExecuteInProcessResult:
    resources = {
        "warehouse": warehouse,
        "pricing": PricingResource(),
        "cost_checks": CostChecksResource(),
        "cost_explorer": CostExplorerResource(mode="aws", endpoint_url=proxy.endpoint, **ce),
    }
    return dg.materialize(
        [cost_explorer_nat_usage, nat_cost_reconciliation],
        partition_key=day.isoformat(),
        resources=resources,
        run_config=run_config,
        raise_on_error=False,
    )


def check_of(result: dg.ExecuteInProcessResult) -> dg.AssetCheckEvaluation:
    (evaluation,) = [
        e for e in result.get_asset_check_evaluations() if e.check_name == "matches_cost_explorer"
    ]
    return evaluation


def reconciliation_row(warehouse: WarehouseResource, day: date) -> dict:
    (row,) = (
        warehouse.get()
        .read_partition(tables.NAT_COST_RECONCILIATION.name, "usage_date", day)
        .rows(named=True)
    )
    return row


def test_a_matching_day_passes(tmp_path, moto_server, ce_proxy, sample_warehouse):
    day = date(2026, 11, 10)
    warehouse, nat_bytes = warehouse_with_gold_day(tmp_path, sample_warehouse, day)
    queue_results(
        moto_server,
        usage_response(day, [("NatGateway-Bytes", NAT_ACCOUNT, nat_bytes / GB * 1.003, 1.0)]),
    )
    result = materialize(day, warehouse, ce_proxy)
    assert result.success
    evaluation = check_of(result)
    assert evaluation.passed
    row = reconciliation_row(warehouse, day)
    assert (
        row["status"] == "PASS"
        and row["region"] == "us-east-1"
        and row["account_id"] == NAT_ACCOUNT
    )
    assert row["flow_log_gb"] == pytest.approx(nat_bytes / GB)
    assert row["difference_pct"] == pytest.approx(-0.3, abs=0.01)
    assert evaluation.metadata["unit"].value == "GB = 1,073,741,824 bytes"
    assert ce_proxy.cost_and_usage_calls == 1


def test_a_final_day_two_percent_off_fails_with_error_and_blocks(
    tmp_path, moto_server, ce_proxy, sample_warehouse
):
    day = date(2026, 11, 11)
    warehouse, nat_bytes = warehouse_with_gold_day(tmp_path, sample_warehouse, day)
    queue_results(
        moto_server,
        usage_response(day, [("NatGateway-Bytes", NAT_ACCOUNT, nat_bytes / GB * 1.02, 1.0)]),
    )
    result = materialize(day, warehouse, ce_proxy)
    evaluation = check_of(result)
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert not result.success  # the check is blocking: an ERROR fails the step
    row = reconciliation_row(warehouse, day)
    assert row["status"] == "ERROR"
    assert row["difference_pct"] == pytest.approx(-100 * 0.02 / 1.02, abs=1e-6)
    assert row["difference_gb"] == pytest.approx(-0.02 * nat_bytes / GB)
    # the table keeps full precision (above); the metadata a person reads is to the megabyte
    assert evaluation.metadata["flow_log_gb"].value == round(nat_bytes / GB, 3)
    assert evaluation.metadata["cost_explorer_gb"].value == pytest.approx(
        nat_bytes / GB * 1.02, abs=0.0005
    )


def test_an_estimated_day_warns(tmp_path, moto_server, ce_proxy, sample_warehouse):
    day = date(2026, 11, 12)
    warehouse, nat_bytes = warehouse_with_gold_day(tmp_path, sample_warehouse, day)
    queue_results(
        moto_server,
        usage_response(
            day, [("NatGateway-Bytes", NAT_ACCOUNT, nat_bytes / GB * 0.9, 1.0)], estimated=True
        ),
    )
    result = materialize(day, warehouse, ce_proxy)
    assert result.success  # a WARN does not block
    evaluation = check_of(result)
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
    row = reconciliation_row(warehouse, day)
    assert row["status"] == "WARN" and row["estimated"] is True


def test_every_page_is_read_and_regional_nat_usage_counts(
    tmp_path, moto_server, ce_proxy, sample_warehouse
):
    day = date(2026, 11, 13)
    warehouse, nat_bytes = warehouse_with_gold_day(tmp_path, sample_warehouse, day)
    first = usage_response(day, [("NatGateway-Bytes", NAT_ACCOUNT, nat_bytes / GB * 0.75, 1.0)])
    first["NextPageToken"] = "page-2"
    second = usage_response(
        day, [("RegionalNatGateway-Bytes", NAT_ACCOUNT, nat_bytes / GB * 0.25, 0.3)]
    )
    queue_results(moto_server, first, second)
    result = materialize(day, warehouse, ce_proxy)
    assert result.success
    usage = warehouse.get().read_partition(tables.COST_EXPLORER_NAT_USAGE.name, "usage_date", day)
    assert sorted(usage["usage_type"]) == ["NatGateway-Bytes", "RegionalNatGateway-Bytes"]
    assert set(usage["region"]) == {"us-east-1"}
    assert (
        warehouse.get()
        .read_partition(tables.COST_EXPLORER_REQUESTS.name, "usage_date", day)["pages"]
        .item()
        == 2
    )
    assert reconciliation_row(warehouse, day)["status"] == "PASS"
    assert ce_proxy.cost_and_usage_calls == 2


def test_throttling_is_retried_with_backoff(tmp_path, moto_server, ce_proxy, sample_warehouse):
    day = date(2026, 11, 14)
    warehouse, nat_bytes = warehouse_with_gold_day(tmp_path, sample_warehouse, day)
    queue_results(
        moto_server, usage_response(day, [("NatGateway-Bytes", NAT_ACCOUNT, nat_bytes / GB, 1.0)])
    )
    ce_proxy.throttle_next(2)
    result = materialize(day, warehouse, ce_proxy)
    assert result.success
    assert ce_proxy.throttled == 2 and ce_proxy.cost_and_usage_calls == 3
    assert (
        warehouse.get()
        .read_partition(tables.COST_EXPLORER_REQUESTS.name, "usage_date", day)["retries"]
        .item()
        == 2
    )
    assert reconciliation_row(warehouse, day)["status"] == "PASS"


def test_throttling_beyond_the_retry_budget_fails_naming_the_service_and_day(
    tmp_path, ce_proxy, sample_warehouse
):
    day = date(2026, 11, 15)
    warehouse, _ = warehouse_with_gold_day(tmp_path, sample_warehouse, day)
    ce_proxy.throttle_next(10)
    result = materialize(day, warehouse, ce_proxy, max_attempts=3)
    assert not result.success
    assert ce_proxy.cost_and_usage_calls == 3
    failure = next(e for e in result.all_events if e.is_step_failure)
    message = str(failure.step_failure_data.error)
    assert (
        "Cost Explorer GetCostAndUsage for 2026-11-15 (page 1) failed after 3 attempt(s)" in message
    )
    assert "LimitExceededException" in message
    assert not warehouse.get().exists(
        tables.COST_EXPLORER_REQUESTS.name
    )  # not marked as asked: the next run asks again
    ce_proxy.throttle_next(0)


def test_a_final_day_is_asked_once_and_again_only_on_request(
    tmp_path, moto_server, ce_proxy, sample_warehouse
):
    day = date(2026, 11, 16)
    warehouse, nat_bytes = warehouse_with_gold_day(tmp_path, sample_warehouse, day)
    queue_results(
        moto_server, usage_response(day, [("NatGateway-Bytes", NAT_ACCOUNT, nat_bytes / GB, 1.0)])
    )
    assert materialize(day, warehouse, ce_proxy).success
    assert materialize(day, warehouse, ce_proxy).success
    assert ce_proxy.cost_and_usage_calls == 1
    again = {"ops": {"cost_explorer_nat_usage": {"config": {"refetch": "always"}}}}
    assert materialize(day, warehouse, ce_proxy, run_config=again).success
    assert ce_proxy.cost_and_usage_calls == 2
    assert (
        warehouse.get()
        .read_partition(tables.COST_EXPLORER_REQUESTS.name, "usage_date", day)["times_asked"]
        .item()
        == 2
    )


def test_an_estimated_day_is_asked_again_until_final(
    tmp_path, moto_server, ce_proxy, sample_warehouse
):
    day = date(2026, 11, 17)
    warehouse, nat_bytes = warehouse_with_gold_day(tmp_path, sample_warehouse, day)
    queue_results(
        moto_server,
        usage_response(
            day, [("NatGateway-Bytes", NAT_ACCOUNT, nat_bytes / GB, 1.0)], estimated=True
        ),
    )
    assert materialize(day, warehouse, ce_proxy).success
    never = {"ops": {"cost_explorer_nat_usage": {"config": {"refetch": "never"}}}}
    assert materialize(day, warehouse, ce_proxy, run_config=never).success
    assert ce_proxy.cost_and_usage_calls == 1
    assert materialize(day, warehouse, ce_proxy).success  # default: estimated days are asked again
    assert ce_proxy.cost_and_usage_calls == 2
    assert day < date.today() - timedelta(days=2)
