"""A real ``dagster dev`` (webserver, daemon, code server, run workers) driven over GraphQL.

It runs in its own process group against its own DAGSTER_HOME; ``stop`` ends the group and
then checks, by the DAGSTER_HOME in each process's environment, that nothing it started is left
(a process that changed its group would still be found).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from natflow_pipeline_tests.services.processes import free_port

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class DagsterDev:
    process: subprocess.Popen[bytes]
    url: str
    home: Path
    log: Path

    def graphql(self, query: str, variables: dict | None = None, timeout_s: float = 60) -> dict:
        """POST a GraphQL document; returns ``data``, raising on transport or GraphQL errors."""
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(
            f"{self.url}/graphql", body, {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            payload = json.loads(response.read())
        if payload.get("errors"):
            raise RuntimeError(f"GraphQL errors: {payload['errors']}")
        return payload["data"]

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:]

    def stop(self) -> list[str]:
        """SIGTERM the group (dagster dev shuts its children down), SIGKILL what is left after a
        grace period; returns the processes still alive afterwards (should be none)."""
        for sig, grace in ((signal.SIGTERM, 30.0), (signal.SIGKILL, 10.0)):
            with _suppress_missing():
                os.killpg(self.process.pid, sig)
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline and self.leftovers():
                time.sleep(0.5)
            if not self.leftovers():
                break
        with _suppress_missing():
            self.process.wait(timeout=10)
        return self.leftovers()

    def leftovers(self) -> list[str]:
        """Live processes that carry this DAGSTER_HOME (zombies excluded)."""
        marker = f"DAGSTER_HOME={self.home}".encode()
        found = []
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                if marker not in (proc / "environ").read_bytes().split(b"\0"):
                    continue
                state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if state != "Z":
                    cmdline = (
                        (proc / "cmdline")
                        .read_bytes()
                        .replace(b"\0", b" ")
                        .decode(errors="replace")
                    )
                    found.append(f"{proc.name}: {cmdline}")
            except OSError:
                continue
        return found


def _suppress_missing() -> contextlib.suppress:
    """The group or process is already gone (or will not be reaped in time): nothing to do."""
    return contextlib.suppress(ProcessLookupError, subprocess.TimeoutExpired)


def start_dagster_dev(home: Path, env: dict[str, str], timeout_s: float = 180) -> DagsterDev:
    """``dagster dev -w workspace.yaml`` on a free loopback port, with DAGSTER_HOME=``home``
    (which holds the dagster.yaml to test); waits until the code location has loaded."""
    port = free_port()
    log = home / "dagster-dev.log"
    command = [
        str(Path(sys.executable).parent / "dagster"),
        "dev",
        "-w",
        "workspace.yaml",
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
    ]
    full_env = {**os.environ, **env, "DAGSTER_HOME": str(home)}
    with log.open("wb") as handle:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=full_env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = DagsterDev(process, f"http://127.0.0.1:{port}", home, log)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            data = server.graphql(LOCATIONS, timeout_s=5)
            entries = data["workspaceOrError"]["locationEntries"]
            if entries and all(e["loadStatus"] == "LOADED" for e in entries):
                errors = [
                    e["locationOrLoadError"]
                    for e in entries
                    if e["locationOrLoadError"]["__typename"] == "PythonError"
                ]
                if errors:
                    raise RuntimeError(f"code location failed to load: {errors}")
                return server
        except (OSError, KeyError, TypeError, json.JSONDecodeError):
            pass
        time.sleep(1)
    tail = server.log_tail()
    server.stop()
    raise RuntimeError(
        f"dagster dev did not load the code location within {timeout_s:.0f}s; log tail:\n{tail}"
    )


LOCATIONS = """
{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus
    locationOrLoadError { __typename ... on PythonError { message } } } } } }
"""
