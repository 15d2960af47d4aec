"""The header-driven parser on AWS's documented examples and on broken lines."""

from __future__ import annotations

import gzip
import io

import polars as pl
import pytest

from natflow_pipeline.flowlogs.reader import (
    FlowLogFileError,
    decompress,
    parse_parquet,
    parse_text,
    read_delivery,
)
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
    assert (
        no_data["srcaddr"] is None and no_data["bytes"] is None and no_data["start"] == 1431280876
    )
    assert parsed.rows.filter(pl.col("srcaddr").str.contains(":"))["srcaddr"].to_list() == [
        "2001:db8:1234:a100:8d6e:3477:df66:f105"
    ]


def test_tcp_flag_example_with_a_double_space_parses_every_record():
    parsed = parse_example("tcp-flag-sequence-v3.log")
    assert parsed.rows.height == 8 and parsed.rejected.is_empty()
    assert parsed.rows["tcp_flags"].to_list() == [2, 18, 2, 18, 1, 1, 3, 19]


@pytest.mark.parametrize(
    ("name", "records", "fields"),
    [
        (
            "nat-gateway-eni.log",
            4,
            ["instance_id", "interface_id", "srcaddr", "dstaddr", "pkt_srcaddr", "pkt_dstaddr"],
        ),
        (
            "nat-gateway-source-instance-eni.log",
            2,
            ["instance_id", "interface_id", "srcaddr", "dstaddr", "pkt_srcaddr", "pkt_dstaddr"],
        ),
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
    assert rows.select(
        "pkt_src_aws_service", "pkt_dst_aws_service", "traffic_path", "flow_direction"
    ).rows() == [
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
    for wanted in (fields, ["srcaddr", "bytes", "start"]):
        fast = reader._read_fast(body, len(header) + 1, fields, wanted)
        slow = reader._read_line_by_line(rest, fields, wanted, "x").rows
        assert fast is not None
        assert fast.columns == ["line", *wanted]
        assert fast.equals(slow)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"10.0.0.1 10.0.0.2 80 5", "wrong_field_count"),  # short: the last field is missing
        (b"10.0.0.1 10.0.0.2 80 5 7 9", "wrong_field_count"),  # long: one field too many
        (b"10.0.0.1 10.0.0.x 80 5 7", "not_an_address:dstaddr"),
        (b"10.0.0.1 10.0.0.2 80 x 7", "not_an_integer:bytes"),
    ],
)
def test_reading_some_columns_still_checks_every_lines_shape_and_the_columns_read(line, reason):
    data = b"srcaddr dstaddr srcport bytes packets\n10.0.0.1 10.0.0.2 80 5 7\n" + line + b"\n"
    parsed = parse_text(data, "f", columns=["srcaddr", "dstaddr", "bytes"])
    assert parsed.rows.columns == ["line", "srcaddr", "dstaddr", "bytes"]
    assert parsed.rows["line"].to_list() == [2]
    assert parsed.rejected["reason"].to_list() == [reason]


def test_a_column_not_read_is_not_validated():
    data = b"srcaddr dstaddr srcport bytes\n10.0.0.1 10.0.0.2 eighty 5\n"
    assert parse_text(data, "f").rejected["reason"].to_list() == ["not_an_integer:srcport"]
    projected = parse_text(data, "f", columns=["srcaddr", "dstaddr", "bytes"])
    assert projected.rejected.is_empty()
    assert projected.rows.row(0) == (2, "10.0.0.1", "10.0.0.2", 5)


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


