"""The IPAM read from a real NetBox 4.7 equals the file-export path exactly.

The sample company (plus team tags, a `team` custom field and a prefix in a VRF) is written into
NetBox through pynetbox, then read back by the NetBoxSource resource and compared with the same
data read as a JSON export: snapshots, address attributions and cost tables must be identical.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from natflow_pipeline import tables
from natflow_pipeline.assets.reference import ipam_prefixes
from natflow_pipeline.demo import materialize_days, sample_days
from natflow_pipeline.resources.reference import IpamSource, NetBoxSource, ipam_from_env
from natflow_pipeline.resources.warehouse import WarehouseResource
from natflow_pipeline.sample_data.company import netbox_export
from natflow_pipeline_tests.services.netbox import NetBox, load_export

pytestmark = pytest.mark.netbox

DAY = sample_days()[0]
LAB = "10.99.0.0/16"  # the one prefix in VRF "lab"


def company() -> dict[str, list[dict]]:
    """The sample company as exported, plus what the other team sources read: a `team:` tag and
    a `team` custom field on the tenanted prefixes (and on one untenanted one, so the modes
    differ), a tag on an address object, an unrelated tag, and a prefix in a VRF."""
    export = netbox_export()
    for p in export["prefixes"]:
        tenant = p["tenant"]["name"] if p["tenant"] else None
        p["custom_fields"]["team"] = f"cf-{tenant}" if tenant else None
        p["tags"] = [{"name": f"team:{tenant}"}] if tenant else []
        if (
            p["prefix"] == "10.40.3.0/24"
        ):  # unowned in NetBox's tenancy, owned by SRE in tags and fields
            p["tags"] = [{"name": "env:prod"}, {"name": "team:sre"}]
            p["custom_fields"]["team"] = "cf-sre"
    address = next(a for a in export["ip_addresses"] if a["address"].startswith("10.10.1.50/"))
    address["tags"] = [{"name": "team:identity"}]
    search = next(t for t in export["tenants"] if t["name"] == "search")
    export["prefixes"].append(
        {
            "id": len(export["prefixes"]) + 1,
            "prefix": LAB,
            "family": {"value": 4, "label": "IPv4"},
            "vrf": {"name": "lab"},
            "tenant": {k: search[k] for k in ("id", "name", "slug")},
            "status": {"value": "active", "label": "Active"},
            "custom_fields": {"aws_account_id": "222222222221", "team": None},
            "tags": [],
        }
    )
    return export


@pytest.fixture(scope="module")
def loaded(netbox: NetBox, tmp_path_factory: pytest.TempPathFactory) -> tuple[NetBox, Path]:
    """NetBox holding the company, and the same company as a JSON export file."""
    export = company()
    load_export(netbox.api(), export)
    path = tmp_path_factory.mktemp("ipam") / "netbox-export.json"
    path.write_text(json.dumps(export))
    return netbox, path


def from_netbox(netbox: NetBox, **settings: object) -> pl.DataFrame:
    return NetBoxSource(
        url=netbox.url, token=settings.pop("token", netbox.token), **settings
    ).snapshot()[0]


def from_file(path: Path, **settings: object) -> pl.DataFrame:
    return IpamSource(export_path=str(path), **settings).snapshot()[0]


def filtered_export(
    path: Path, tmp_path: Path, keep_prefix=lambda p: True, keep_address=lambda a: True
) -> Path:
    export = json.loads(path.read_text())
    export["prefixes"] = [p for p in export["prefixes"] if keep_prefix(p)]
    export["ip_addresses"] = [a for a in export["ip_addresses"] if keep_address(a)]
    out = tmp_path / "filtered.json"
    out.write_text(json.dumps(export))
    return out


@pytest.mark.parametrize(
    "team_source", ["tenant", "tenant_group", "custom_field:team", "tag:team:"]
)
@pytest.mark.parametrize("inherit", [True, False])
def test_netbox_snapshot_equals_the_export_snapshot(loaded, team_source, inherit):
    netbox, path = loaded
    got = from_netbox(netbox, team_source=team_source, inherit_teams=inherit)
    assert_frame_equal(got, from_file(path, team_source=team_source, inherit_teams=inherit))
    assert got.height == 19 + 3 and set(got["family"]) == {4, 6}


def test_each_team_source_reads_its_own_attribute(loaded):
    netbox, _ = loaded

    def team_of(frame: pl.DataFrame, prefix: str) -> str | None:
        return frame.filter(pl.col("prefix") == prefix)["effective_team"].item()

    by = {
        s: from_netbox(netbox, team_source=s)
        for s in ("tenant", "tenant_group", "custom_field:team", "tag:team:")
    }
    assert [team_of(by[s], "10.10.2.0/24") for s in by] == [
        "checkout",
        "commerce",
        "cf-checkout",
        "checkout",
    ]
    assert [team_of(by[s], "10.40.3.0/24") for s in by] == [None, None, "cf-sre", "sre"]
    address = by["tag:team:"].filter(
        pl.col("kind") == "ip_address", pl.col("prefix") == "10.10.1.50/32"
    )
    assert address["team"].item() == "identity"  # the tag on the address object
    accounts = by["tenant"].filter(pl.col("prefix") == "10.10.1.0/24")[
        "effective_source_account_id"
    ]
    assert accounts.item() == "111111111111"  # the aws_account_id custom field, inherited


def test_a_legacy_token_reads_the_same(loaded):
    netbox, path = loaded
    assert netbox.token.startswith("nbt_") and not netbox.token_v1.startswith("nbt_")
    assert_frame_equal(from_netbox(netbox, token=netbox.token_v1), from_file(path))


def test_small_pages_are_all_followed(loaded):
    netbox, path = loaded
    log = netbox.state_dir / "logs" / "netbox-access.log"
    before = log.read_text().count("/api/ipam/prefixes/?limit=4") if log.exists() else 0
    assert_frame_equal(from_netbox(netbox, page_size=4), from_file(path))
    if log.exists():  # 19 prefixes in pages of 4: five requests
        assert log.read_text().count("/api/ipam/prefixes/?limit=4") - before == 5


def test_family_status_and_vrf_filters_select_what_netbox_holds(loaded, tmp_path):
    netbox, path = loaded
    v6 = filtered_export(
        path, tmp_path, lambda p: ":" in p["prefix"], lambda a: ":" in a["address"]
    )
    assert_frame_equal(from_netbox(netbox, families=[6]), from_file(v6))
    containers = filtered_export(path, tmp_path, lambda p: p["status"]["value"] == "container")
    assert_frame_equal(from_netbox(netbox, prefix_statuses=["container"]), from_file(containers))
    lab = from_netbox(netbox, vrfs=["lab"])
    assert lab["prefix"].to_list() == [LAB] and lab["vrf"].to_list() == ["lab"]
    outside_lab = filtered_export(path, tmp_path, lambda p: p["prefix"] != LAB)
    assert_frame_equal(from_netbox(netbox, vrfs=["global"]), from_file(outside_lab))


@pytest.mark.parametrize("kind", ["v2", "v1"])
def test_a_rejected_token_fails_naming_the_service_and_writes_no_snapshot(loaded, tmp_path, kind):
    netbox, path = loaded
    warehouse = WarehouseResource(uri=str(tmp_path / "wh"))
    resources = {"warehouse": warehouse, "ipam": IpamSource(export_path=str(path))}
    dg.materialize([ipam_prefixes], partition_key=DAY, resources=resources)
    store = warehouse.get()
    version = store.version(tables.IPAM_PREFIXES.name)
    bad = netbox.token.rsplit(".", 1)[0] + ".wrongsecret" if kind == "v2" else "0" * 40
    resources["ipam"] = NetBoxSource(url=netbox.url, token=bad)
    with pytest.raises(dg.Failure) as failure:
        dg.materialize([ipam_prefixes], partition_key=sample_days()[1], resources=resources)
    message = str(failure.value)
    assert netbox.url in message and "HTTP 403" in message and "no snapshot written" in message
    assert bad not in message and "wrongsecret" not in message
    assert store.version(tables.IPAM_PREFIXES.name) == version
    assert store.partition_values(tables.IPAM_PREFIXES.name, "snapshot_date") == [DAY]


def test_the_pipeline_on_netbox_equals_the_pipeline_on_the_export(
    loaded, tmp_path, monkeypatch, ground_truth
):
    netbox, path = loaded
    monkeypatch.setenv("NATFLOW_IPAM_SOURCE", "netbox")
    monkeypatch.setenv("NETBOX_URL", netbox.url)
    monkeypatch.setenv("NETBOX_TOKEN", netbox.token)
    via_netbox = WarehouseResource(uri=str(tmp_path / "netbox"))
    via_file = WarehouseResource(uri=str(tmp_path / "file"))
    materialize_days([DAY], {"warehouse": via_netbox, "ipam": ipam_from_env()})
    materialize_days([DAY], {"warehouse": via_file, "ipam": IpamSource(export_path=str(path))})
    day = date.fromisoformat(DAY)
    for table, column in (
        (tables.IPAM_PREFIXES.name, "snapshot_date"),
        (tables.ADDRESS_ATTRIBUTION.name, "usage_date"),
        ("team_daily_costs", "usage_date"),
    ):
        got, want = (w.get().read_partition(table, column, day) for w in (via_netbox, via_file))
        assert got.height > 0, table
        assert_frame_equal(got, want, check_row_order=False), table
    costs = via_netbox.get().read_partition("team_daily_costs", "usage_date", day)
    assert costs["bytes"].sum() == ground_truth["days"][DAY]["nat_bytes"]
