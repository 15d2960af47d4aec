"""The Cost Explorer assets read each stored partition once per materialization, counted through
a real Delta warehouse whose ``scan`` (every read goes through it) records the table read."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

import dagster as dg
import polars as pl

from natflow_pipeline import tables
from natflow_pipeline.assets.cost_explorer import cost_explorer_nat_usage, nat_cost_reconciliation
from natflow_pipeline.cost_explorer import USAGE_SCHEMA
from natflow_pipeline.resources.cost_checks import CostChecksResource
from natflow_pipeline.resources.cost_explorer import CostExplorerResource
from natflow_pipeline.resources.pricing import PricingResource
from natflow_pipeline.resources.warehouse import WarehouseResource
from natflow_pipeline.warehouse import Warehouse

DAY = date(2026, 11, 3)
#: Table scans per warehouse URI (a resource is rebuilt per step, so the count lives outside it).
SCANS: dict[str, Counter[str]] = {}


@dataclass(frozen=True)
class CountingWarehouse(Warehouse):
    scans: Counter[str] = field(default_factory=Counter)

    def scan(self, table: str) -> pl.LazyFrame:
        self.scans[table] += 1
        return super().scan(table)


class CountingWarehouseResource(WarehouseResource):
    def get(self) -> Warehouse:
        plain = super().get()
        scans = SCANS.setdefault(self.uri, Counter())
        return CountingWarehouse(plain.uri, plain.storage_options, scans)


def stored_final_day(tmp_path) -> CountingWarehouseResource:
    """A warehouse where Cost Explorer already answered DAY with a final (not estimated) answer
    matching the flow logs' NAT bytes."""
    resource = CountingWarehouseResource(uri=str(tmp_path / "wh"))
    store = Warehouse(resource.uri)
    fetched_at = datetime(2026, 11, 5, tzinfo=timezone.utc)
    usage = pl.DataFrame(
        [(DAY, "999999999999", "us-east-1", "NatGateway-Bytes", 1.5, "GB", 0.0675, "USD", False)],
        schema=USAGE_SCHEMA,
        orient="row",
    ).with_columns(pl.lit(fetched_at).alias("fetched_at"), pl.lit("aws:test").alias("source"))
    store.write_partition(tables.COST_EXPLORER_NAT_USAGE.name, usage, "usage_date", DAY)
    request = {
        "usage_date": DAY,
        "fetched_at": fetched_at,
        "source": "aws:test",
        "estimated": False,
        "pages": 1,
        "rows": 1,
        "retries": 0,
        "times_asked": 1,
    }
    requests = pl.DataFrame(
        [request], schema=dict(tables.COST_EXPLORER_REQUESTS.schema), orient="row"
    )
    store.write_partition(tables.COST_EXPLORER_REQUESTS.name, requests, "usage_date", DAY)
    flows = pl.DataFrame(
        {
            "usage_date": [DAY],
            "account_id": ["999999999999"],
            "region": ["us-east-1"],
            "bytes": [int(1.5 * 2**30)],
        }
    )
    store.write_partition("team_daily_costs", flows, "usage_date", DAY)
    return resource


def materialize(
    asset: dg.AssetsDefinition, warehouse: CountingWarehouseResource, run_config: dict | None = None
) -> Counter[str]:
    SCANS.pop(warehouse.uri, None)
    resources = {
        "warehouse": warehouse,
        "pricing": PricingResource(),
        "cost_checks": CostChecksResource(),
        # aws with no endpoint: the stored answer is final and refetch=never, so AWS is never asked
        "cost_explorer": CostExplorerResource(mode="aws"),
    }
    result = dg.materialize(
        [asset], partition_key=DAY.isoformat(), resources=resources, run_config=run_config
    )
    assert result.success
    return SCANS.get(warehouse.uri, Counter())


def test_reconciliation_reads_the_requests_partition_once(tmp_path):
    warehouse = stored_final_day(tmp_path)
    scans = materialize(nat_cost_reconciliation, warehouse)
    assert scans == {
        tables.COST_EXPLORER_REQUESTS.name: 1,
        tables.COST_EXPLORER_NAT_USAGE.name: 1,
        "team_daily_costs": 1,
    }


def test_a_stored_final_day_is_read_once_and_not_asked_again(tmp_path):
    warehouse = stored_final_day(tmp_path)
    never = {"ops": {"cost_explorer_nat_usage": {"config": {"refetch": "never"}}}}
    scans = materialize(cost_explorer_nat_usage, warehouse, never)
    assert scans == {tables.COST_EXPLORER_REQUESTS.name: 1, tables.COST_EXPLORER_NAT_USAGE.name: 1}


def test_reconciliation_without_a_stored_answer_fails_naming_the_day(tmp_path):
    warehouse = CountingWarehouseResource(uri=str(tmp_path / "empty"))
    result = dg.materialize(
        [nat_cost_reconciliation],
        partition_key=DAY.isoformat(),
        resources={
            "warehouse": warehouse,
            "pricing": PricingResource(),
            "cost_checks": CostChecksResource(),
        },
        raise_on_error=False,
    )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    assert f"no Cost Explorer answer stored for {DAY}" in str(failure.step_failure_data.error)
