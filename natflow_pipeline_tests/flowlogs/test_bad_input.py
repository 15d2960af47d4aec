"""Every kind of bad input, at the unit level (read_day) and through a real materialization.

The "Bad input" table (docs/ingestion.md) is the contract these tests pin down: a file that
cannot be read fails the partition naming it (or, with ``on_unreadable_file="skip"``, is counted
as a rejected file); a bad line is rejected and counted with its file, line and reason; the same
delivery listed twice is read once.
"""

from __future__ import annotations

import gzip
import re
from datetime import date, datetime, timezone
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from natflow_pipeline.assets.flow_logs import nat_flows, raw_flow_logs
from natflow_pipeline.flowlogs.day import REJECTED_SAMPLE_SIZE, MissingNatFieldsError, read_day
from natflow_pipeline.flowlogs.layout import parse_key
from natflow_pipeline.flowlogs.reader import FlowLogFileError
from natflow_pipeline.resources.flow_logs import FlowLogSource
from natflow_pipeline.resources.warehouse import WarehouseResource
from natflow_pipeline_tests.flowlogs.deliveries import Delivery, epoch, text_file

DAY = date(2026, 11, 2)
ACCOUNT = "111111111111"
HEADER = "version srcaddr dstaddr pkt-srcaddr pkt-dstaddr bytes start"
T = epoch("2026-11-02T10:00:00")
GOOD_LINE = f"5 10.1.0.5 10.200.0.10 10.1.0.5 52.216.1.10 100 {T}"
GOOD = text_file(HEADER, GOOD_LINE)


def good_delivery() -> Delivery:
    d = Delivery(
        ACCOUNT, "us-east-1", "fl-0good", datetime(2026, 11, 2, 10, 5, tzinfo=timezone.utc)
    )
    d.connection(T, 1_000, 20_000, "10.1.0.5", "52.216.1.10")
    return d


def bad_key(stamp: str = "20261102T1105Z", suffix: str = "log.gz") -> str:
    return (
        f"AWSLogs/{ACCOUNT}/vpcflowlogs/us-east-1/2026/11/02/"
        f"{ACCOUNT}_vpcflowlogs_us-east-1_fl-0bad_{stamp}_deadbeef.{suffix}"
    )


TRUNCATED = gzip.compress((HEADER + "\n" + (GOOD_LINE + "\n") * 500).encode(), mtime=0)[:60]
CORRUPT = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + b"this is not deflate data at all" * 3
NO_HEADER = text_file(GOOD_LINE, GOOD_LINE)
NO_PKT_FIELDS = text_file("version srcaddr dstaddr bytes start", f"5 10.1.0.5 52.216.1.10 100 {T}")

#: (bytes of the bad file, reason code, what the message must say, line named?)
UNREADABLE = {
    "truncated_gzip": (TRUNCATED, "truncated gzip stream", None),
    "corrupt_gzip": (CORRUPT, "corrupt gzip stream", None),
    "empty_file": (b"", r"empty file \(0 bytes\)", None),
    "no_header": (NO_HEADER, "no header line: the first line names no flow log field", 1),
}

MIXED = text_file(
    HEADER,
    GOOD_LINE,  # line 2: kept
    "5 10.1.0.5 10.200.0.10 10.1.0.5 52.216.1.10 100",  # 3: a field short
    f"5 10.1.0.5 10.200.0.10 10.1.0.5 52.216.1.10 100 {T} ACCEPT",  # 4: a field too many
    f"5 10.1.0.5 10.200.0.10 10.1.0.5 52.216.1.10 1.5e3 {T}",  # 5: bytes not an integer
    f"5 10.1.0.5 10.200.0.10 10.1.0.5 52.216.1.10 lots {T}",  # 6: bytes not an integer
    f"5 10.1.0.5 10.200.0.10 10.1.0.5 52.216.1.300 100 {T}",  # 7: IPv4 octet out of range
    f"5 2600:1f18::zz 10.200.0.10 2600:1f18::zz 52.216.1.10 100 {T}",  # 8: IPv6 that does not parse
    f"5 10.200.0.10 52.216.1.10 10.200.0.10 52.216.1.10 100 {T}",  # 9: not translated: filtered
)
MIXED_REJECTED = {
    3: "wrong_field_count",
    4: "wrong_field_count",
    5: "not_an_integer:bytes",
    6: "not_an_integer:bytes",
    7: "not_an_address:pkt_dstaddr",
    8: "not_an_address:srcaddr",
}


