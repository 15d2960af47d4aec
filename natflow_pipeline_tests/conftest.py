"""Shared fixtures: the embedded sample materialized once per session into a temporary warehouse."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from natflow_pipeline.demo import materialize_days, sample_days
from natflow_pipeline.paths import DATA_DIR
from natflow_pipeline.resources.warehouse import WarehouseResource

TEST_DATA = Path(__file__).parent / "data"
AWS_EXAMPLES = TEST_DATA / "aws-docs-flowlog-examples"


@pytest.fixture(scope="session")
def ground_truth() -> dict:
    return json.loads((DATA_DIR / "ground_truth.json").read_text())


@pytest.fixture(scope="session")
def sample_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WarehouseResource]:
    """The three sample days materialized through Dagster into a fresh warehouse."""
    warehouse = WarehouseResource(uri=str(tmp_path_factory.mktemp("warehouse")))
    materialize_days(sample_days(), {"warehouse": warehouse})
    yield warehouse


# Real services, started on demand by the tests that use them.
from natflow_pipeline_tests.services.moto import moto_server  # noqa: E402,F401
from natflow_pipeline_tests.services.netbox import netbox  # noqa: E402,F401
