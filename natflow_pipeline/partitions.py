"""Daily UTC partitions: a flow log record belongs to the day of its ``start``."""

import dagster as dg

from natflow_pipeline import settings

#: Set or unset through ``settings`` like every other variable: an empty NATFLOW_START_DATE (a
#: Helm value left blank) is the sample's first day, not ``start_date=""``.
daily_partitions = dg.DailyPartitionsDefinition(start_date=settings.start_date(), timezone="UTC")
