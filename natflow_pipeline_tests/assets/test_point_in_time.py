"""Each day's addresses are attributed against the IPAM snapshot of that day, else the nearest
earlier one, and against the ip-ranges version in force that day; the metadata says which. A NetBox
that cannot be read writes no snapshot."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from natflow_pipeline import tables
from natflow_pipeline.assets import enrichment as enrichment_asset
from natflow_pipeline.assets.enrichment import address_attribution
from natflow_pipeline.assets.flow_logs import nat_flows
from natflow_pipeline.assets.reference import aws_ip_ranges, ip_ranges_version, ipam_prefixes
from natflow_pipeline.definitions import defs
from natflow_pipeline.enrichment import INTERNAL_SIDE
from natflow_pipeline.resources.reference import IpamSource, IpRangesSource, NetBoxSource
from natflow_pipeline.resources.warehouse import WarehouseResource
from natflow_pipeline.sample_data.company import netbox_export
from natflow_pipeline_tests.assets.test_ip_ranges_versions import NEW_TOKEN, OLD
from natflow_pipeline_tests.services.processes import free_port

DAY1, DAY2, DAY3 = "2026-11-01", "2026-11-02", "2026-11-03"
MOVED = "10.10.1.0/24"  # a bare payments subnet that checkout takes over on DAY3


def write_export(path: Path, reassign: bool) -> Path:
    export = netbox_export()
    if reassign:
        checkout = next(t for t in export["tenants"] if t["name"] == "checkout")
        prefix = next(p for p in export["prefixes"] if p["prefix"] == MOVED)
        prefix["tenant"] = {k: checkout[k] for k in ("id", "name", "slug")}
    path.write_text(json.dumps(export))
    return path


def run(
    assets: list[dg.AssetsDefinition],
    day: str | None,
    resources: dict[str, object],
    **kwargs: object,
) -> dg.ExecuteInProcessResult:
    base = {**defs.resources, **resources}
    return dg.materialize(assets, partition_key=day, resources=base, **kwargs)


def enrichment_metadata(result: dg.ExecuteInProcessResult) -> dict[str, object]:
    (event,) = result.asset_materializations_for_node(tables.ADDRESS_ATTRIBUTION.name)
    return {k: v.value for k, v in event.metadata.items()}


def teams_in_moved_subnet(warehouse: WarehouseResource, day: str) -> set[str]:
    rows = warehouse.get().read_partition(
        tables.ADDRESS_ATTRIBUTION.name, "usage_date", date.fromisoformat(day)
    )
    return set(rows.filter(pl.col("side") == INTERNAL_SIDE, pl.col("ipam_prefix") == MOVED)["team"])


@pytest.fixture(scope="module")
def backfilled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """nat_flows for three days; the IPAM snapshot of DAY3 taken first, DAY1's backfilled later."""
    tmp = tmp_path_factory.mktemp("pit")
    warehouse = WarehouseResource(uri=str(tmp / "wh"))
    before, after = write_export(tmp / "before.json", False), write_export(tmp / "after.json", True)
    resources: dict[str, object] = {"warehouse": warehouse}
    run([aws_ip_ranges], None, resources)
    for day in (DAY1, DAY2, DAY3):
        run([nat_flows], day, resources)
    run([ipam_prefixes], DAY3, {**resources, "ipam": IpamSource(export_path=str(after))})
    too_early = run([address_attribution], DAY1, resources, raise_on_error=False)
    run([ipam_prefixes], DAY1, {**resources, "ipam": IpamSource(export_path=str(before))})
    used = {
        day: enrichment_metadata(run([address_attribution], day, resources))
        for day in (DAY1, DAY2, DAY3)
    }
    return {"warehouse": warehouse, "too_early": too_early, "used": used}


def test_a_day_before_every_snapshot_fails_and_says_what_to_do(backfilled):
    result = backfilled["too_early"]
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert f"no {tables.IPAM_PREFIXES.name} snapshot on or before {DAY1}" in str(
        failure.event_specific_data.error
    )


def test_each_day_uses_its_own_snapshot_or_the_nearest_earlier(backfilled):
    used = {day: meta["ipam_snapshot_used"] for day, meta in backfilled["used"].items()}
    assert used == {DAY1: DAY1, DAY2: DAY1, DAY3: DAY3}


