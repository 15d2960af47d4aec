"""A real NetBox 4.7 for the tests, provisioned by scripts/netbox_server.sh, and a loader that
writes a NetBox-shaped export into it through pynetbox (the write half of the API natflow reads).

The session fixture starts the server (the first start builds Python and migrates, ~10-15 min;
later starts take seconds from the cache), resets its database to a freshly migrated one so object
ids restart at 1, and stops it at the end of the session if it was not running before. Locally a
server that cannot be provisioned skips the tier with a hint; under CI=true it fails.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pynetbox
import pytest

from natflow_pipeline.paths import PROJECT_ROOT
from natflow_pipeline_tests.services.processes import in_ci, unavailable

SCRIPT = PROJECT_ROOT / "scripts" / "netbox_server.sh"
HINT = (
    "run `bash scripts/netbox_server.sh start` once "
    "(as root: it installs PostgreSQL/Redis with apt, "
    "builds Python 3.13 and migrates NetBox, ~15 min, cached afterwards), then rerun the tests; "
    "NATFLOW_NETBOX_TESTS=0 skips this tier"
)
START_TIMEOUT_S = 40 * 60  # the first start builds CPython and migrates the database


@dataclass(frozen=True)
class NetBox:
    url: str
    token: str  # v2: nbt_<key>.<secret>
    token_v1: str  # legacy 40 characters
    version: str
    state_dir: Path

    def api(self, token: str | None = None) -> pynetbox.api:
        return pynetbox.api(self.url, token=token or self.token)


def _script(*args: str, timeout_s: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        stdin=subprocess.DEVNULL,
        cwd=PROJECT_ROOT,
    )


def _read_env(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {k.strip(): v.strip() for k, v in pairs}


def _fail(step: str, result: subprocess.CompletedProcess[str]) -> None:
    tail = "\n".join((result.stderr or "").splitlines()[-25:])
    unavailable(
        f"NetBox could not be provisioned ({step} exited {result.returncode}): {HINT}\n{tail}"
    )


@pytest.fixture(scope="session")
def netbox() -> Iterator[NetBox]:
    """A running NetBox with an empty, freshly migrated database (ids start at 1)."""
    if os.environ.get("NATFLOW_NETBOX_TESTS", "1") == "0" and not in_ci():
        pytest.skip("NATFLOW_NETBOX_TESTS=0: the real-NetBox tier is switched off")
    was_running = _script("status", timeout_s=60).returncode == 0
    try:
        started = _script("start", timeout_s=START_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        unavailable(f"NetBox did not start within {START_TIMEOUT_S // 60} min: {HINT}")
        raise
    if started.returncode != 0:
        _fail("start", started)
    env_file = Path(started.stdout.strip().splitlines()[-1])
    env = _read_env(env_file)
    reset = _script("reset-db", timeout_s=300)
    if reset.returncode != 0:
        _fail("reset-db", reset)
    try:
        yield NetBox(
            env["NETBOX_URL"],
            env["NETBOX_TOKEN"],
            env["NETBOX_TOKEN_V1"],
            env["NETBOX_VERSION"],
            env_file.parent,
        )
    finally:
        if not was_running:
            _script("stop", timeout_s=300)


def load_export(api: pynetbox.api, export: Mapping[str, list[dict[str, Any]]]) -> None:
    """Create the tenant groups, tenants, tags, VRFs, prefixes and IP addresses of ``export``
    (NetBox's REST shape) through the API, in id order, and check NetBox gave the same ids."""
    groups = {g["id"]: g for t in export.get("tenants", []) if (g := t.get("group"))}
    for gid in sorted(groups):
        _created(
            api.tenancy.tenant_groups.create(name=groups[gid]["name"], slug=groups[gid]["slug"]),
            gid,
        )
    for tenant in sorted(export.get("tenants", []), key=lambda t: t["id"]):
        group = tenant.get("group")
        _created(
            api.tenancy.tenants.create(
                name=tenant["name"], slug=tenant["slug"], group=group["id"] if group else None
            ),
            tenant["id"],
        )
    entries = [*export["prefixes"], *export["ip_addresses"]]
    tags = sorted({tag["name"] for e in entries for tag in e.get("tags") or []})
    tag_ids = {name: api.extras.tags.create(name=name, slug=_slug(name)).id for name in tags}
    vrfs = sorted({e["vrf"]["name"] for e in entries if e.get("vrf")})
    vrf_ids = {name: api.ipam.vrfs.create(name=name).id for name in vrfs}
    for prefix in sorted(export["prefixes"], key=lambda p: p["id"]):
        _created(
            api.ipam.prefixes.create(prefix=prefix["prefix"], **_common(prefix, tag_ids, vrf_ids)),
            prefix["id"],
        )
    for address in sorted(export["ip_addresses"], key=lambda a: a["id"]):
        fields = _common(address, tag_ids, vrf_ids)
        fields.pop("custom_fields", None)  # natflow's custom fields are defined on prefixes only
        _created(api.ipam.ip_addresses.create(address=address["address"], **fields), address["id"])


def _common(
    entry: Mapping[str, Any], tag_ids: Mapping[str, int], vrf_ids: Mapping[str, int]
) -> dict[str, Any]:
    status = entry.get("status")
    return {
        "status": status["value"] if isinstance(status, Mapping) else status or "active",
        "tenant": (entry.get("tenant") or {}).get("id"),
        "vrf": vrf_ids[entry["vrf"]["name"]] if entry.get("vrf") else None,
        "tags": [tag_ids[t["name"]] for t in entry.get("tags") or []],
        "custom_fields": {
            k: v for k, v in (entry.get("custom_fields") or {}).items() if v is not None
        },
    }


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name.lower())


def _created(record: Any, expected_id: int) -> None:
    if record.id != expected_id:
        raise AssertionError(
            f"NetBox gave id {record.id} to {record}, the export has {expected_id}: "
            "was the database reset?"
        )
