"""Dashboard fixtures: a copy of the sample warehouse with a reconciliation table, and a browser."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from natflow_pipeline.assets.insights import nat_dashboard
from natflow_pipeline.definitions import defs
from natflow_pipeline.resources.warehouse import WarehouseResource
from natflow_pipeline_tests.dashboard.reconciliation_fixture import write_reconciliation_fixture
from natflow_pipeline_tests.services.chromium import Browser, chromium_binary, start_chromium
from natflow_pipeline_tests.services.processes import unavailable


def render_dashboard(
    warehouse: WarehouseResource, run_config: dict | None = None
) -> dg.ExecuteInProcessResult:
    """Materialize only the dashboard asset over an already materialized warehouse."""
    resources = {**defs.resources, "warehouse": warehouse}
    return dg.materialize(
        [nat_dashboard], resources=resources, run_config=run_config, raise_on_error=True
    )


def dashboard_path(result: dg.ExecuteInProcessResult) -> Path:
    (materialization,) = result.asset_materializations_for_node("nat_dashboard")
    return Path(materialization.metadata["path"].value)


@pytest.fixture(scope="session")
def reconciled_warehouse(
    sample_warehouse: WarehouseResource, tmp_path_factory: pytest.TempPathFactory
) -> WarehouseResource:
    """The sample warehouse, copied, with its reconciliation replaced by the clearly labelled test
    fixture (PASS, WARN, and a day left unreconciled)."""
    target = tmp_path_factory.mktemp("reconciled") / "warehouse"
    shutil.copytree(
        sample_warehouse.uri,
        target,
        ignore=shutil.ignore_patterns("reports", "nat_cost_reconciliation"),
    )
    warehouse = WarehouseResource(uri=str(target))
    write_reconciliation_fixture(warehouse.get())
    return warehouse


@pytest.fixture(scope="session")
def reconciled_dashboard(reconciled_warehouse: WarehouseResource) -> Path:
    return dashboard_path(render_dashboard(reconciled_warehouse))


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    if chromium_binary() is None:
        unavailable(
            "chromium is not installed; scripts/test.sh installs it (apt-get install -y chromium)"
        )
    try:
        yield from start_chromium(tmp_path / "chromium-profile", tmp_path / "chromium.log")
    except (RuntimeError, OSError) as exc:
        unavailable(f"chromium could not start: {exc}")
