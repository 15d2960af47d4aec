"""The dashboard's numbers and date range, read from the Delta tables only."""

from __future__ import annotations

import re
import shutil
from datetime import date

import polars as pl
import pytest

from natflow_pipeline.dashboard.data import (
    NOT_RECONCILED,
    DashboardError,
    load,
    reconciliation_status,
    savings_projection,
    unattributed_share,
)
from natflow_pipeline.resources.warehouse import WarehouseResource
from natflow_pipeline_tests.dashboard.conftest import dashboard_path, render_dashboard

DAYS = [date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)]


def test_default_range_is_every_materialized_day(sample_warehouse):
    loaded = load(sample_warehouse.get())
    assert loaded.days == DAYS
    assert set(loaded.costs["usage_date"]) == set(DAYS)
    # the pipeline's own reconciliation (sample Cost Explorer file): every day passes
    assert sorted(set(loaded.reconciliation["usage_date"])) == DAYS
    assert set(loaded.reconciliation["status"]) == {"PASS"}


def test_range_is_inclusive_and_may_be_open_at_either_end(sample_warehouse):
    store = sample_warehouse.get()
    assert load(store, start=date(2026, 11, 2)).days == DAYS[1:]
    assert load(store, end=date(2026, 11, 2)).days == DAYS[:2]
    only = load(store, date(2026, 11, 2), date(2026, 11, 2))
    assert only.days == [date(2026, 11, 2)]
    assert (
        set(only.top_talkers["usage_date"])
        == set(only.endpoint_savings["usage_date"])
        == {date(2026, 11, 2)}
    )


def test_an_empty_or_reversed_range_is_an_error(sample_warehouse, tmp_path):
    store = sample_warehouse.get()
    with pytest.raises(DashboardError, match="no materialized day"):
        load(store, start=date(2027, 1, 1))
    with pytest.raises(DashboardError, match="starts 2026-11-03 after it ends 2026-11-01"):
        load(store, date(2026, 11, 3), date(2026, 11, 1))
    with pytest.raises(DashboardError, match="materialize the days first"):
        load(WarehouseResource(uri=str(tmp_path / "empty")).get())


def test_unattributed_share_is_the_gold_tables_share(sample_warehouse):
    costs = load(sample_warehouse.get()).costs
    share = unattributed_share(costs)
    for day, bytes_share in share.select("usage_date", "bytes_share").iter_rows():
        of_day = costs.filter(pl.col("usage_date") == day)
        expected = (
            of_day.filter(pl.col("team") == "unattributed")["bytes"].sum() / of_day["bytes"].sum()
        )
        assert bytes_share == pytest.approx(expected)
        assert 0 < bytes_share < 0.1


def test_savings_projection_is_the_mean_daily_saving_over_an_average_month(sample_warehouse):
    loaded = load(sample_warehouse.get())
    projection = savings_projection(loaded.endpoint_savings, len(loaded.days))
    expected = loaded.endpoint_savings["saving_usd"].sum() / 3 * 30.4
    assert projection["monthly_saving_usd"].sum() == pytest.approx(expected)


def test_without_a_reconciliation_table_every_day_is_not_reconciled():
    status = reconciliation_status(None, DAYS)
    assert status["usage_date"].to_list() == DAYS
    assert status["status"].to_list() == [NOT_RECONCILED] * 3


def test_reconciled_days_show_their_status_and_the_rest_are_not_reconciled(reconciled_warehouse):
    loaded = load(reconciled_warehouse.get())
    status = reconciliation_status(loaded.reconciliation, loaded.days)
    assert status["status"].to_list() == ["PASS", "WARN", NOT_RECONCILED]
    assert status["cost_explorer_gb"][1] == pytest.approx(status["flow_log_gb"][1] * 1.0082)


def test_dashboard_asset_writes_the_range_it_was_asked_for(sample_warehouse, tmp_path):
    # a copy, so this render does not replace the session warehouse's own dashboard
    shutil.copytree(
        sample_warehouse.uri, tmp_path / "warehouse", ignore=shutil.ignore_patterns("reports")
    )
    warehouse = WarehouseResource(uri=str(tmp_path / "warehouse"))
    config = {
        "ops": {"nat_dashboard": {"config": {"start_date": "2026-11-02", "end_date": "2026-11-03"}}}
    }
    result = render_dashboard(warehouse, config)
    (materialization,) = result.asset_materializations_for_node("nat_dashboard")
    metadata = {k: v.value for k, v in materialization.metadata.items()}
    assert (metadata["first_day"], metadata["last_day"], metadata["days"]) == (
        "2026-11-02",
        "2026-11-03",
        2,
    )
    assert metadata["reconciliation_table_present"] is True and metadata["days_not_reconciled"] == 0
    path = dashboard_path(result)
    assert str(path).startswith(warehouse.uri) and path.name == "natflow-dashboard.html"
    page = path.read_text()
    assert metadata["html_bytes"] == len(page.encode())
    assert "2026-11-01" not in page and "2026-11-03" in page
    # self-contained: plotly.js inline, no external script or stylesheet (the browser test checks
    # that nothing at all is fetched; plotly.js merely mentions its CDN for maps, which are unused)
    assert not re.search(r"<(script|link)[^>]+(src|href)=", page)
    assert "Plotly.newPlot" in page
    assert "not reconciled" not in page and page.count(">PASS</span>") >= 2


def test_reports_can_go_to_a_configured_folder(sample_warehouse, tmp_path):
    import dagster as dg

    from natflow_pipeline.assets.insights import nat_dashboard
    from natflow_pipeline.definitions import defs
    from natflow_pipeline.resources.insights import InsightsResource

    resources = {
        **defs.resources,
        "warehouse": sample_warehouse,
        "insights": InsightsResource(reports_uri=str(tmp_path / "reports")),
    }
    result = dg.materialize([nat_dashboard], resources=resources)
    assert dashboard_path(result) == tmp_path / "reports" / "natflow-dashboard.html"
