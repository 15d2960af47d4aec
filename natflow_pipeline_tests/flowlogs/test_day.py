"""read_day on the embedded sample: batching and streaming change memory use, never the result."""

from __future__ import annotations

import threading
import time
from datetime import date, timedelta

import fsspec
import polars as pl
import pytest

from natflow_pipeline.flowlogs.day import NAT_FLOWS_ORDER, _in_background, read_day
from natflow_pipeline.flowlogs.layout import objects_for_day
from natflow_pipeline.flowlogs.reader import FlowLogFileError
from natflow_pipeline.paths import DEFAULT_FLOW_LOGS

DAY = date(2026, 11, 2)


def read_sample_day(batch_rows: int):
    fs = fsspec.filesystem("file")
    objects = objects_for_day(fs, str(DEFAULT_FLOW_LOGS), DAY, timedelta(minutes=60))
    return read_day(objects, fs.cat_file, DAY, batch_rows=batch_rows)


def test_file_by_file_and_batched_reads_give_identical_rows_and_counts():
    one_by_one = read_sample_day(batch_rows=1)
    batched = read_sample_day(batch_rows=1_000_000)
    # 25 files; the first holds only the previous day's last hour, so it yields no NAT rows
    assert len(list(read_sample_day(batch_rows=1).nat_flows)) == 24
    assert len(list(read_sample_day(batch_rows=1_000_000).nat_flows)) == 1
    assert one_by_one.nat_flows.collect().equals(batched.nat_flows.collect())
    assert one_by_one.files.equals(batched.files)
    assert batched.balanced()


def test_streamed_rows_come_in_source_order_and_match_the_counts():
    day = read_sample_day(batch_rows=5_000)
    flows = day.nat_flows.collect()
    assert flows.equals(flows.sort(NAT_FLOWS_ORDER))
    assert day.nat_flows.streamed_rows == flows.height == day.totals()["rows_kept"]
    assert flows["bytes"].sum() == day.totals()["nat_bytes"]
    assert set(flows["usage_date"]) == {DAY}
    per_file = flows.group_by("source_file").agg(pl.col("bytes").sum().alias("b"))
    files = day.files.join(per_file, left_on="file", right_on="source_file", how="left")
    assert (files["nat_bytes"] == files["b"].fill_null(0)).all()


def test_the_rows_stream_once_and_the_counts_wait_for_them():
    day = read_sample_day(batch_rows=50_000)
    streamed = sum(batch.height for batch in day.nat_flows)
    assert streamed == day.nat_flows.streamed_rows == day.totals()["rows_kept"]
    try:
        list(day.nat_flows)
    except RuntimeError as err:
        assert "stream once" in str(err)
    else:
        raise AssertionError("a consumed stream was read again")
    # asking for the counts first reads the day into memory, so the rows stay available
    fresh = read_sample_day(batch_rows=50_000)
    assert fresh.totals()["rows_kept"] == streamed == fresh.nat_flows.collect().height


def test_closing_a_partly_read_day_stops_its_threads_and_its_reads_ahead():
    fs = fsspec.filesystem("file")
    objects = objects_for_day(fs, str(DEFAULT_FLOW_LOGS), DAY, timedelta(minutes=60))
    fetched: list[str] = []

    def slow_read(path: str) -> bytes:  # a slow store: the reads ahead are still queued at close
        fetched.append(path)
        time.sleep(0.05)
        return fs.cat_file(path)

    day = read_day(objects, slow_read, DAY, batch_rows=1)
    batches = iter(day.nat_flows)
    assert next(batches).height
    assert [t for t in threading.enumerate() if t.name == "natflow-classify"]
    day.nat_flows.close()  # as the nat_flows asset does when its Delta write fails partway
    assert not [
        t for t in threading.enumerate() if t.name.startswith(("natflow-classify", "natflow-read"))
    ]
    assert len(fetched) < len(objects) // 2  # the queued reads were cancelled, not waited for
    with pytest.raises(RuntimeError, match="closed before being read in full"):
        day.totals()  # partial counts are never passed off as the day's
    with pytest.raises(RuntimeError, match="closed before being read in full"):
        list(day.nat_flows)


def test_closing_a_day_read_in_full_changes_nothing():
    day = read_sample_day(batch_rows=50_000)
    rows = sum(batch.height for batch in day.nat_flows)
    day.nat_flows.close()
    assert day.totals()["rows_kept"] == rows and day.balanced()


def test_batches_classified_in_the_background_arrive_in_order_and_so_do_errors():
    def batches():
        yield pl.DataFrame({"i": [1]})
        yield pl.DataFrame({"i": [2]})
        raise FlowLogFileError("s3://bucket/key.log.gz", "corrupt gzip stream", code="corrupt_gzip")

    stream = _in_background(batches())
    assert [next(stream)["i"][0], next(stream)["i"][0]] == [1, 2]
    with pytest.raises(FlowLogFileError, match="key.log.gz"):
        next(stream)


def test_a_consumer_that_stops_early_stops_the_classifying_thread():
    closed = []

    def batches():
        try:
            for i in range(100):
                yield pl.DataFrame({"i": [i]})
        finally:
            closed.append(threading.current_thread().name)

    stream = _in_background(batches())
    assert next(stream)["i"][0] == 0
    stream.close()
    assert closed == ["natflow-classify"]  # closed on the thread that ran it
    assert not [t for t in threading.enumerate() if t.name == "natflow-classify"]
