"""Which delivered objects a day reads: its own folder plus the next day's first window."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import fsspec

from natflow_pipeline.flowlogs.layout import objects_for_day, parse_key


def touch(root: Path, key: str) -> None:
    path = root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")


def test_plain_and_hive_keys_are_understood():
    plain = parse_key(
        "b/p/AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/11/02/07/123456789012_vpcflowlogs_eu-west-1_fl-1_20261102T0715Z_ab.log.gz"
    )
    hive = parse_key(
        "b/AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=us-east-2/year=2026/month=11/day=02/hour=07/x_20261102T0705Z_h.parquet"
    )
    assert (plain.account_id, plain.region, plain.layout) == ("123456789012", "eu-west-1", "plain")
    assert plain.delivered_at == datetime(2026, 11, 2, 7, 15, tzinfo=timezone.utc)
    assert (hive.account_id, hive.region, hive.layout) == ("123456789012", "us-east-2", "hive")
    assert (
        parse_key("b/AWSLogs/123456789012/elasticloadbalancing/us-east-1/2026/11/02/x.log.gz")
        is None
    )


def test_a_day_reads_its_folder_and_the_next_days_first_window_only(tmp_path):
    base = "AWSLogs/111111111111/vpcflowlogs/us-east-1"
    for key in (
        f"{base}/2026/11/01/a_20261101T2355Z_1.log.gz",
        f"{base}/2026/11/02/a_20261102T0005Z_2.log.gz",
        f"{base}/2026/11/02/a_20261102T1200Z_3.log.gz",
        f"{base}/2026/11/03/a_20261103T0005Z_4.log.gz",
        f"{base}/2026/11/03/a_20261103T0059Z_5.log.gz",
        f"{base}/2026/11/03/a_20261103T0100Z_6.log.gz",
        "AWSLogs/aws-account-id=222222222222/aws-service=vpcflowlogs/aws-region=eu-west-1/year=2026/month=11/day=02/hour=13/b_20261102T1305Z_7.parquet",
        f"{base}/2026/11/02/notes.txt",
    ):
        touch(tmp_path, key)
    objects = objects_for_day(
        fsspec.filesystem("file"), str(tmp_path), date(2026, 11, 2), timedelta(minutes=60)
    )
    names = [o.path.rsplit("_", 1)[-1] for o in objects]
    assert names == ["2.log.gz", "3.log.gz", "7.parquet", "4.log.gz", "5.log.gz"]
    assert {o.account_id for o in objects} == {"111111111111", "222222222222"}
