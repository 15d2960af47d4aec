"""Concurrent commits to one Delta table on S3 (a moto server) lose nothing.

delta-rs 1.x makes concurrent S3 writers safe with S3 conditional writes: each commit is a
put-if-absent (``If-None-Match: *``) of the next ``_delta_log`` entry, which moto enforces as S3
does. Separate processes write as backfill runs do: several days into a table that does not exist
yet (they race to create it), and two writers of the same day.
"""

import multiprocessing
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import boto3
import polars as pl
import pyarrow as pa
import pytest
from deltalake import DeltaTable

from natflow_pipeline.warehouse import Warehouse

ROWS = 200


def write_day(uri: str, endpoint: str, day: date, marker: int) -> int:
    frame = pl.DataFrame(
        {"usage_date": [day] * ROWS, "row": list(range(ROWS)), "writer": [marker] * ROWS}
    )
    store = Warehouse(
        uri, {"AWS_ENDPOINT_URL": endpoint, "AWS_ALLOW_HTTP": "true", "AWS_REGION": "us-east-1"}
    )
    return store.write_partition("t", frame, "usage_date", day)


def test_concurrent_writers_of_one_table_on_s3_lose_nothing(moto_server):
    bucket = f"natflow-concurrency-{int(time.time() * 1000)}"
    boto3.client("s3", endpoint_url=moto_server).create_bucket(Bucket=bucket)
    uri = f"s3://{bucket}/warehouse"
    days = [date(2026, 11, 1) + timedelta(days=n) for n in range(4)]
    # four days at once, plus a second writer of the first day
    jobs = [(uri, moto_server, day, n) for n, day in enumerate(days)] + [
        (uri, moto_server, days[0], 99)
    ]
    with multiprocessing.get_context("spawn").Pool(len(jobs)) as pool:
        versions = pool.starmap(write_day, jobs)

    store = Warehouse(
        uri, {"AWS_ENDPOINT_URL": moto_server, "AWS_ALLOW_HTTP": "true", "AWS_REGION": "us-east-1"}
    )
    table = store.scan("t").collect()
    per_day = (
        table.group_by("usage_date").agg(pl.len(), pl.col("writer").n_unique()).sort("usage_date")
    )
    assert per_day["usage_date"].to_list() == days
    # every day holds exactly one writer's rows: none lost, none duplicated
    assert per_day["len"].to_list() == [ROWS] * len(days)
    assert per_day["writer"].to_list() == [1] * len(days)
    assert set(table.filter(pl.col("usage_date") == days[0])["writer"]) <= {0, 99}
    # every writer's commit landed, each as its own version (the losers of a race retried); the
    # empty table is created first (one CREATE commit, or two when creators race: harmless)
    assert len(versions) == len(jobs)
    history = DeltaTable(
        store.table_uri("t"), storage_options=dict(store.storage_options)
    ).history()
    operations = [h["operation"] for h in history]
    assert operations.count("WRITE") == len(jobs), operations
    assert set(operations) == {"WRITE", "CREATE TABLE"}, operations


def writer_at(uri: str, options: dict[str, str], version: int, day: date) -> set[int]:
    """The writers whose rows ``day`` holds in the table as of ``version`` (empty: no rows)."""
    if version < 0:
        return set()
    frame = pl.from_arrow(
        DeltaTable(uri, version=version, storage_options=options).to_pyarrow_table()
    )
    return set(frame.filter(pl.col("usage_date") == day)["writer"].to_list())


def assert_versions_are_own_commits(
    uri: str, options: dict[str, str], jobs: list[tuple[date, int]], versions: list[int]
) -> None:
    """Each write's returned version is the commit that put its rows in: the day holds the
    writer's rows at that version and did not one version before. A version read back after the
    commit (another writer's, landed since) would show the rows already there at version - 1."""
    assert len(set(versions)) == len(versions), versions
    for (day, marker), version in zip(jobs, versions, strict=True):
        assert writer_at(uri, options, version, day) == {marker}, (day, marker, version)
        assert writer_at(uri, options, version - 1, day) != {marker}, (day, marker, version)


def test_each_write_returns_the_version_of_its_own_commit_on_s3(moto_server):
    bucket = f"natflow-versions-{int(time.time() * 1000)}"
    boto3.client("s3", endpoint_url=moto_server).create_bucket(Bucket=bucket)
    uri = f"s3://{bucket}/warehouse"
    options = {"AWS_ENDPOINT_URL": moto_server, "AWS_ALLOW_HTTP": "true", "AWS_REGION": "us-east-1"}
    days = [date(2026, 11, 1) + timedelta(days=n) for n in range(6)]
    jobs = [(uri, moto_server, day, n) for n, day in enumerate(days)]
    with multiprocessing.get_context("spawn").Pool(len(jobs)) as pool:
        versions = pool.starmap(write_day, jobs)
    assert_versions_are_own_commits(
        f"{uri}/t", options, [(day, n) for _, _, day, n in jobs], versions
    )


def test_concurrent_frame_and_stream_writes_return_their_own_versions(tmp_path):
    """Ten writers at once (the deployment's run limit), half through ``write_partition``, half
    through ``write_partition_stream``; each is released at the same moment to make races likely."""
    store = Warehouse(str(tmp_path / "warehouse"))
    days = [date(2026, 11, 1) + timedelta(days=n) for n in range(10)]
    start = threading.Barrier(len(days))

    def write(n: int) -> int:
        day = days[n]
        frame = pl.DataFrame(
            {"usage_date": [day] * ROWS, "row": list(range(ROWS)), "writer": [n] * ROWS}
        )
        start.wait()
        if n % 2:
            batches = pa.RecordBatchReader.from_batches(
                frame.to_arrow().schema, frame.to_arrow().to_batches()
            )
            return store.write_partition_stream("t", batches, "usage_date", day)
        return store.write_partition("t", frame, "usage_date", day)

    with ThreadPoolExecutor(len(days)) as pool:
        versions = list(pool.map(write, range(len(days))))
    assert_versions_are_own_commits(
        store.table_uri("t"), {}, [(day, n) for n, day in enumerate(days)], versions
    )
    # and a rewrite of one day reports the newest version, its own
    again = pl.DataFrame({"usage_date": [days[0]], "row": [0], "writer": [42]})
    assert store.write_partition("t", again, "usage_date", days[0]) == max(versions) + 1


def test_a_declared_column_added_after_a_day_was_written_reads_as_null(tmp_path):
    """An upgrade that adds a column to a table (nat_flows' nat_az_id) must not break the
    readers of days written before it: the column reads as null of its declared type."""
    from natflow_pipeline.tables import Table

    store = Warehouse(str(tmp_path / "warehouse"))
    day = date(2026, 11, 1)
    store.write_partition("t", pl.DataFrame({"usage_date": [day], "a": [1]}), "usage_date", day)
    table = Table("t", schema={"usage_date": pl.Date, "a": pl.Int64, "added": pl.String})
    got = store.read_day(table, day, columns=["a", "added"])
    assert got.to_dicts() == [{"a": 1, "added": None}]
    assert got.schema["added"] == pl.String
    # a column neither stored nor declared is still an error
    with pytest.raises(pl.exceptions.ColumnNotFoundError, match="nowhere"):
        store.read_day(table, day, columns=["a", "nowhere"])
