"""A real moto server on loopback: the S3 and Cost Explorer wire protocols s3fs, delta-rs and boto3
speak."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from natflow_pipeline_tests.services.processes import (
    Server,
    free_port,
    start_http_server,
    unavailable,
)

#: Credentials moto accepts; real ones must never be needed (or leak) in tests.
FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


def start_moto(log_dir: Path) -> tuple[Server, str]:
    """A moto server on a free loopback port, and its endpoint URL."""
    endpoint = f"http://127.0.0.1:{free_port()}"
    moto = Path(sys.executable).parent / "moto_server"
    port = endpoint.rsplit(":", 1)[1]
    server = start_http_server(
        [str(moto), "-H", "127.0.0.1", "-p", port], f"{endpoint}/moto-api/", log_dir / "moto.log"
    )
    return server, endpoint


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The endpoint URL of a moto server for the whole session (AWS env vars point at fakes)."""
    patcher = pytest.MonkeyPatch()
    for key, value in FAKE_AWS_ENV.items():
        patcher.setenv(key, value)
    try:
        server, endpoint = start_moto(tmp_path_factory.mktemp("moto"))
    except (RuntimeError, OSError) as exc:
        unavailable(
            f"moto server could not start ({exc}); "
            "install the dev dependencies with scripts/bootstrap.sh"
        )
        raise
    try:
        yield endpoint
    finally:
        server.stop()
        patcher.undo()
