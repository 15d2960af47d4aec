"""The dashboard in a real headless Chromium: charts render, no script errors, nothing fetched."""

from __future__ import annotations

import os
import shutil
import struct
from pathlib import Path

from natflow_pipeline.dashboard.render import render
from natflow_pipeline.demo import sample_days
from natflow_pipeline_tests.dashboard.test_render import interface_dashboard
from natflow_pipeline_tests.services.chromium import Browser

ROOT = Path(__file__).resolve().parents[2]
CHARTS = (
    "chart-team-cost",
    "chart-unattributed",
    "chart-network-split",  # the sample warehouse has team_daily_network_costs
    "chart-top-talkers",
    "chart-endpoint-savings",
)
#: NATFLOW_SCREENSHOT=docs/dashboard.png refreshes the README's picture from this test.
SCREENSHOT_TARGET = os.environ.get("NATFLOW_SCREENSHOT")


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", header[16:24])


def test_dashboard_renders_every_chart_without_script_errors(
    browser: Browser, reconciled_dashboard: Path, tmp_path: Path
):
    browser.open(reconciled_dashboard.as_uri())
    svgs = browser.evaluate(
        "Object.fromEntries(Array.from(document.querySelectorAll('div[id^=chart-]'))"
        ".map(d => [d.id, d.querySelectorAll('.main-svg').length]))"
    )
    assert set(svgs) == set(CHARTS)
    assert all(count > 0 for count in svgs.values()), svgs
    # one stacked bar per team and day: 8 teams of the sample company x 3 days
    bars = browser.evaluate("document.querySelectorAll('#chart-team-cost .bars .point').length")
    assert bars == 8 * len(sample_days())
    assert (
        browser.evaluate("document.querySelectorAll('#chart-top-talkers .bars .point').length")
        == 20
    )
    assert browser.report.exceptions == []
    assert browser.report.console_errors == []
    # works offline: the page fetched nothing but itself (plotly.js is inlined)
    assert {url.split(":", 1)[0] for url in browser.report.requested_urls} == {"file"}
    assert browser.evaluate("typeof window.Plotly") == "object"

    screenshot = tmp_path / "dashboard.png"
    browser.screenshot(screenshot)
    width, height = png_size(screenshot)
    assert width == 1280 and height > 1500
    if SCREENSHOT_TARGET:
        shutil.copyfile(screenshot, ROOT / SCREENSHOT_TARGET)


def test_dashboard_shows_each_days_reconciliation_status(
    browser: Browser, reconciled_dashboard: Path
):
    browser.open(reconciled_dashboard.as_uri())
    statuses = browser.evaluate(
        "Array.from(document.querySelectorAll('.badge')).map(b => b.textContent)"
    )
    # the fixture reconciles 2026-11-01 (PASS) and 2026-11-02 (WARN); 2026-11-03 is not reconciled
    assert statuses == ["PASS", "WARN", "not reconciled"]
    assert browser.report.exceptions == []


def test_the_browser_harness_sees_script_errors_and_fetches(browser: Browser, tmp_path: Path):
    """The checks above can fail: a page that throws, logs an error and fetches a URL is caught."""
    page = tmp_path / "broken.html"
    page.write_text(
        "<html><body><script>console.error('boom'); fetch('http://127.0.0.1:9/x').catch(() => {});"
        "throw new Error('deliberate');</script></body></html>"
    )
    browser.open(page.as_uri())
    browser.evaluate("new Promise(r => setTimeout(r, 300))")
    assert any("deliberate" in e for e in browser.report.exceptions)
    assert any("boom" in e for e in browser.report.console_errors)
    assert any(u.startswith("http://127.0.0.1:9/") for u in browser.report.requested_urls)


def test_interface_endpoint_savings_render_in_the_browser(browser: Browser, tmp_path: Path):
    """Shapes the sample lacks (interface endpoints, a negative saving) draw without errors too."""
    page = tmp_path / "interface.html"
    page.write_text(render(interface_dashboard()), encoding="utf-8")
    browser.open(page.as_uri())
    # three services, one team each: three bars, one of them negative (CODEBUILD below break-even)
    assert (
        browser.evaluate("document.querySelectorAll('#chart-endpoint-savings .bars .point').length")
        == 3
    )
    assert browser.report.exceptions == [] and browser.report.console_errors == []
