"""A month a person can read: the dashboard of October 2026's 31 generated days, rendered by the
asset and opened in a real headless Chromium, stays small and draws every chart."""

from __future__ import annotations

import time
from pathlib import Path

import polars as pl
import pytest

from natflow_pipeline.resources.warehouse import WarehouseResource
from natflow_pipeline_tests.dashboard.conftest import dashboard_path, render_dashboard
from natflow_pipeline_tests.dashboard.test_browser import CHARTS
from natflow_pipeline_tests.generated_months import OCTOBER, generated_months
from natflow_pipeline_tests.services.chromium import Browser

MAX_HTML_BYTES = 10 * 1024 * 1024
#: Generous bounds on a loaded 2-core machine (measured: about 1 s to render, 1-2 s to draw).
MAX_RENDER_S = 60
MAX_DRAW_MS = 30_000


@pytest.fixture(scope="module")
def october(tmp_path_factory: pytest.TempPathFactory) -> tuple[WarehouseResource, Path, float]:
    warehouse = generated_months(tmp_path_factory)
    config = {
        "ops": {"nat_dashboard": {"config": {"start_date": OCTOBER[0], "end_date": OCTOBER[-1]}}}
    }
    started = time.perf_counter()
    result = render_dashboard(warehouse, config)
    return warehouse, dashboard_path(result), time.perf_counter() - started


def test_a_31_day_dashboard_stays_under_10_mb(october):
    warehouse, path, render_s = october
    size = path.stat().st_size
    print(f"31-day dashboard: {size:,} bytes, rendered in {render_s:.1f} s")
    assert size < MAX_HTML_BYTES
    assert render_s < MAX_RENDER_S
    page = path.read_text()
    assert f"{OCTOBER[0]} .. {OCTOBER[-1]}" in page and "31 day(s) materialized" in page
    # the whole of October is in the range: whole months, and September has no data
    assert "<b>2026-10 vs 2026-09</b> (whole months): 31 day(s) in the range" in page
    assert "2026-09 has no data, so no change is shown" in page


def test_a_31_day_dashboard_draws_every_chart_in_the_browser(browser: Browser, october):
    warehouse, path, _ = october
    browser.open(path.as_uri())
    draw_ms = browser.evaluate(
        "performance.getEntriesByType('navigation')[0].loadEventEnd"
        " - performance.getEntriesByType('navigation')[0].startTime"
    )
    print(f"31-day dashboard loaded and drawn in {draw_ms:.0f} ms")
    assert draw_ms < MAX_DRAW_MS
    svgs = browser.evaluate(
        "Object.fromEntries(Array.from(document.querySelectorAll('div[id^=chart-]'))"
        ".map(d => [d.id, d.querySelectorAll('.main-svg').length]))"
    )
    assert set(svgs) == set(CHARTS)
    assert all(count > 0 for count in svgs.values()), svgs
    costs = pl.read_delta(f"{warehouse.uri}/team_daily_costs")
    in_october = costs.filter(pl.col("usage_date").dt.month() == 10)
    team_days = in_october.select("usage_date", "team").unique().height
    assert team_days >= 8 * 31
    bars = browser.evaluate("document.querySelectorAll('#chart-team-cost .bars .point').length")
    assert bars == team_days
    # the range's pairs are summed and capped: 20 bars and 20 table rows, not 31 days x 100
    assert (
        browser.evaluate("document.querySelectorAll('#chart-top-talkers .bars .point').length")
        == 20
    )
    # one status per day (one account and region in the generated company), PASS each day
    statuses = browser.evaluate(
        "Array.from(document.querySelectorAll('.badge')).map(b => b.textContent)"
    )
    assert statuses == ["PASS"] * 31
    # this month by team: October, every team, September has no data
    teams = browser.evaluate(
        "Array.from(document.querySelectorAll('#month-by-team tbody tr'))"
        ".map(r => r.cells[0].textContent)"
    )
    assert sorted(teams) == sorted(in_october["team"].unique().to_list())
    header = browser.evaluate(
        "Array.from(document.querySelectorAll('#month-by-team thead th')).map(c => c.textContent)"
    )
    assert header[:4] == ["team", "days", "cost (USD)", "2026-09 (USD)"]
    assert browser.report.exceptions == []
    assert browser.report.console_errors == []
    assert {url.split(":", 1)[0] for url in browser.report.requested_urls} == {"file"}
