"""Every pool is created before runs start (natflow_pipeline/pools.py), one at a time."""

from __future__ import annotations

import dagster as dg

from natflow_pipeline import tables
from natflow_pipeline.definitions import defs
from natflow_pipeline.pools import initialize_pools, pool_names


def test_every_table_writer_has_a_pool_named_after_a_table():
    pools = pool_names(defs)
    table_pools = {f"delta_{t.name}" for t in tables.TABLES}
    assert set(pools) <= table_pools | {"delta_nat_dashboard"}
    assert "delta_nat_flows" in pools and "delta_team_daily_costs" in pools


def test_pools_are_created_once_with_the_default_limit():
    overrides = {"concurrency": {"pools": {"default_limit": 3}}}
    with dg.instance_for_test(overrides=overrides) as instance:
        created = initialize_pools(instance, pool_names(defs))
        assert created == pool_names(defs)
        for pool in created:
            assert instance.event_log_storage.get_concurrency_info(pool).slot_count == 3
        assert initialize_pools(instance, pool_names(defs)) == []


def test_without_a_default_limit_nothing_is_created():
    with dg.instance_for_test() as instance:
        assert initialize_pools(instance, pool_names(defs)) == []
        assert instance.event_log_storage.get_concurrency_keys() == set()