def test_the_attribution_follows_the_snapshot_it_used(backfilled):
    warehouse = backfilled["warehouse"]
    assert teams_in_moved_subnet(warehouse, DAY1) == {"payments"}
    assert teams_in_moved_subnet(warehouse, DAY2) == {
        "payments"
    }  # DAY1's snapshot: before the move
    assert teams_in_moved_subnet(warehouse, DAY3) == {"checkout"}
    rows = warehouse.get().read_partition(
        tables.ADDRESS_ATTRIBUTION.name, "usage_date", date.fromisoformat(DAY2)
    )
    assert rows.height > 0 and set(rows["ipam_snapshot_date"]) == {DAY1}


def test_the_ip_ranges_version_in_force_is_reported(backfilled, tmp_path):
    assert {meta["ip_ranges_sync_token_used"] for meta in backfilled["used"].values()} == {
        NEW_TOKEN
    }
    # an older version stored later does not replace the one in force on these days
    warehouse = backfilled["warehouse"]
    run([aws_ip_ranges], None, {"warehouse": warehouse, "ip_ranges": IpRangesSource(url=str(OLD))})
    meta = enrichment_metadata(run([address_attribution], DAY2, {"warehouse": warehouse}))
    assert meta["ip_ranges_sync_token_used"] == NEW_TOKEN


def test_a_netbox_that_cannot_be_reached_fails_and_writes_no_snapshot(backfilled):
    warehouse = backfilled["warehouse"]
    store = warehouse.get()
    version, days = (
        store.version(tables.IPAM_PREFIXES.name),
        store.partition_values(tables.IPAM_PREFIXES.name, "snapshot_date"),
    )
    url = f"http://127.0.0.1:{free_port()}"
    source = NetBoxSource(
        url=url, token="nbt_secretkey.secretsecret", retries=1, backoff_s=0.01, timeout_s=2
    )
    with pytest.raises(dg.Failure) as failure:
        run([ipam_prefixes], DAY2, {"warehouse": warehouse, "ipam": source})
    message = str(failure.value)
    assert url in message and "unreachable" in message and "no snapshot written" in message
    assert "secret" not in message
    assert store.version(tables.IPAM_PREFIXES.name) == version
    assert (
        store.partition_values(tables.IPAM_PREFIXES.name, "snapshot_date") == days == [DAY1, DAY3]
    )


def test_re_attributing_after_an_ipam_fix_matches_the_internal_side_again_and_keeps_the_external(
    tmp_path, monkeypatch
):
    warehouse = WarehouseResource(uri=str(tmp_path / "wh"))
    versions_read: list[str] = []  # the stored ip-ranges versions the asset reads in full

    def recorded(store, sync_token):
        versions_read.append(sync_token)
        return ip_ranges_version(store, sync_token)

    monkeypatch.setattr(enrichment_asset, "ip_ranges_version", recorded)
    before, after = (
        write_export(tmp_path / "before.json", False),
        write_export(tmp_path / "after.json", True),
    )
    resources: dict[str, object] = {"warehouse": warehouse}
    run([aws_ip_ranges], None, resources)
    run([nat_flows], DAY1, resources)
    run([ipam_prefixes], DAY1, {**resources, "ipam": IpamSource(export_path=str(before))})
    first = enrichment_metadata(run([address_attribution], DAY1, resources))
    stored = warehouse.get().read_partition(
        tables.ADDRESS_ATTRIBUTION.name, "usage_date", date.fromisoformat(DAY1)
    )
    assert first["external_answers_reused"] == 0 and teams_in_moved_subnet(warehouse, DAY1) == {
        "payments"
    }
    assert versions_read == [first["ip_ranges_sync_token_used"]]

    run(
        [ipam_prefixes], DAY1, {**resources, "ipam": IpamSource(export_path=str(after))}
    )  # the fix, same day
    again = enrichment_metadata(run([address_attribution], DAY1, resources))
    fixed = warehouse.get().read_partition(
        tables.ADDRESS_ATTRIBUTION.name, "usage_date", date.fromisoformat(DAY1)
    )
    assert teams_in_moved_subnet(warehouse, DAY1) == {"checkout"}
    assert again["external_answers_reused"] == first["external_addresses"] > 0
    assert versions_read == [
        first["ip_ranges_sync_token_used"]
    ]  # every answer reused: not read again
    external = pl.col("side") != INTERNAL_SIDE
    assert fixed.filter(external).equals(stored.filter(external))
    assert fixed.select("side", "address").equals(stored.select("side", "address"))
