"""How a backfill fans out and what keeps concurrent writers of one Delta table safe.

- One run per day (``DAILY_BACKFILL_POLICY``): a day is the unit of memory (one day of flow logs
  per pod), of retry (a failed day re-runs alone) and of scale-out (a month is 30 pods at once, as
  many as the run queue allows). A range per run would read several days in one process and
  make one bad file fail them all.
- A run executes its steps in its own process (``RUN_EXECUTOR``). A day's steps are a chain
  (nat_flows and ipam_prefixes, then address_attribution, then team_daily_costs); the multiprocess
  executor would start a process per step, each importing the code location again (seconds of
  CPU per step, the larger part of a small day's run), for no parallelism worth having. Scale
  comes from running days side by side, one run (one pod) each.
- Every asset that writes the warehouse is in a pool named after its table (``delta_pool``). The
  pool limit (``concurrency: pools: default_limit`` in dagster.yaml, or per pool with
  ``dagster instance concurrency set``) caps how many runs commit to one table at once, which
  bounds the commit races its ``_delta_log`` sees.
- Runs of the same day are serialised by the instance (``concurrency: runs:
  tag_concurrency_limits``, one run per value of ``dagster/partition``, the tag of a
  single-partition run, and of ``dagster/asset_partition_range_start``, the tag of a backfill's
  one-day run).
- What is left (two days creating a table at once; a backfill run and a schedule run of the same
  day, which carry different tags) is resolved by the warehouse, which retries a lost commit
  (``Warehouse.write_partition``); an overwrite of a day is idempotent.
"""

import dagster as dg

DAILY_BACKFILL_POLICY = dg.BackfillPolicy.multi_run(max_partitions_per_run=1)
RUN_EXECUTOR = dg.in_process_executor


def delta_pool(table: str) -> str:
    """The concurrency pool of the asset that writes ``table``."""
    return f"delta_{table}"
