"""The header-driven parser on AWS's documented examples and on broken lines."""

from __future__ import annotations

import gzip
import io

import polars as pl
import pytest

from natflow_pipeline.flowlogs.reader import FlowLogFileError, decompress, parse_parquet, parse_text, read_delivery
from natflow_pipeline_tests.conftest import AWS_EXAMPLES


def parse_example(name: str):
    path = AWS_EXAMPLES / name
    return parse_text(path.read_bytes(), str(path))


def test_default_v2_examples_parse_field_by_field():
    parsed = parse_example("default-v2-examples.log")
    assert parsed.rows_read == 7 and parsed.rejected.is_empty()
    first = parsed.rows.row(0, named=True)
    assert first == {
        "line": 2,
        "version": 2,
        "account_id": "123456789010",
        "interface_id": "eni-1235b8ca123456789",
        "srcaddr": "172.31.16.139",
        "dstaddr": "172.31.16.21",
        "srcport": 20641,
        "dstport": 22,
        "protocol": 6,
        "packets": 20,
        "bytes": 4249,
        "start": 1418530010,
        "end": 1418530070,
        "action": "ACCEPT",
        "log_status": "OK",
    }
    statuses = parsed.rows["log_status"].to_list()
    assert statuses.count("NODATA") == 1 and statuses.count("SKIPDATA") == 1
    no_data = parsed.rows.filter(pl.col("log_status") == "NODATA").row(0, named=True)
    assert no_data["srcaddr"] is None and no_data["bytes"] is None and no_data["start"] == 1431280876
    assert parsed.rows.filter(pl.col("srcaddr").str.contains(":"))["srcaddr"].to_list() == ["2001:db8:1234:a100:8d6e:3477:df66:f105"]


def test_tcp_flag_example_with_a_double_space_parses_every_record():
    parsed = parse_example("tcp-flag-sequence-v3.log")
    assert parsed.rows.height == 8 and parsed.rejected.is_empty()
    assert parsed.rows["tcp_flags"].to_list() == [2, 18, 2, 18, 1, 1, 3, 19]


@pytest.mark.parametrize(
    ("name", "records", "fields"),
    [
        ("nat-gateway-eni.log", 4, ["instance_id", "interface_id", "srcaddr", "dstaddr", "pkt_srcaddr", "pkt_dstaddr"]),
        ("nat-gateway-source-instance-eni.log", 2, ["instance_id", "interface_id", "srcaddr", "dstaddr", "pkt_srcaddr", "pkt_dstaddr"]),
        ("transit-gateway-v3.log", 4, None),
        ("service-name-traffic-path-v5.log", 2, None),
    ],
)
def test_every_aws_example_parses_with_its_own_header(name, records, fields):
    parsed = parse_example(name)
    assert parsed.rows.height == records and parsed.rejected.is_empty()
    header = (AWS_EXAMPLES / name).read_text().splitlines()[0].replace("-", "_").split()
    assert parsed.fields == header
    if fields:
        assert parsed.rows.columns[1:] == fields


def test_v5_example_types_service_and_traffic_path():
    rows = parse_example("service-name-traffic-path-v5.log").rows
    assert rows.select("pkt_src_aws_service", "pkt_dst_aws_service", "traffic_path", "flow_direction").rows() == [
        ("S3", None, None, "ingress"),
        (None, "S3", 8, "egress"),
    ]
    assert rows.schema["traffic_path"] == pl.Int32 and rows.schema["bytes"] == pl.Int64


BAD = (
    b"version srcaddr dstaddr pkt-srcaddr pkt-dstaddr bytes start\n"
    b"5 10.0.0.1 10.0.0.9 10.0.0.1 52.1.1.1 100 1700000000\n"
    b"5 10.0.0.1 10.0.0.9 10.0.0.1 52.1.1.1 12x 1700000000\n"
    b"5 10.0.0.1 10.0.0.9 10.0.0.1 52.1.1.1\n"
    b"5 10.0.0.1 10.0.0.9 10.0.0.1 52.1.1.300 100 1700000000\n"
    b"5 10.0.0.1 10.0.0.9 10.0.0.1 52.1.1.1 100 1700000000 extra\n"
)


def test_bad_lines_are_rejected_with_line_and_reason_and_nothing_is_lost():
    parsed = parse_text(BAD, "s3://b/k.log.gz")
    assert parsed.rows["line"].to_list() == [2]
    rejected = {r["line"]: r["reason"] for r in parsed.rejected.to_dicts()}
    assert rejected == {
        3: "not_an_integer:bytes",
        4: "wrong_field_count",
        5: "not_an_address:pkt_dstaddr",
        6: "wrong_field_count",
    }
    assert parsed.rows_read == 5
    assert set(parsed.rejected["file"]) == {"s3://b/k.log.gz"}


