"""A snapshot of the code location's graph, in the manner of dagster-open-platform's
``test_defs.py``: asset keys, groups, kinds, deps, partitions, pools, checks, automation and
freshness, jobs, schedules and sensors. A change to the graph is then a visible diff in review.

After an intended change, rewrite the snapshot and commit it with the change:
``NATFLOW_UPDATE_SNAPSHOT=1 .venv/bin/pytest natflow_pipeline_tests/test_definitions_snapshot.py``
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import dagster as dg

from natflow_pipeline.definitions import defs

SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.json"


def partitions(definition: dg.PartitionsDefinition | None) -> str | None:
    """The partitioning, without its start date (a setting, NATFLOW_START_DATE)."""
    if definition is None:
        return None
    if isinstance(definition, dg.TimeWindowPartitionsDefinition):
        name = type(definition).__name__
        return f"{name}(cron={definition.cron_schedule}, tz={definition.timezone})"
    return type(definition).__name__


def graph_snapshot(definitions: dg.Definitions) -> dict[str, Any]:
    graph = definitions.resolve_asset_graph()
    assets = {}
    for node in sorted(graph.asset_nodes, key=lambda n: n.key.to_user_string()):
        condition = node.automation_condition
        assets[node.key.to_user_string()] = {
            "group": node.group_name,
            "kinds": sorted(node.kinds),
            "deps": sorted(k.to_user_string() for k in node.parent_keys),
            "partitions": partitions(node.partitions_def),
            "pools": sorted(node.pools or []),
            "backfill_policy": str(node.backfill_policy) if node.backfill_policy else None,
            "materializable": node.is_materializable,
            "checks": sorted(
                f"{key.name}{' (blocking)' if graph.get(key).blocking else ''}"
                for key in node.check_keys
            ),
            "automation": condition.get_label() or type(condition).__name__ if condition else None,
            "freshness": type(node.freshness_policy).__name__ if node.freshness_policy else None,
            "column_schema": "dagster/column_schema" in node.metadata,
        }
    jobs = {
        job.name: sorted(k.to_user_string() for k in job.selection.resolve(graph))
        for job in definitions.jobs or []
    }
    schedules = {
        s.name: {"cron": s.cron_schedule, "timezone": s.execution_timezone, "job": s.job_name}
        for s in definitions.schedules or []
    }
    sensors = sorted(s.name for s in definitions.sensors or [])
    return {"assets": assets, "jobs": jobs, "schedules": schedules, "sensors": sensors}


def test_the_definitions_match_their_snapshot():
    current = json.dumps(graph_snapshot(defs), indent=2, sort_keys=True) + "\n"
    if os.environ.get("NATFLOW_UPDATE_SNAPSHOT"):
        SNAPSHOT.write_text(current)
    assert SNAPSHOT.exists(), f"no snapshot at {SNAPSHOT}: run with NATFLOW_UPDATE_SNAPSHOT=1"
    assert current == SNAPSHOT.read_text(), (
        "the asset graph changed; if intended, rewrite the snapshot with NATFLOW_UPDATE_SNAPSHOT=1 "
        "and commit the diff"
    )