#: One value for every documented field (v2..v8), as the text delivery writes it, and its typed
#: value.
EVERY_FIELD: dict[str, tuple[str, object]] = {
    "version": ("8", 8),
    "account-id": ("123456789010", "123456789010"),
    "interface-id": ("eni-1235b8ca123456789", "eni-1235b8ca123456789"),
    "srcaddr": ("2001:db8:1234:a100:8d6e:3477:df66:f105", "2001:db8:1234:a100:8d6e:3477:df66:f105"),
    "dstaddr": ("2001:db8:1234:a102:3304:8879:34cf:4071", "2001:db8:1234:a102:3304:8879:34cf:4071"),
    "srcport": ("34892", 34892),
    "dstport": ("22", 22),
    "protocol": ("6", 6),
    "packets": ("54", 54),
    "bytes": ("8855", 8855),
    "start": ("1477913708", 1477913708),
    "end": ("1477913731", 1477913731),
    "action": ("REJECT", "REJECT"),
    "log-status": ("OK", "OK"),
    "vpc-id": ("vpc-abcdefab012345678", "vpc-abcdefab012345678"),
    "subnet-id": ("subnet-aaaaaaaa012345678", "subnet-aaaaaaaa012345678"),
    "instance-id": ("i-01234567890123456", "i-01234567890123456"),
    "tcp-flags": ("19", 19),
    "type": ("IPv6", "IPv6"),
    "pkt-srcaddr": (
        "2001:db8:1234:a100:8d6e:3477:df66:f105",
        "2001:db8:1234:a100:8d6e:3477:df66:f105",
    ),
    "pkt-dstaddr": ("64:ff9b::cb00:7109", "64:ff9b::cb00:7109"),
    "region": ("us-east-2", "us-east-2"),
    "az-id": ("use2-az2", "use2-az2"),
    "sublocation-type": ("outpost", "outpost"),
    "sublocation-id": ("op-0123456789abcdef0", "op-0123456789abcdef0"),
    "pkt-src-aws-service": ("-", None),
    "pkt-dst-aws-service": ("S3", "S3"),
    "flow-direction": ("egress", "egress"),
    "traffic-path": ("8", 8),
    "ecs-cluster-arn": (
        "arn:aws:ecs:us-east-2:123456789010:cluster/web",
        "arn:aws:ecs:us-east-2:123456789010:cluster/web",
    ),
    "ecs-cluster-name": ("web", "web"),
    "ecs-container-instance-arn": (
        "arn:aws:ecs:us-east-2:123456789010:container-instance/web/0a1b",
        "arn:aws:ecs:us-east-2:123456789010:container-instance/web/0a1b",
    ),
    "ecs-container-instance-id": ("0a1b", "0a1b"),
    "ecs-container-id": ("3f2e1d0c", "3f2e1d0c"),
    "ecs-second-container-id": ("-", None),
    "ecs-service-name": ("checkout", "checkout"),
    "ecs-task-definition-arn": (
        "arn:aws:ecs:us-east-2:123456789010:task-definition/checkout:7",
        "arn:aws:ecs:us-east-2:123456789010:task-definition/checkout:7",
    ),
    "ecs-task-arn": (
        "arn:aws:ecs:us-east-2:123456789010:task/web/9f8e",
        "arn:aws:ecs:us-east-2:123456789010:task/web/9f8e",
    ),
    "ecs-task-id": ("9f8e", "9f8e"),
    "reject-reason": ("BPA", "BPA"),
}


def test_every_documented_field_is_pinned_here():
    from natflow_pipeline.flowlogs.fields import FIELD_TYPES

    assert sorted(f.replace("-", "_") for f in EVERY_FIELD) == sorted(FIELD_TYPES)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_header_with_every_field_in_shuffled_order_types_every_value(seed):
    import random

    from natflow_pipeline.flowlogs.fields import FIELD_TYPES

    order = list(EVERY_FIELD)
    random.Random(seed).shuffle(order)
    data = gzip.compress(
        (" ".join(order) + "\n" + " ".join(EVERY_FIELD[f][0] for f in order) + "\n").encode()
    )
    parsed = read_delivery(data, "all-fields.log.gz")
    assert parsed.rejected.is_empty()
    assert parsed.fields == [f.replace("-", "_") for f in order]
    row = parsed.rows.row(0, named=True)
    assert row == {
        "line": 2,
        **{f.replace("-", "_"): typed for f, (_, typed) in EVERY_FIELD.items()},
    }
    for name, dtype in FIELD_TYPES.items():
        assert parsed.rows.schema[name] == dtype, name


def test_parquet_with_every_field_under_underscore_names_reads_like_text():
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    from natflow_pipeline.flowlogs.fields import FIELD_TYPES

    # AWS's Parquet types: INT_32 for version, ports, protocol, tcp_flags, traffic_path; INT_64 for
    # packets, bytes, start, end; STRING for the rest; a missing value is null.
    arrow_types = {pl.Int32: pa.int32(), pl.Int64: pa.int64(), pl.String: pa.string()}
    columns = {
        f.replace("-", "_"): pa.array([typed], type=arrow_types[FIELD_TYPES[f.replace("-", "_")]])
        for f, (_, typed) in reversed(EVERY_FIELD.items())
    }
    sink = io.BytesIO()
    pq.write_table(pa.table(columns), sink)
    parsed = read_delivery(sink.getvalue(), "all-fields.log.parquet")
    assert parsed.rejected.is_empty()
    row = parsed.rows.row(0, named=True)
    assert {k: v for k, v in row.items() if k != "line"} == {
        f.replace("-", "_"): typed for f, (_, typed) in EVERY_FIELD.items()
    }
    assert row["line"] == 1


