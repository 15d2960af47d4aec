"""read_day on the embedded sample: batching and spooling change memory use, never the result."""

from __future__ import annotations

from datetime import date, timedelta

import fsspec
import polars as pl

from natflow_pipeline.flowlogs.day import NAT_FLOWS_ORDER, read_day
from natflow_pipeline.flowlogs.layout import objects_for_day
from natflow_pipeline.paths import DEFAULT_FLOW_LOGS

DAY = date(2026, 11, 2)


def read_sample_day(tmp_path, batch_rows: int):
    fs = fsspec.filesystem("file")

    objects = objects_for_day(fs, str(DEFAULT_FLOW_LOGS), DAY, timedelta(minutes=60))
    spool = tmp_path / f"spool-{batch_rows}"
    spool.mkdir()
    return read_day(objects, fs.cat_file, DAY, spool, batch_rows=batch_rows)


def test_file_by_file_and_batched_reads_give_identical_rows_and_counts(tmp_path):
    one_by_one = read_sample_day(tmp_path, batch_rows=1)
    batched = read_sample_day(tmp_path, batch_rows=1_000_000)
    # 25 files; the first holds only the previous day's last hour, so it spools nothing
    assert len(one_by_one.nat_flows.parts) == 24 and len(batched.nat_flows.parts) == 1
    assert one_by_one.nat_flows.collect().equals(batched.nat_flows.collect())
    assert one_by_one.files.equals(batched.files)
    assert batched.balanced()


def test_spooled_rows_stream_back_in_source_order_and_match_the_counts(tmp_path):
    day = read_sample_day(tmp_path, batch_rows=5_000)
    flows = day.nat_flows.collect()
    assert flows.equals(flows.sort(NAT_FLOWS_ORDER))
    assert day.nat_flows.streamed_rows == flows.height == day.totals()["rows_kept"]
    assert flows["bytes"].sum() == day.totals()["nat_bytes"]
    assert set(flows["usage_date"]) == {DAY}
    per_file = flows.group_by("source_file").agg(pl.col("bytes").sum().alias("b"))
    files = day.files.join(per_file, left_on="file", right_on="source_file", how="left")
    assert (files["nat_bytes"] == files["b"].fill_null(0)).all()