def test_clean_files_take_the_fast_path_and_agree_with_the_line_by_line_parser():
    from natflow_pipeline.flowlogs import reader

    body = (AWS_EXAMPLES / "default-v2-examples.log").read_bytes()
    header, _, rest = body.partition(b"\n")
    fields = reader.parse_header(header.decode(), "x")
    lines = rest.count(b"\n") + (0 if rest.endswith(b"\n") else 1)
    fast = reader._read_fast(rest, fields, lines)
    slow = reader._read_line_by_line(rest, fields, "x").rows
    assert fast is not None
    assert fast.equals(slow)


def test_short_line_is_not_mistaken_for_a_trailing_dash():
    data = b"srcaddr dstaddr bytes\n10.0.0.1 10.0.0.2 -\n10.0.0.1 10.0.0.2\n"
    parsed = parse_text(data, "f")
    assert parsed.rows["line"].to_list() == [2]
    assert parsed.rejected["reason"].to_list() == ["wrong_field_count"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "empty file"),
        (gzip.compress(b"version srcaddr\n2 10.0.0.1\n" * 100)[:40], "truncated gzip"),
        (b"\x1f\x8b" + b"\x00" * 30, "corrupt gzip"),
    ],
)
def test_unreadable_gzip_fails_naming_the_file(raw, message):
    with pytest.raises(FlowLogFileError, match=message) as err:
        decompress(raw, "s3://bucket/AWSLogs/x.log.gz")
    assert "s3://bucket/AWSLogs/x.log.gz" in str(err.value)


def test_file_without_header_fails_naming_file_and_line():
    with pytest.raises(FlowLogFileError, match=r"f\.log, line 1: no header line"):
        parse_text(b"2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT OK\n", "f.log")


def test_unknown_header_field_is_named():
    with pytest.raises(FlowLogFileError, match="unknown field.*bogus_field"):
        parse_text(b"srcaddr dstaddr bogus-field\n", "f.log")


def test_header_only_file_has_no_rows():
    parsed = read_delivery(gzip.compress(b"srcaddr dstaddr\n"), "f.log.gz")
    assert parsed.rows_read == 0 and parsed.rows.columns == ["line", "srcaddr", "dstaddr"]


def test_parquet_delivery_reads_like_the_text_one_and_rejects_a_bad_value_with_its_row():
    text = (
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"
        "2 123456789010 eni-1 10.0.0.1 203.0.113.5 49152 443 6 10 5000 1700000000 1700000060 ACCEPT OK\n"
        "2 123456789010 eni-1 - - - - - - - 1700000000 1700000060 - NODATA\n"
        "2 123456789010 eni-1 10.0.0.2 2001:db8::7 49153 443 6 11 6000 1700000001 1700000061 ACCEPT OK\n"
    )
    from_text = parse_text(text.encode(), "x.log")
    columns = [line.split() for line in text.splitlines()[1:]]
    names = [n.replace("-", "_") for n in text.splitlines()[0].split()]
    frame = pl.DataFrame({n: [row[i] for row in columns] for i, n in enumerate(names)})
    typed = frame.with_columns(pl.col(c).replace("-", None).cast(pl.Int64) for c in ("srcport", "dstport", "packets", "bytes", "start", "end"))
    typed = typed.with_columns(pl.col(c).replace("-", None) for c in ("srcaddr", "dstaddr", "action"))
    raw = io.BytesIO()
    typed.write_parquet(raw)
    from_parquet = parse_parquet(raw.getvalue(), "x.parquet")
    assert from_parquet.rows.drop("line").equals(from_text.rows.drop("line"))
    assert from_parquet.rejected.height == 0

    bad = frame.with_columns(pl.Series("srcport", ["49152", "4x", "-"]), pl.Series("srcaddr", ["10.0.0.1", "10.0.0.9", "10.0.0.300"]))
    raw = io.BytesIO()
    bad.write_parquet(raw)
    parsed = parse_parquet(raw.getvalue(), "y.parquet")
    assert parsed.rows_read == 3 and parsed.rows["line"].to_list() == [1]
    assert parsed.rejected.select("line", "reason").rows() == [(2, "not_an_integer:srcport"), (3, "not_an_address:srcaddr")]
    assert parsed.rejected["text"][0].startswith("2 123456789010 eni-1 10.0.0.9 - 4x - ")
