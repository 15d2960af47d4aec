"""Writing a day's partition from a stream of batches: one transaction, exactly that day replaced,
locally and on a real (moto) S3 bucket."""

from __future__ import annotations

from datetime import date

import boto3
import polars as pl
import pyarrow as pa
import pytest
from deltalake import DeltaTable

from natflow_pipeline import warehouse as warehouse_module
from natflow_pipeline.resources.warehouse import WarehouseResource

D1, D2 = date(2026, 11, 1), date(2026, 11, 2)


def stream(day: date, values: range, batch: int = 3) -> pa.RecordBatchReader:
    frame = pl.DataFrame(
        {"usage_date": [day] * len(values), "n": list(values), "s": [f"v{v}" for v in values]}
    )
    return pa.RecordBatchReader.from_batches(
        frame.to_arrow().schema, frame.to_arrow().to_batches(max_chunksize=batch)
    )


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path, monkeypatch):
    monkeypatch.setattr(warehouse_module, "ROWS_PER_DATA_FILE", 4)
    if request.param == "local":
        return WarehouseResource(uri=str(tmp_path / "wh")).get()
    endpoint = request.getfixturevalue("moto_server")
    bucket = f"natflow-stream-{tmp_path.name.lower().replace('_', '-')[-30:]}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=bucket)
    return WarehouseResource(
        uri=f"s3://{bucket}/wh", s3_endpoint_url=endpoint, s3_region="us-east-1"
    ).get()


def test_streamed_partition_replaces_exactly_its_day_in_one_commit(store):
    store.write_partition_stream("t", stream(D1, range(10)), "usage_date", D1)
    store.write_partition_stream("t", stream(D2, range(100, 105)), "usage_date", D2)
    before = store.version("t")
    version = store.write_partition_stream("t", stream(D1, range(50, 57)), "usage_date", D1)
    assert version == before + 1
    got = store.scan("t").collect().sort("usage_date", "n")
    assert got.filter(pl.col("usage_date") == D1)["n"].to_list() == list(range(50, 57))
    assert got.filter(pl.col("usage_date") == D2)["n"].to_list() == list(range(100, 105))
    assert got.schema == {"usage_date": pl.Date, "n": pl.Int64, "s": pl.String}
    table = DeltaTable(store.table_uri("t"), storage_options=store._options())
    assert table.metadata().partition_columns == ["usage_date"]
    # 7 rows at 4 rows per data file: two files for the rewritten day
    assert sum(1 for f in table.file_uris() if "usage_date=2026-11-01" in f) == 2


def test_an_empty_stream_empties_the_day(store):
    store.write_partition_stream("t", stream(D1, range(5)), "usage_date", D1)
    store.write_partition_stream("t", stream(D1, range(0)), "usage_date", D1)
    assert store.scan("t").collect().height == 0
