"""When the daily tables are built: yesterday (UTC) once its deliveries are in, and the day
before again for deliveries that came late.

AWS delivers flow logs to S3 every 5 or 10 minutes, best effort; a day's last records arrive in
the first delivery window of the next day (``lateness_minutes``, 60 by default). At 02:00 UTC
yesterday is complete apart from stragglers. Re-materializing the day before yesterday once more
picks up deliveries that came later than that; the overwrite of a partition is idempotent, so
the re-run changes a table only when a late file did.
"""

from datetime import datetime, timedelta

import dagster as dg

from natflow_pipeline.assets.insights import nat_dashboard
from natflow_pipeline.assets.reference import aws_ip_ranges
from natflow_pipeline.partitions import daily_partitions

#: 02:00 UTC: an hour past the default lateness window, plus AWS's delivery delay.
DAILY_CRON = "0 2 * * *"
#: 01:30 UTC: the day's ip-ranges version is stored before the daily run enriches with it.
IP_RANGES_CRON = "30 1 * * *"
#: How many finished days each tick builds: yesterday, and the day before for late deliveries.
DAYS_PER_TICK = 2

daily_job = dg.define_asset_job(
    "daily_nat_costs",
    # every daily asset: all but the two unpartitioned ones (and the observed, never-built source)
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets(aws_ip_ranges, nat_dashboard),
    partitions_def=daily_partitions,
    description="Every daily table for one UTC day.",
)
ip_ranges_job = dg.define_asset_job("refresh_aws_ip_ranges", selection=[aws_ip_ranges])


def days_to_build(tick: datetime, first_day: str) -> list[str]:
    """The partition keys a tick at ``tick`` builds: the DAYS_PER_TICK days before it, oldest
    first, none before the first partition."""
    today = tick.date()
    days = [(today - timedelta(days=n)).isoformat() for n in range(DAYS_PER_TICK, 0, -1)]
    return [d for d in days if d >= first_day]


@dg.schedule(
    job=daily_job,
    cron_schedule=DAILY_CRON,
    execution_timezone="UTC",
    description="Builds yesterday (UTC) and rebuilds the day before for late flow log deliveries.",
)
def daily_nat_costs_schedule(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest]:
    first_day = daily_partitions.start.date().isoformat()
    return [
        # The run key makes a tick idempotent: the daemon never launches a day twice for one tick.
        dg.RunRequest(
            run_key=f"{day}@{context.scheduled_execution_time:%Y-%m-%d}", partition_key=day
        )
        for day in days_to_build(context.scheduled_execution_time, first_day)
    ]


ip_ranges_schedule = dg.ScheduleDefinition(
    job=ip_ranges_job,
    cron_schedule=IP_RANGES_CRON,
    execution_timezone="UTC",
    description="Stores a new ip-ranges.json version when AWS published one.",
)
