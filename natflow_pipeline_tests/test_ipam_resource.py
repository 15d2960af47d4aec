"""The IPAM resource is an abstract base: only a source that says how to take a snapshot exists."""

from __future__ import annotations

import dagster as dg
import polars as pl
import pytest

from natflow_pipeline.resources.reference import IpamResource, IpamSource, NetBoxSource


def test_the_base_cannot_be_instantiated():
    with pytest.raises(TypeError, match="abstract"):
        IpamResource()


def test_a_source_without_snapshot_cannot_be_instantiated():
    class NoSnapshot(IpamResource):
        export_path: str = "unused.json"

    with pytest.raises(TypeError, match="snapshot"):
        NoSnapshot()


def test_both_sources_are_ipam_resources():
    assert isinstance(IpamSource(), IpamResource)
    netbox = NetBoxSource(url="https://netbox.example.com", token="nbt_key.secret")
    assert isinstance(netbox, IpamResource)


def test_a_subclass_implementing_snapshot_is_a_working_dagster_resource():
    """pydantic and Dagster accept the abstract base: a subclass configures and runs."""

    class Fixed(IpamResource):
        label: str = "fixed"

        def snapshot(self) -> tuple[pl.DataFrame, str]:
            return pl.DataFrame({"team": [self.team_source]}), self.label

    @dg.asset
    def taken(ipam: IpamResource) -> str:
        frame, where = ipam.snapshot()
        return f"{where}:{frame['team'].item()}"

    ipam = Fixed(label="here", team_source="tenant_group")
    result = dg.materialize([taken], resources={"ipam": ipam})
    assert result.success
    assert result.output_for_node("taken") == "here:tenant_group"
