"""Daily UTC partitions: a flow log record belongs to the day of its ``start``."""

import os

import dagster as dg

#: The first day of the embedded sample; production sets NATFLOW_START_DATE to its first day.
SAMPLE_START_DATE = "2026-11-01"

daily_partitions = dg.DailyPartitionsDefinition(
    start_date=os.environ.get("NATFLOW_START_DATE", SAMPLE_START_DATE), timezone="UTC"
)
