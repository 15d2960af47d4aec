"""NetBoxSource without a NetBox: how it is chosen, and how it reports a server that misbehaves
(a real loopback HTTP server answering 503 or HTML). The real-NetBox tier is
assets/test_netbox_ipam.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from natflow_pipeline.netbox import NetBoxError
from natflow_pipeline.resources.reference import IpamSource, NetBoxSource, ipam_from_env
from natflow_pipeline_tests.services.file_server import FileServer, file_server  # noqa: F401

TOKEN = "nbt_abcdefghijkl.s3cr3tT0kenValue0000000000000000000000000000"
ROOT = Path(__file__).resolve().parents[1]


def test_the_code_location_reads_the_export_unless_netbox_is_asked_for(monkeypatch):
    monkeypatch.delenv("NATFLOW_IPAM_SOURCE", raising=False)
    assert type(ipam_from_env()) is IpamSource
    monkeypatch.setenv("NATFLOW_IPAM_SOURCE", "netbox")
    source = ipam_from_env()
    assert isinstance(source, NetBoxSource) and source.verify_tls
    monkeypatch.setenv("NATFLOW_IPAM_SOURCE", "ldap")
    with pytest.raises(ValueError, match="NATFLOW_IPAM_SOURCE='ldap'"):
        ipam_from_env()


def test_the_code_location_validates_with_netbox_selected():
    env = {
        **os.environ,
        "NATFLOW_IPAM_SOURCE": "netbox",
        "NETBOX_URL": "https://netbox.invalid",
        "NETBOX_TOKEN": TOKEN,
    }
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "dagster"),
            "definitions",
            "validate",
            "-w",
            "workspace.yaml",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert TOKEN not in result.stdout + result.stderr


def test_a_busy_netbox_is_retried_then_reported_with_its_status(file_server):  # noqa: F811
    file_server.fail_next = 100
    source = NetBoxSource(url=file_server.url, token=TOKEN, retries=2, backoff_s=0.01)
    with pytest.raises(NetBoxError) as error:
        source.snapshot()
    assert error.value.status == 503 and error.value.url == file_server.url
    assert f"NetBox at {file_server.url} answered HTTP 503 for /api/status/" in str(error.value)
    assert TOKEN not in str(error.value)
    assert file_server.requests == ["/api/status/"] * 3


def test_a_url_that_is_not_netbox_says_so(file_server):  # noqa: F811
    (file_server.root / "api").mkdir()
    (file_server.root / "api" / "status").write_text("<html>please log in</html>")
    with pytest.raises(NetBoxError, match=f"NetBox at {file_server.url} did not answer with JSON"):
        NetBoxSource(url=file_server.url, token=TOKEN, retries=0).snapshot()