# ---- unit level: read_day on objects in memory ---------------------------------------------


def read(
    files: dict[str, bytes],
    tmp_path: Path,
    on_unreadable: str = "fail",
    listing: list[str] | None = None,
):
    objects = [parse_key(key, len(files[key])) for key in (listing or list(files))]
    day = read_day(objects, files.__getitem__, DAY, on_unreadable=on_unreadable)
    day.nat_flows.collect()  # the day is read as its NAT rows are consumed
    return day


@pytest.mark.parametrize("code", list(UNREADABLE))
def test_unreadable_file_fails_naming_file_and_line(tmp_path, code):
    raw, message, line = UNREADABLE[code]
    key = bad_key()
    with pytest.raises(FlowLogFileError, match=message) as err:
        read({good_delivery().key(): good_delivery().body(), key: raw}, tmp_path)
    assert err.value.path == key and err.value.code == code and err.value.line == line
    assert str(err.value).startswith(key + (f", line {line}: " if line else ": "))


@pytest.mark.parametrize("code", list(UNREADABLE))
def test_unreadable_file_is_counted_as_a_rejected_file_when_told_to_skip(tmp_path, code):
    good = good_delivery()
    day = read(
        {good.key(): good.body(), bad_key(): UNREADABLE[code][0]}, tmp_path, on_unreadable="skip"
    )
    totals = day.totals()
    assert (totals["files_read"], totals["files_rejected"], totals["files_duplicate"]) == (1, 1, 0)
    assert day.files_rejected_by_reason == {code: 1}
    assert totals["rows_read"] == 4 and totals["rows_kept"] == 2 and day.balanced()
    rejected_file = day.files.filter(pl.col("status") == "rejected").row(0, named=True)
    assert rejected_file["file"] == bad_key() and rejected_file["error"].startswith(
        f"{code}: {bad_key()}"
    )
    assert day.rejected_sample.select("file", "reason").rows() == [(bad_key(), f"file:{code}")]


def test_header_without_pkt_addresses_fails_naming_file_and_fields_even_when_skipping(tmp_path):
    with pytest.raises(
        MissingNatFieldsError,
        match=r", line 1: header lacks pkt-srcaddr, pkt-dstaddr: the NAT logic needs",
    ) as err:
        read({bad_key(): NO_PKT_FIELDS}, tmp_path, on_unreadable="skip")
    assert err.value.path == bad_key()


def test_bad_lines_are_rejected_counted_and_sampled_with_file_line_and_reason(tmp_path):
    day = read({bad_key(): MIXED}, tmp_path)
    totals = day.totals()
    assert (
        totals["rows_read"],
        totals["rows_kept"],
        totals["rows_non_nat"],
        totals["rows_rejected"],
    ) == (8, 1, 1, 6)
    assert day.rejected_by_reason == {
        "not_an_address:pkt_dstaddr": 1,
        "not_an_address:srcaddr": 1,
        "not_an_integer:bytes": 2,
        "wrong_field_count": 2,
    }
    assert dict(day.rejected_sample.select("line", "reason").rows()) == MIXED_REJECTED
    assert set(day.rejected_sample["file"]) == {bad_key()}
    assert (
        day.rejected_sample.filter(pl.col("line") == 6)["detail"].item()
        == "bytes is not an integer: lots"
    )
    assert day.balanced()


