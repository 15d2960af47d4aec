"""The daily schedule builds yesterday and the day before, in UTC, never before the first
partition."""

from datetime import datetime, timezone

import dagster as dg

from natflow_pipeline.definitions import defs
from natflow_pipeline.schedules import DAILY_CRON, daily_nat_costs_schedule, days_to_build
from natflow_pipeline_tests.test_backfill import PARTITIONED_ASSETS


def test_a_tick_builds_yesterday_and_re_builds_the_day_before_for_late_files():
    tick = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)
    context = dg.build_schedule_context(scheduled_execution_time=tick)
    requests = daily_nat_costs_schedule(context)
    assert [r.partition_key for r in requests] == ["2026-11-18", "2026-11-19"]
    assert len({r.run_key for r in requests}) == 2


def test_the_first_ticks_never_ask_for_a_day_before_the_first_partition():
    assert days_to_build(datetime(2026, 11, 2, 2, tzinfo=timezone.utc), "2026-11-01") == [
        "2026-11-01"
    ]
    assert days_to_build(datetime(2026, 11, 1, 2, tzinfo=timezone.utc), "2026-11-01") == []


def test_the_schedule_runs_after_the_lateness_window_in_utc():
    schedule = defs.get_schedule_def("daily_nat_costs_schedule")
    assert schedule.cron_schedule == DAILY_CRON == "0 2 * * *"
    assert schedule.execution_timezone == "UTC"
    # aws_ip_ranges (not partitioned) has its own schedule, half an hour earlier
    assert defs.get_schedule_def("refresh_aws_ip_ranges_schedule").cron_schedule == "30 1 * * *"


def test_every_daily_asset_backfills_one_day_per_run_in_a_pool_named_after_its_table():
    for key in (
        "nat_flows",
        "ipam_prefixes",
        "address_attribution",
        "team_daily_costs",
        "top_talkers",
        "endpoint_savings",
    ):
        asset = defs.get_assets_def(key)
        assert asset.backfill_policy == dg.BackfillPolicy.multi_run(1), key
        assert asset.op.pool == f"delta_{key}", key


def test_the_daily_job_builds_every_daily_table_of_the_day():
    job = defs.resolve_job_def("daily_nat_costs")
    selected = {k.to_user_string() for k in job.asset_layer.selected_asset_keys}
    assert selected == set(PARTITIONED_ASSETS)  # the daily tables the backfill test checks too
