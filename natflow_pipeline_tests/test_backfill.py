"""A 7-day backfill of the whole asset graph through a real ``dagster dev``, launched over GraphQL
as the UI's "Materialize > Backfill" does, with two runs at once.

Two instances share one set of generated days and one in-process reference: SQLite and local
files (what ``dagster dev`` gives a developer), and production's shape: the production
dagster.yaml on a real PostgreSQL, with flow logs and Delta tables on a moto S3 server. (One
backfill is 15 runs; PostgreSQL and S3 share a variant to keep the suite within minutes.) Each
asserts that every partition of every asset materialized, that the tables hold exactly the 7 days,
and that their content equals materializing the same days one by one in process.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import boto3
import polars as pl
import pytest
import yaml
from polars.testing import assert_frame_equal

from natflow_pipeline import tables
from natflow_pipeline.demo import materialize_days
from natflow_pipeline.paths import DEFAULT_IP_RANGES, PROJECT_ROOT
from natflow_pipeline.resources.cost_explorer import CostExplorerResource
from natflow_pipeline.resources.flow_logs import FlowLogSource
from natflow_pipeline.resources.reference import IpamSource, IpRangesSource
from natflow_pipeline.resources.warehouse import WarehouseResource
from natflow_pipeline.sample_data.generator import generate
from natflow_pipeline_tests.services.dagster_dev import DagsterDev, start_dagster_dev
from natflow_pipeline_tests.services.postgres import Postgres, start_postgres
from natflow_pipeline_tests.services.processes import unavailable

FIRST_DAY = date(2026, 11, 1)
DAYS = [(FIRST_DAY + timedelta(days=n)).isoformat() for n in range(7)]
CONNECTIONS_PER_DAY = 300
SEED = 11
CONCURRENT_RUNS = 2
BACKFILL_TIMEOUT_S = 900

#: Every daily table of the registry -> its partition column; each is an asset of its own.
DAILY_TABLES = {t.name: t.partition_column for t in tables.TABLES if t is not tables.AWS_IP_RANGES}
PARTITIONED_ASSETS = tuple(DAILY_TABLES)
UNPARTITIONED_ASSETS = ("aws_ip_ranges", "nat_dashboard")
#: Tables that hold rows only for some days of the generated data (their content is still compared
#: with the day-by-day reference below).
SPARSE_TABLES = {
    "rejected_flow_log_lines": "only days with rejected lines (the generated days have none)",
    "cost_explorer_network_usage": "the offline Cost Explorer file has no TGW or inter-AZ usage",
    "network_cost_reconciliation": "no rows while Cost Explorer has no TGW or inter-AZ usage",
}
#: Columns that say when something ran, not what it computed.
RUN_TIME_COLUMNS = ("fetched_at",)
TABLES = (*DAILY_TABLES, "aws_ip_ranges")


@dataclass(frozen=True)
class Generated:
    root: Path

    @property
    def flow_logs(self) -> Path:
        return self.root / "flowlogs"

    @property
    def ipam_export(self) -> Path:
        return self.root / "ipam" / "netbox-export.json"

    @property
    def cost_explorer_file(self) -> Path:
        """The Cost Explorer answers the generated traffic implies (the offline ``file`` mode)."""
        return self.root / "cost_explorer" / "nat-usage.json"


@pytest.fixture(scope="module")
def seven_days(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    root = tmp_path_factory.mktemp("seven-days")
    generate(root, DEFAULT_IP_RANGES, FIRST_DAY, len(DAYS), CONNECTIONS_PER_DAY, SEED)
    return Generated(root)


@pytest.fixture(scope="module")
def reference(seven_days: Generated, tmp_path_factory: pytest.TempPathFactory) -> WarehouseResource:
    """The same days materialized one by one, in process, into a local warehouse."""
    warehouse = WarehouseResource(uri=str(tmp_path_factory.mktemp("reference-warehouse")))
    materialize_days(
        DAYS,
        {
            "warehouse": warehouse,
            "flow_logs": FlowLogSource(uri=str(seven_days.flow_logs)),
            "ipam": IpamSource(export_path=str(seven_days.ipam_export)),
            "ip_ranges": IpRangesSource(url=str(DEFAULT_IP_RANGES)),
            "cost_explorer": CostExplorerResource(file_path=str(seven_days.cost_explorer_file)),
        },
    )
    return warehouse


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    try:
        server = start_postgres()
    except RuntimeError as exc:
        unavailable(
            f"PostgreSQL could not start ({exc}); install postgresql-15 (apt) to run this test"
        )
        raise
    try:
        yield server
    finally:
        server.stop()


def instance_yaml(postgres: Postgres | None) -> str:
    """deploy/dagster.yaml, the production instance, with its limits lowered for a small machine;
    without PostgreSQL its storage falls back to SQLite under DAGSTER_HOME (as ``dagster dev``'s).
    """
    config = copy.deepcopy(yaml.safe_load((PROJECT_ROOT / "deploy" / "dagster.yaml").read_text()))
    config["concurrency"]["runs"]["max_concurrent_runs"] = CONCURRENT_RUNS
    config["concurrency"]["pools"]["default_limit"] = CONCURRENT_RUNS
    if postgres is None:
        del config["storage"]
    return yaml.safe_dump(config)


def postgres_env(postgres: Postgres) -> dict[str, str]:
    # The test cluster trusts loopback connections; the password is required by nothing.
    return {
        "DAGSTER_PG_HOST": "127.0.0.1",
        "DAGSTER_PG_PORT": str(postgres.port),
        "DAGSTER_PG_USERNAME": "natflow",
        "DAGSTER_PG_PASSWORD": "unused-with-trust-auth",
        "DAGSTER_PG_DB": "dagster",
    }


@pytest.mark.parametrize("variant", ["sqlite-local", "postgres-s3"])
def test_a_seven_day_backfill_through_dagster_dev_equals_materializing_day_by_day(
    variant, seven_days, reference, tmp_path, request
):
    env = {
        "NATFLOW_START_DATE": FIRST_DAY.isoformat(),
        "NATFLOW_FLOW_LOGS_URI": str(seven_days.flow_logs),
        "NATFLOW_WAREHOUSE_URI": str(tmp_path / "warehouse"),
        "NATFLOW_IPAM_EXPORT": str(seven_days.ipam_export),
        "NATFLOW_IP_RANGES_PATH": str(DEFAULT_IP_RANGES),
        "NATFLOW_COST_EXPLORER_FILE": str(seven_days.cost_explorer_file),
    }
    postgres = None
    if variant.startswith("postgres"):
        postgres = request.getfixturevalue("postgres")
        env.update(postgres_env(postgres))
    if variant.endswith("s3"):
        endpoint = request.getfixturevalue("moto_server")
        bucket = f"natflow-backfill-{int(time.time() * 1000)}"
        upload_folder(endpoint, bucket, seven_days.flow_logs, "flowlogs")
        env.update(
            {
                "NATFLOW_FLOW_LOGS_URI": f"s3://{bucket}/flowlogs",
                "NATFLOW_WAREHOUSE_URI": f"s3://{bucket}/warehouse",
                "NATFLOW_S3_ENDPOINT_URL": endpoint,
                "NATFLOW_S3_REGION": "us-east-1",
            }
        )
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(instance_yaml(postgres))

    try:
        dev = start_dagster_dev(home, env)
    except RuntimeError as exc:
        unavailable(str(exc))
        raise
    try:
        # As a deployment does before its first backfill (natflow_pipeline/pools.py: without it,
        # two runs creating one pool at once crash one of them on PostgreSQL, dagster#33552).
        subprocess.run(
            [sys.executable, "-m", "natflow_pipeline.pools"],
            env={**os.environ, **env, "DAGSTER_HOME": str(home)},
            cwd=PROJECT_ROOT,
            check=True,
            timeout=300,
        )
        backfill = run_backfill(dev)
        materialized = materializations(dev)
    finally:
        leftovers = dev.stop()
    assert leftovers == [], f"processes left running after dagster dev stopped: {leftovers}"

    assert backfill["status"] == "COMPLETED_SUCCESS", backfill
    runs = backfill["runs"]
    assert all(r["status"] == "SUCCESS" for r in runs), runs
    # one run per day for each wave of the graph (backfill policy multi_run(1)), plus aws_ip_ranges
    partitioned_runs = [r for r in runs if r["partition"]]
    assert sorted({r["partition"] for r in partitioned_runs}) == DAYS
    assert backfill["maxConcurrentRuns"] <= CONCURRENT_RUNS
    for asset in PARTITIONED_ASSETS:
        assert sorted(materialized[asset]) == DAYS, asset
        # the UI plots a metadata entry over time only when every partition has it, with one type
        entries = set(materialized[asset].values())
        assert len(entries) == 1, f"{asset}: metadata differs between partitions: {entries}"
    for asset in UNPARTITIONED_ASSETS:
        assert list(materialized[asset]) == [None], asset

    got = WarehouseResource(
        uri=env["NATFLOW_WAREHOUSE_URI"],
        s3_endpoint_url=env.get("NATFLOW_S3_ENDPOINT_URL"),
        s3_region=env.get("NATFLOW_S3_REGION"),
    )
    for table, column in DAILY_TABLES.items():
        days = [
            d.isoformat()
            for d in got.get().scan(table).select(pl.col(column).unique().sort()).collect()[column]
        ]
        if table in SPARSE_TABLES:
            assert set(days) <= set(DAYS), table
        else:
            assert days == DAYS, table
    for table in TABLES:
        assert_same_content(table, canonical(got, table), canonical(reference, table))


# ---------------------------------------------------------------------------------------------
# GraphQL

LAUNCH = """
mutation Launch($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on Error { message }
  }
}
"""

BACKFILL = """
query Backfill($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill {
      status
      runs { id status startTime endTime tags { key value } }
      error { message }
    }
    ... on Error { message }
  }
}
"""

ASSETS = """
query Assets($partitions: [String!]) {
  assetNodes {
    assetKey { path }
    isMaterializable
    assetMaterializations(partitions: $partitions) {
      partition runId metadataEntries { label __typename }
    }
  }
}
"""


def run_backfill(dev: DagsterDev) -> dict:
    """Launch a backfill of every materializable asset for DAYS; poll until it ends."""
    nodes = dev.graphql(ASSETS, {"partitions": DAYS})["assetNodes"]
    selection = [{"path": n["assetKey"]["path"]} for n in nodes if n["isMaterializable"]]
    params = {
        "partitionNames": DAYS,
        "assetSelection": selection,
        "title": "natflow 7-day backfill test",
    }
    launched = dev.graphql(LAUNCH, {"params": params})["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    deadline = time.monotonic() + BACKFILL_TIMEOUT_S
    while time.monotonic() < deadline:
        backfill = dev.graphql(BACKFILL, {"id": launched["backfillId"]})["partitionBackfillOrError"]
        assert backfill["__typename"] == "PartitionBackfill", backfill
        if backfill["status"] not in ("REQUESTED", "CANCELING", "FAILING"):
            runs = [
                {
                    "id": r["id"],
                    "status": r["status"],
                    "start": r["startTime"],
                    "end": r["endTime"],
                    "partition": one_day(r["tags"]),
                }
                for r in backfill["runs"]
            ]
            return {
                "status": backfill["status"],
                "runs": runs,
                "maxConcurrentRuns": max_overlap(runs),
                "error": backfill["error"],
            }
        time.sleep(2)
    raise AssertionError(
        f"backfill did not finish within {BACKFILL_TIMEOUT_S}s; dagster dev log:\n{dev.log_tail()}"
    )


def one_day(tags: list[dict]) -> str | None:
    """The day a run built: a one-day range (backfill runs, BackfillPolicy.multi_run(1))."""
    by_key = {t["key"]: t["value"] for t in tags}
    start, end = (
        by_key.get("dagster/asset_partition_range_start"),
        by_key.get("dagster/asset_partition_range_end"),
    )
    assert start == end, f"a backfill run covers more than one day: {start}..{end}"
    return start or by_key.get("dagster/partition")


def materializations(dev: DagsterDev) -> dict[str, dict[str | None, frozenset[tuple[str, str]]]]:
    """asset -> partition -> the (label, type) of each metadata entry the UI shows for it."""
    nodes = dev.graphql(ASSETS, {"partitions": None})["assetNodes"]
    return {
        "/".join(n["assetKey"]["path"]): {
            m["partition"]: frozenset((e["label"], e["__typename"]) for e in m["metadataEntries"])
            for m in n["assetMaterializations"]
        }
        for n in nodes
        if n["isMaterializable"]
    }


def max_overlap(runs: list[dict]) -> int:
    """The most runs that were in progress at one moment."""
    edges = sorted(
        [(r["start"], 1) for r in runs if r["start"]] + [(r["end"], -1) for r in runs if r["end"]],
        key=lambda e: (e[0], e[1]),
    )
    most = current = 0
    for _, step in edges:
        current += step
        most = max(most, current)
    return most


# ---------------------------------------------------------------------------------------------
# Table comparison


def canonical(warehouse: WarehouseResource, table: str) -> pl.DataFrame:
    """A table's rows, sorted, with where the flow logs lived (a local folder or an S3 bucket)
    cut down to the key below AWSLogs/, so two warehouses built from the same files compare equal.
    """
    frame = warehouse.get().scan(table).collect().drop(RUN_TIME_COLUMNS, strict=False)
    for column, dtype in frame.schema.items():
        if dtype == pl.String and frame[column].str.contains("AWSLogs/").any():
            frame = frame.with_columns(pl.col(column).str.replace(r"^.*?AWSLogs/", "AWSLogs/"))
    columns = sorted(frame.columns)
    return frame.select(columns).sort(columns, nulls_last=True)


def assert_same_content(table: str, got: pl.DataFrame, expected: pl.DataFrame) -> None:
    """Equal row for row: integers and text exactly; floats to 1e-9 relative, since a float sum's
    last bits depend on the order Polars adds the parts in (how the Delta files were split)."""
    assert got.schema == expected.schema, f"{table}: schema {got.schema} != {expected.schema}"
    assert got.height == expected.height, f"{table}: {got.height} rows, expected {expected.height}"
    exact = [c for c, t in got.schema.items() if not t.is_float()]
    assert got.select(exact).equals(expected.select(exact)), (
        f"{table}: content differs from materializing day by day"
    )
    assert_frame_equal(got, expected, check_exact=False, rel_tol=1e-9, abs_tol=1e-12)


def upload_folder(endpoint: str, bucket: str, folder: Path, prefix: str) -> None:
    s3 = boto3.client("s3", endpoint_url=endpoint)
    s3.create_bucket(Bucket=bucket)
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            s3.upload_file(str(path), bucket, f"{prefix}/{path.relative_to(folder).as_posix()}")
