"""Create every pool's concurrency limit before runs start: ``python -m natflow_pipeline.pools``.

Dagster creates a pool's limit row lazily, when the first step of that pool claims a slot. On
PostgreSQL two runs doing that at the same moment crash one of them (an INSERT that loses the
race aborts the transaction, and the UPDATE after it fails: dagster-io/dagster#33552, open as of
Dagster 1.13.28, seen here in the seven-day backfill test). Creating the rows one at a time before
the first backfill removes the race; a deployment runs this once after ``dagster instance
migrate`` (deploy/README.md). Pools that already exist are left as they are.
"""

from __future__ import annotations

import argparse

import dagster as dg


def pool_names(definitions: dg.Definitions) -> list[str]:
    """Every pool an asset of ``definitions`` runs in."""
    graph = definitions.resolve_asset_graph()
    return sorted({pool for node in graph.asset_nodes for pool in node.pools or ()})


def initialize_pools(instance: dg.DagsterInstance, pools: list[str]) -> list[str]:
    """Give each pool without a limit the instance's default (``concurrency: pools:
    default_limit``), one at a time; returns the pools created. Nothing is created without a
    default limit: Dagster then creates no rows, and there is no race."""
    storage = instance.event_log_storage
    if instance.global_op_concurrency_default_limit is None:
        return []
    existing = storage.get_concurrency_keys()
    created = [pool for pool in pools if pool not in existing]
    for pool in created:
        storage.initialize_concurrency_limit_to_default(pool)
    return created


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    from natflow_pipeline.definitions import defs

    with dg.DagsterInstance.get() as instance:
        created = initialize_pools(instance, pool_names(defs))
    print(f"pools created: {', '.join(created) if created else 'none (all exist)'}")


if __name__ == "__main__":
    main()