def test_every_rejected_line_is_counted_but_only_a_sample_is_kept(tmp_path):
    bad = [
        f"5 10.1.0.5 10.200.0.10 10.1.0.5 52.216.1.10 x{i} {T}"
        for i in range(REJECTED_SAMPLE_SIZE + 200)
    ]
    day = read({bad_key(): text_file(HEADER, GOOD_LINE, *bad)}, tmp_path)
    assert day.totals()["rows_rejected"] == REJECTED_SAMPLE_SIZE + 200
    assert day.rejected_sample.height == REJECTED_SAMPLE_SIZE
    assert day.rejected_sample["line"].head(2).to_list() == [3, 4]


def test_the_same_object_listed_twice_is_read_once_and_shown_as_a_duplicate(tmp_path):
    good = good_delivery()
    day = read({good.key(): good.body()}, tmp_path, listing=[good.key(), good.key()])
    totals = day.totals()
    assert (
        totals["files_read"],
        totals["files_duplicate"],
        totals["rows_read"],
        totals["nat_bytes"],
    ) == (1, 1, 4, 21_000)
    duplicate = day.files.filter(pl.col("status") == "duplicate").row(0, named=True)
    assert duplicate["duplicate_of"] == good.key() and duplicate["rows_read"] == 0
    assert day.nat_flows.collect().height == 2


def test_the_same_delivery_under_both_layouts_is_read_once(tmp_path):
    plain = good_delivery()
    hive = good_delivery()
    hive.layout = "hive"
    files = {plain.key(): plain.body(), hive.key(): hive.body()}
    day = read(files, tmp_path)
    assert day.totals()["files_duplicate"] == 1 and day.totals()["nat_bytes"] == 21_000


# ---- asset level: dagster.materialize on a local folder -------------------------------------


def materialize(
    root: Path, tmp_path: Path, on_unreadable: str = "fail"
) -> tuple[dg.ExecuteInProcessResult, WarehouseResource]:
    warehouse = WarehouseResource(uri=str(tmp_path / "warehouse"))
    source = FlowLogSource(uri=str(root), on_unreadable_file=on_unreadable)
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [raw_flow_logs, nat_flows],
            partition_key=DAY.isoformat(),
            resources={"flow_logs": source, "warehouse": warehouse},
            instance=instance,
            raise_on_error=False,
        )
    return result, warehouse


def write(root: Path, files: dict[str, bytes]) -> None:
    for key, raw in files.items():
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_bytes(raw)


def metadata(result: dg.ExecuteInProcessResult) -> dict[str, object]:
    event = result.asset_materializations_for_node("nat_flows")[0]
    return {k: v.value for k, v in event.metadata.items()}


def failure_message(result: dg.ExecuteInProcessResult) -> str:
    error = result.failure_data_for_node("nat_flows").error
    return error.to_string() + (error.cause.to_string() if error.cause else "")


@pytest.mark.parametrize("code", [*UNREADABLE, "missing_nat_fields"])
def test_materializing_a_day_with_an_unreadable_file_fails_naming_it(tmp_path, code):
    root = tmp_path / "flowlogs"
    raw, message, line = UNREADABLE.get(
        code, (NO_PKT_FIELDS, "header lacks pkt-srcaddr, pkt-dstaddr", 1)
    )
    write(root, {good_delivery().key(): good_delivery().body(), bad_key(): raw})
    result, warehouse = materialize(root, tmp_path)
    assert not result.success
    where = f"{root / bad_key()}" + (f", line {line}" if line else "")
    assert f"{where}: " in failure_message(result)
    assert re.search(message, failure_message(result))
    assert not warehouse.get().exists("nat_flows")  # nothing half written


@pytest.mark.parametrize("code", list(UNREADABLE))
def test_materializing_with_skip_counts_the_unreadable_file_and_keeps_the_rest(tmp_path, code):
    root = tmp_path / "flowlogs"
    good = good_delivery()
    write(root, {good.key(): good.body(), bad_key(): UNREADABLE[code][0]})
    result, warehouse = materialize(root, tmp_path, on_unreadable="skip")
    assert result.success
    meta = metadata(result)
    assert (meta["files_listed"], meta["files_read"], meta["files_rejected"]) == (2, 1, 1)
    assert meta["files_rejected_by_reason"] == {code: 1}
    assert meta["rows_identity"] == "read 4 = kept 2 + filtered 2 + rejected 0"
    rejected = warehouse.get().read_partition("rejected_flow_log_lines", "usage_date", DAY)
    assert rejected.select("file", "reason").rows() == [(str(root / bad_key()), f"file:{code}")]
    files = warehouse.get().read_partition("flow_log_files", "usage_date", DAY)
    assert sorted(files["status"]) == ["read", "rejected"]


