"""Start a server process on a free loopback port, wait until it answers, stop it afterwards."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(message: str) -> None:
    """A required service is missing: fail under CI, skip (saying how to enable it) locally."""
    if in_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)


def start_http_server(
    command: Sequence[str],
    ready_url: str,
    log: Path,
    timeout_s: float = 60,
    env: dict[str, str] | None = None,
    ready: Callable[[int], bool] = lambda status: status < 500,
) -> Server:
    """Run ``command`` and poll ``ready_url`` until it answers; fail with the log's tail
    otherwise."""
    handle = log.open("wb")
    process = subprocess.Popen(
        command, stdout=handle, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
    )
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(ready_url, timeout=2) as response:
                if ready(response.status):
                    return Server(process, ready_url, log)
        except urllib.error.HTTPError as err:
            if ready(err.code):
                return Server(process, ready_url, log)
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(0.2)
    server = Server(process, ready_url, log)
    server.stop()
    tail = log.read_text(errors="replace")[-2000:]
    raise RuntimeError(
        f"{command[0]} did not answer at {ready_url} within {timeout_s:.0f}s; log tail:\n{tail}"
    )