def test_nat_gateway_example_parses_field_by_field():
    rows = parse_example("nat-gateway-eni.log").rows.drop("line").rows()
    assert rows == [
        (None, "eni-1235b8ca123456789", "10.0.1.5", "10.0.0.220", "10.0.1.5", "203.0.113.5"),
        (None, "eni-1235b8ca123456789", "10.0.0.220", "203.0.113.5", "10.0.0.220", "203.0.113.5"),
        (None, "eni-1235b8ca123456789", "203.0.113.5", "10.0.0.220", "203.0.113.5", "10.0.0.220"),
        (None, "eni-1235b8ca123456789", "10.0.0.220", "10.0.1.5", "203.0.113.5", "10.0.1.5"),
    ]


def test_transit_gateway_example_parses_field_by_field():
    parsed = parse_example("transit-gateway-v3.log")
    assert parsed.rows.row(2, named=True) == {
        "line": 4,
        "version": 3,
        "interface_id": "eni-11111111111111111",
        "account_id": "123456789010",
        "vpc_id": "vpc-abcdefab012345678",
        "subnet_id": "subnet-11111111aaaaaaaaa",
        "instance_id": None,
        "srcaddr": "10.40.1.175",
        "dstaddr": "10.40.2.236",
        "srcport": 39812,
        "dstport": 80,
        "protocol": 6,
        "tcp_flags": 3,
        "type": "IPv4",
        "pkt_srcaddr": "10.20.33.164",
        "pkt_dstaddr": "10.40.2.236",
        "action": "ACCEPT",
        "log_status": "OK",
    }
    assert parsed.rows["tcp_flags"].to_list() == [3, 19, 3, 19]


@pytest.mark.parametrize("name", sorted(p.name for p in AWS_EXAMPLES.glob("*.log")))
def test_every_value_of_every_aws_example_matches_a_plain_split(name):
    """An independent oracle: split on whitespace, '-' is null, numeric fields are int()."""
    from natflow_pipeline.flowlogs.fields import is_numeric

    header, *lines = (AWS_EXAMPLES / name).read_text().splitlines()
    fields = [f.replace("-", "_") for f in header.split()]
    expected = [
        tuple(
            None if v == "-" else (int(v) if is_numeric(f) else v)
            for f, v in zip(fields, line.split(), strict=True)
        )
        for line in lines
    ]
    assert parse_example(name).rows.select(fields).rows() == expected


def test_parquet_delivery_reads_like_the_text_one_and_rejects_a_bad_value_with_its_row():
    text = (
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes "
        "start end action log-status\n"
        "2 123456789010 eni-1 10.0.0.1 203.0.113.5 49152 443 6 10 5000 "
        "1700000000 1700000060 ACCEPT OK\n"
        "2 123456789010 eni-1 - - - - - - - 1700000000 1700000060 - NODATA\n"
        "2 123456789010 eni-1 10.0.0.2 2001:db8::7 49153 443 6 11 6000 "
        "1700000001 1700000061 ACCEPT OK\n"
    )
    from_text = parse_text(text.encode(), "x.log")
    columns = [line.split() for line in text.splitlines()[1:]]
    names = [n.replace("-", "_") for n in text.splitlines()[0].split()]
    frame = pl.DataFrame({n: [row[i] for row in columns] for i, n in enumerate(names)})
    typed = frame.with_columns(
        pl.col(c).replace("-", None).cast(pl.Int64)
        for c in ("srcport", "dstport", "packets", "bytes", "start", "end")
    )
    typed = typed.with_columns(
        pl.col(c).replace("-", None) for c in ("srcaddr", "dstaddr", "action")
    )
    raw = io.BytesIO()
    typed.write_parquet(raw)
    from_parquet = parse_parquet(raw.getvalue(), "x.parquet")
    assert from_parquet.rows.drop("line").equals(from_text.rows.drop("line"))
    assert from_parquet.rejected.height == 0

    bad = frame.with_columns(
        pl.Series("srcport", ["49152", "4x", "-"]),
        pl.Series("srcaddr", ["10.0.0.1", "10.0.0.9", "10.0.0.300"]),
    )
    raw = io.BytesIO()
    bad.write_parquet(raw)
    parsed = parse_parquet(raw.getvalue(), "y.parquet")
    assert parsed.rows_read == 3 and parsed.rows["line"].to_list() == [1]
    assert parsed.rejected.select("line", "reason").rows() == [
        (2, "not_an_integer:srcport"),
        (3, "not_an_address:srcaddr"),
    ]
    assert parsed.rejected["text"][0].startswith("2 123456789010 eni-1 10.0.0.9 - 4x - ")