def test_materializing_bad_lines_rejects_counts_and_stores_them(tmp_path):
    root = tmp_path / "flowlogs"
    good = good_delivery()
    write(root, {good.key(): good.body(), bad_key(): MIXED})
    result, warehouse = materialize(root, tmp_path)
    assert result.success
    meta = metadata(result)
    assert (meta["rows_read"], meta["rows_kept"], meta["rows_filtered"], meta["rows_rejected"]) == (
        12,
        3,
        3,
        6,
    )
    assert meta["rows_identity"] == "read 12 = kept 3 + filtered 3 + rejected 6"
    assert meta["rejected_by_reason"] == {
        "not_an_address:pkt_dstaddr": 1,
        "not_an_address:srcaddr": 1,
        "not_an_integer:bytes": 2,
        "wrong_field_count": 2,
    }
    assert meta["nat_bytes"] == 21_000 + 100
    checks = result.get_asset_check_evaluations()
    assert [(c.check_name, c.passed) for c in checks] == [("rows_accounted_for", True)]
    rejected = warehouse.get().read_partition("rejected_flow_log_lines", "usage_date", DAY)
    assert dict(rejected.select("line", "reason").rows()) == MIXED_REJECTED
    assert set(rejected["file"]) == {str(root / bad_key())}
    assert "not_an_integer:bytes" in meta["rejected_sample"]


def test_materializing_a_delivery_listed_twice_reads_it_once(tmp_path):
    root = tmp_path / "flowlogs"
    plain, hive = good_delivery(), good_delivery()
    hive.layout, hive.hourly = "hive", True
    write(root, {plain.key(): plain.body(), hive.key(): hive.body()})
    result, warehouse = materialize(root, tmp_path)
    meta = metadata(result)
    assert (meta["files_listed"], meta["files_read"], meta["files_duplicate"]) == (2, 1, 1)
    assert meta["rows_read"] == 4 and meta["nat_bytes"] == 21_000
    assert warehouse.get().read_partition("nat_flows", "usage_date", DAY)["bytes"].sum() == 21_000


@pytest.mark.parametrize("suffix", ["log.gz", "log.parquet"])
def test_well_formed_file_with_a_bad_address_is_found_by_the_batch_check_and_only_its_line_rejected(
    tmp_path, suffix
):
    """Fast-path files are checked for addresses once per batch; only the file holding a bad one is
    re-read to name its line, and the other files of the batch are untouched."""
    good = good_delivery()
    lines = [GOOD_LINE, f"5 10.1.0.5 10.200.0.10 10.1.0.5 52.216.1.999 100 {T}", GOOD_LINE]
    if suffix == "log.parquet":
        import io

        frame = pl.DataFrame(
            [line.split(" ") for line in lines],
            schema=[f.replace("-", "_") for f in HEADER.split()],
            orient="row",
        )
        sink = io.BytesIO()
        frame.with_columns(pl.col("version", "bytes", "start").cast(pl.Int64)).write_parquet(sink)
        body = sink.getvalue()
    else:
        body = text_file(HEADER, *lines)
    day = read({good.key(): good.body(), bad_key(suffix=suffix): body}, tmp_path)
    line = (
        2 if suffix == "log.parquet" else 3
    )  # a Parquet row's number stands in for its line (no header)
    assert day.rejected_sample.select("file", "line", "reason").rows() == [
        (bad_key(suffix=suffix), line, "not_an_address:pkt_dstaddr")
    ]
    assert day.totals()["rows_kept"] == 2 + 2 and day.balanced()
