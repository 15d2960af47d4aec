"""aws_ip_ranges fetched over real HTTP: versions by syncToken, fallbacks, and the version each day
uses."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from natflow_pipeline import tables
from natflow_pipeline.assets.reference import aws_ip_ranges, ip_ranges_token_for, ip_ranges_version
from natflow_pipeline.paths import DEFAULT_IP_RANGES
from natflow_pipeline.resources.reference import IpRangesSource
from natflow_pipeline.resources.warehouse import WarehouseResource
from natflow_pipeline_tests.conftest import TEST_DATA
from natflow_pipeline_tests.services.file_server import FileServer, file_server  # noqa: F401

OLD = TEST_DATA / "aws-ip-ranges" / "ip-ranges.2025-01.json"
OLD_TOKEN, NEW_TOKEN = "1736903589", "1787411825"


@pytest.fixture
def served(file_server: FileServer) -> FileServer:  # noqa: F811
    shutil.copy(OLD, file_server.root / "old.json")
    shutil.copy(DEFAULT_IP_RANGES, file_server.root / "ip-ranges.json")
    return file_server


def fetch(warehouse: WarehouseResource, url: str, **settings: object) -> dg.ExecuteInProcessResult:
    source = IpRangesSource(
        url=url,
        retries=settings.pop("retries", 2),
        backoff_s=settings.pop("backoff_s", 0.01),
        **settings,
    )
    return dg.materialize([aws_ip_ranges], resources={"ip_ranges": source, "warehouse": warehouse})


def metadata(result: dg.ExecuteInProcessResult) -> dict[str, object]:
    (event,) = result.asset_materializations_for_node("aws_ip_ranges")
    return {k: v.value for k, v in event.metadata.items()}


def live_check(result: dg.ExecuteInProcessResult) -> dg.AssetCheckEvaluation:
    (evaluation,) = result.get_asset_check_evaluations()
    return evaluation


def test_a_version_is_stored_once_per_sync_token(served, tmp_path):
    warehouse = WarehouseResource(uri=str(tmp_path / "wh"))
    first = metadata(fetch(warehouse, f"{served.url}/old.json"))
    assert first["source"] == f"{served.url}/old.json" and first["fetched_live"] is True
    assert (
        first["sync_token"] == OLD_TOKEN
        and first["new_version"] is True
        and first["prefixes"] == 8355 + 3479
    )
    version = warehouse.get().version(tables.AWS_IP_RANGES.name)
    again = metadata(fetch(warehouse, f"{served.url}/old.json"))
    assert again["new_version"] is False and again["versions_stored"] == 1
    assert (
        warehouse.get().version(tables.AWS_IP_RANGES.name) == version
    )  # nothing written the second time


def test_a_new_sync_token_adds_a_version_and_each_day_uses_the_one_in_force(served, tmp_path):
    warehouse = WarehouseResource(uri=str(tmp_path / "wh"))
    fetch(warehouse, f"{served.url}/old.json")
    newer = metadata(fetch(warehouse, f"{served.url}/ip-ranges.json"))
    assert (
        newer["sync_token"] == NEW_TOKEN and newer["new_version"] and newer["versions_stored"] == 2
    )
    store = warehouse.get()
    assert store.partition_values(tables.AWS_IP_RANGES.name, "sync_token") == [OLD_TOKEN, NEW_TOKEN]
    # old createDate 2025-01-15 01:13, new 2026-08-22 15:17 (UTC)
    assert ip_ranges_token_for(store, date(2025, 1, 14)) == OLD_TOKEN  # older than both: the oldest
    assert ip_ranges_token_for(store, date(2025, 1, 15)) == OLD_TOKEN
    assert ip_ranges_token_for(store, date(2026, 3, 1)) == OLD_TOKEN  # in between
    assert ip_ranges_token_for(store, date(2026, 8, 21)) == OLD_TOKEN
    assert ip_ranges_token_for(store, date(2026, 8, 22)) == NEW_TOKEN
    frame = ip_ranges_version(store, ip_ranges_token_for(store, date(2026, 3, 1)))
    assert frame.height == 8355 + 3479 and set(frame["sync_token"]) == {OLD_TOKEN}


def test_retries_ride_out_a_busy_server(served, tmp_path):
    served.fail_next = 2
    result = fetch(WarehouseResource(uri=str(tmp_path / "wh")), f"{served.url}/old.json", retries=3)
    assert metadata(result)["fetched_live"] is True
    assert served.requests == ["/old.json"] * 3  # two 503s, then the file
    assert live_check(result).passed


def test_unreachable_with_nothing_stored_uses_the_bundled_snapshot_and_warns(served, tmp_path):
    served.fail_next = 10
    result = fetch(WarehouseResource(uri=str(tmp_path / "wh")), f"{served.url}/old.json", retries=2)
    meta = metadata(result)
    assert result.success
    assert (
        meta["fetched_live"] is False and meta["source"] == f"fallback:bundled {DEFAULT_IP_RANGES}"
    )
    assert "HTTP 503" in meta["fetch_error"] and meta["sync_token"] == NEW_TOKEN
    assert len(served.requests) == 3  # the first try and two retries
    check = live_check(result)
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert "fallback:bundled" in check.description


def test_unreachable_uses_the_newest_stored_version(served, tmp_path):
    warehouse = WarehouseResource(uri=str(tmp_path / "wh"))
    fetch(warehouse, f"{served.url}/old.json")
    served.reset()
    result = fetch(warehouse, f"{served.url}/gone.json")  # 404
    meta = metadata(result)
    assert (
        meta["source"] == f"fallback:stored syncToken {OLD_TOKEN}"
        and meta["sync_token"] == OLD_TOKEN
    )
    assert "HTTP 404" in meta["fetch_error"] and meta["new_version"] is False
    assert (
        live_check(result).severity == dg.AssetCheckSeverity.WARN and not live_check(result).passed
    )


def test_a_server_that_does_not_listen_is_unreachable(tmp_path):
    from natflow_pipeline_tests.services.processes import free_port

    result = fetch(
        WarehouseResource(uri=str(tmp_path / "wh")),
        f"http://127.0.0.1:{free_port()}/ip-ranges.json",
        retries=1,
    )
    meta = metadata(result)
    assert meta["fetched_live"] is False and "ConnectionError" in meta["fetch_error"]


def test_a_stalled_server_times_out(served, tmp_path):
    served.delay_s = 1.0
    result = fetch(
        WarehouseResource(uri=str(tmp_path / "wh")),
        f"{served.url}/old.json",
        retries=0,
        timeout_s=0.2,
    )
    meta = metadata(result)
    assert meta["fetched_live"] is False and "Timeout" in meta["fetch_error"]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"<html>maintenance</html>", "not JSON"),
        (
            b'{"createDate": "2026-08-22-15-17-05", "prefixes": [], "ipv6_prefixes": []}',
            "syncToken",
        ),
        (
            b'{"syncToken": "1", "createDate": "yesterday", "prefixes": [], "ipv6_prefixes": []}',
            "createDate",
        ),
        (
            b'{"syncToken": "1", "createDate": "2026-08-22-15-17-05", '
            b'"prefixes": [{"ip_prefix": "1.2.3.0/24"}], "ipv6_prefixes": []}',
            "lacks",
        ),
    ],
)
def test_an_invalid_document_fails_and_stores_nothing(served, tmp_path, body, says):
    (served.root / "bad.json").write_bytes(body)
    warehouse = WarehouseResource(uri=str(tmp_path / "wh"))
    with pytest.raises(dg.Failure, match=says) as failure:
        fetch(warehouse, f"{served.url}/bad.json")
    assert f"{served.url}/bad.json" in str(failure.value)
    assert not warehouse.get().exists(tables.AWS_IP_RANGES.name)


def test_a_local_path_is_read_without_http(tmp_path):
    meta = metadata(fetch(WarehouseResource(uri=str(tmp_path / "wh")), str(OLD)))
    assert (
        meta["source"] == f"file:{OLD}"
        and meta["fetched_live"] is True
        and meta["sync_token"] == OLD_TOKEN
    )


def test_the_code_location_reads_the_bundled_file_unless_a_url_is_set(monkeypatch):
    from natflow_pipeline.resources.reference import AWS_IP_RANGES_URL, ip_ranges_from_env

    monkeypatch.delenv("NATFLOW_IP_RANGES_URL", raising=False)
    assert ip_ranges_from_env().url == str(DEFAULT_IP_RANGES)
    monkeypatch.setenv("NATFLOW_IP_RANGES_URL", AWS_IP_RANGES_URL)
    assert ip_ranges_from_env().url == AWS_IP_RANGES_URL
    assert IpRangesSource().url == "https://ip-ranges.amazonaws.com/ip-ranges.json"
    assert Path(IpRangesSource().fallback_path) == DEFAULT_IP_RANGES
