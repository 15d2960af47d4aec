"""Per-team spend anomalies: the robust band on hand-made days, what a destination is, and the
``cost_anomalies`` check end to end on generated days with a planted S3 spike."""

from __future__ import annotations

import filecmp
import re
import warnings
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from pydantic import ValidationError

from natflow_pipeline import tables
from natflow_pipeline.anomalies import (
    MAD_TO_SIGMA,
    MORE_OF_THE_SAME,
    NEW_DESTINATION,
    AnomalyRules,
    assess,
    bands,
    daily_spend,
    findings,
    kind_of,
    team_destinations,
    trailing_history,
    window_coverage,
)
from natflow_pipeline.assets.costs import _anomaly_check, team_daily_costs
from natflow_pipeline.assets.enrichment import address_attribution
from natflow_pipeline.assets.flow_logs import nat_flows
from natflow_pipeline.assets.reference import aws_ip_ranges, ipam_prefixes
from natflow_pipeline.paths import DEFAULT_IP_RANGES
from natflow_pipeline.resources.cost_checks import CostChecksResource
from natflow_pipeline.resources.flow_logs import FlowLogSource
from natflow_pipeline.resources.pricing import PricingResource
from natflow_pipeline.resources.reference import IpamSource, IpRangesSource
from natflow_pipeline.resources.warehouse import WarehouseResource
from natflow_pipeline.sample_data.generator import Spike, generate
from natflow_pipeline.warehouse import Warehouse

DAY = date(2026, 11, 20)


def spend(team: str, amounts: list[float], last: date = DAY - timedelta(days=1)) -> pl.DataFrame:
    """``team``'s daily USD ending on ``last`` (bytes: a GB per dollar)."""
    first = last - timedelta(days=len(amounts) - 1)
    return pl.DataFrame(
        {
            "usage_date": [first + timedelta(days=n) for n in range(len(amounts))],
            "team": [team] * len(amounts),
            "total_usd": [float(a) for a in amounts],
            "bytes": [int(a * 2**30) for a in amounts],
        }
    ).cast({"bytes": pl.Int64})


def judged(history: pl.DataFrame, today_usd: float, rules: AnomalyRules) -> dict:
    """The assessment of team ``t`` spending ``today_usd`` on DAY after ``history``."""
    today = spend("t", [today_usd], last=DAY)
    window = trailing_history(history, DAY, rules.window_days)
    return assess(today, window, rules).row(0, named=True)


# -- the band ---------------------------------------------------------------------------------


def test_the_band_is_median_plus_k_robust_sigmas_and_one_odd_day_does_not_widen_it():
    history = spend("t", [1, 2, 3, 4, 100, 2, 3, 3])  # median 3, MAD 1: the 100 barely counts
    band = bands(trailing_history(history, DAY, 14), AnomalyRules(min_jump_ratio=0)).row(
        0, named=True
    )
    assert band["median_usd"] == 3 and band["mad_usd"] == 1 and band["history_days"] == 8
    assert band["threshold_usd"] == pytest.approx(4 * MAD_TO_SIGMA)
    rules = AnomalyRules(min_jump_ratio=0)
    assert judged(history, 3 + 4 * MAD_TO_SIGMA + 0.01, rules)["anomalous"]
    assert not judged(history, 3 + 4 * MAD_TO_SIGMA - 0.01, rules)["anomalous"]


def test_a_zero_mad_leaves_the_floors_to_decide():
    steady = spend("t", [10.0] * 10)
    rules = AnomalyRules()  # floors: $1, and +50% of the $10 median
    row = judged(steady, 10.5, rules)
    assert row["mad_usd"] == 0 and row["threshold_usd"] == 5.0 and not row["anomalous"]
    assert not judged(steady, 15.0, rules)["anomalous"]
    assert judged(steady, 15.01, rules)["anomalous"]
    # Without floors a zero MAD is a zero-width band: any cent up alerts (why the floors exist).
    bare = AnomalyRules(min_jump_usd=0, min_jump_ratio=0)
    assert judged(steady, 10.01, bare)["anomalous"]
    assert not judged(steady, 10.0, bare)["anomalous"]


def test_the_absolute_floor_keeps_a_tiny_team_quiet():
    tiny = spend("t", [0.02, 0.03, 0.02, 0.02, 0.03, 0.02, 0.02])
    assert not judged(tiny, 0.60, AnomalyRules())["anomalous"]  # 30x, but 58 cents
    assert judged(tiny, 0.60, AnomalyRules(min_jump_usd=0.5))["anomalous"]


def batch_days(last: date = DAY - timedelta(days=1), days: int = 14) -> list[float]:
    """A weekly batch team: $50 on Mondays and Thursdays, $0 the other days, ending on ``last``."""
    first = last - timedelta(days=days - 1)
    return [50.0 if (first + timedelta(days=n)).weekday() in (0, 3) else 0.0 for n in range(days)]


def test_a_batch_team_does_not_alert_on_its_usual_busy_day():
    """$50 twice a week and $0 otherwise: median and MAD are 0, so without the p90 bound the band
    falls to the $1 floor and every batch day alerts. Its p90 day is $50: a $50 day is its
    normal."""
    assert DAY.weekday() == 4  # a Friday: the window's last batch day was yesterday
    history = spend("t", batch_days())
    assert sorted(set(history["total_usd"])) == [0.0, 50.0]
    assert history["total_usd"].to_list().count(50.0) == 4  # 4 of 14 days
    row = judged(history, 50.0, AnomalyRules())
    assert row["median_usd"] == 0 and row["mad_usd"] == 0 and row["p90_usd"] == 50.0
    assert row["threshold_usd"] == 50.0 and row["jump_usd"] == 50.0
    assert not row["anomalous"]
    # Without the p90 bound (what the floors alone said) it would have alerted on its usual day.
    assert row["jump_usd"] > max(AnomalyRules().min_jump_usd, 0.5 * row["median_usd"])
    # A batch a little bigger than usual is still its normal busy day... up to its p90.
    assert not judged(history, 49.0, AnomalyRules())["anomalous"]


def test_a_real_spike_on_a_batch_team_still_alerts():
    history = spend("t", batch_days())
    spike = judged(history, 400.0, AnomalyRules())  # 8x its busy day
    assert spike["anomalous"] and spike["jump_usd"] == 400.0 > spike["threshold_usd"] == 50.0
    assert judged(history, 50.01, AnomalyRules())["anomalous"]  # anything above its p90 day


def test_one_odd_day_in_the_window_does_not_raise_the_p90_bound():
    """The p90 and not the maximum: yesterday's spike does not hide today's (a spike that goes on
    is flagged on its second day too)."""
    history = spend("t", [10.0] * 13 + [500.0])
    row = judged(history, 500.0, AnomalyRules())
    assert row["p90_usd"] == 10.0 and row["threshold_usd"] == 5.0 and row["anomalous"]
    # With 7 to 16 days the nearest-rank p90 is the second-highest day, never the highest.
    for n in range(7, 17):
        days = spend("t", [float(d) for d in range(1, n + 1)])
        band = bands(trailing_history(days, DAY, 16), AnomalyRules(window_days=16)).row(
            0, named=True
        )
        assert band["p90_usd"] == n - 1, n


def test_a_team_with_a_short_history_is_not_judged():
    rules = AnomalyRules(min_history_days=7)
    six = judged(spend("t", [1.0] * 6), 500.0, rules)
    assert six["history_days"] == 6 and not six["anomalous"]
    assert judged(spend("t", [1.0] * 7), 500.0, rules)["anomalous"]
    # A team seen for the first time today has no band at all.
    other = assess(
        spend("new", [500.0], last=DAY), trailing_history(spend("t", [1.0] * 9), DAY, 14), rules
    )
    assert other.row(0, named=True)["history_days"] == 0
    assert not other.row(0, named=True)["anomalous"]


def test_a_drop_never_alerts():
    """Decided: only jumps up are anomalies. A drop saves money or means lost data, and lost data
    is what rows_accounted_for, nat_interfaces_complete and the reconciliation catch."""
    row = judged(spend("t", [100.0, 101.0, 99.0, 100.0, 102.0, 98.0, 100.0]), 1.0, AnomalyRules())
    assert row["jump_usd"] == pytest.approx(-99.0) and not row["anomalous"]


def test_the_history_is_the_held_days_of_the_window_from_the_teams_first_day():
    held = pl.concat(
        [
            spend("old", [5.0] * 20),  # DAY-20 .. DAY-1: only the last 14 count
            spend("late", [7.0, 7.0], last=DAY - timedelta(days=3)),  # first seen DAY-4
            spend("old", [999.0], last=DAY),  # the checked day itself is never history
        ]
    ).filter(pl.col("usage_date") != DAY - timedelta(days=2))  # a day never materialized
    history = trailing_history(held, DAY, 14)
    old = history.filter(pl.col("team") == "old")
    assert old.height == 13  # 14 days, one of them not held
    assert old["usage_date"].min() == DAY - timedelta(days=14)
    assert set(old["total_usd"]) == {5.0}
    late = history.filter(pl.col("team") == "late").sort("usage_date")
    # DAY-4 and DAY-3 as held, DAY-2 not held, DAY-1 held without the team: a $0 day.
    assert late["usage_date"].to_list() == [DAY - timedelta(days=d) for d in (4, 3, 1)]
    assert late["total_usd"].to_list() == [7.0, 7.0, 0.0]


def test_rules_that_could_never_judge_a_team_are_refused():
    with pytest.raises(ValueError, match="cannot exceed"):
        AnomalyRules(window_days=5, min_history_days=7)
    with pytest.raises(ValueError):
        AnomalyRules(k=0)


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"anomaly_window_days": 0}, "anomaly_window_days"),
        ({"anomaly_min_history_days": 0}, "anomaly_min_history_days"),
        ({"anomaly_k": 0}, "anomaly_k"),
        ({"anomaly_k": -1.5}, "anomaly_k"),
        ({"anomaly_min_jump_usd": -0.01}, "anomaly_min_jump_usd"),
        ({"anomaly_min_jump_ratio": -0.5}, "anomaly_min_jump_ratio"),
        ({"anomaly_top_talkers": 0}, "anomaly_top_talkers"),
        ({"anomaly_window_days": 5}, "anomaly_min_history_days (7) cannot exceed"),
        ({"anomaly_window_days": 10, "anomaly_min_history_days": 11}, "anomaly_window_days (10)"),
    ],
)
def test_the_resource_refuses_bad_anomaly_settings_when_it_is_built(settings, named):
    """Refused up front, when the resource is built (run config or code), not by the check after
    the day's gold partition is written."""
    with pytest.raises(ValidationError, match=re.escape(named)):
        CostChecksResource(**settings)
    assert CostChecksResource(anomaly_window_days=7, anomaly_min_history_days=7).anomaly_rules()


def test_a_bad_anomaly_setting_in_run_config_fails_before_the_day_is_written(tmp_path: Path):
    warehouse = WarehouseResource(uri=str(tmp_path / "warehouse"))
    resources = {
        "warehouse": warehouse,
        "pricing": PricingResource(),
        "cost_checks": CostChecksResource.configure_at_launch(),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        result = dg.materialize(
            [team_daily_costs],
            partition_key=DAY.isoformat(),
            resources=resources,
            run_config={"resources": {"cost_checks": {"config": {"anomaly_min_history_days": 30}}}},
            raise_on_error=False,
        )
    assert not result.success
    # The resource refused it when the step started, before anything was read or written.
    (failure,) = (e for e in result.all_events if e.event_type_value == "RESOURCE_INIT_FAILURE")
    assert "anomaly_min_history_days (30) cannot exceed" in str(failure.event_specific_data)
    assert not warehouse.get().exists(tables.TEAM_DAILY_COSTS.name)


def test_the_window_coverage_tells_missing_days_from_days_before_the_start():
    held = spend("t", [1.0] * 10).filter(
        ~pl.col("usage_date").is_in([DAY - timedelta(days=3), DAY - timedelta(days=5)])
    )
    coverage = window_coverage(held, DAY, 14, start=DAY - timedelta(days=10))
    assert coverage.held == [DAY - timedelta(days=d) for d in (10, 9, 8, 7, 6, 4, 2, 1)]
    assert coverage.missing == [DAY - timedelta(days=5), DAY - timedelta(days=3)]
    assert coverage.before_start == 4 and not coverage.complete
    # Without a start every absent day of the window is missing.
    assert len(window_coverage(held, DAY, 14).missing) == 6
    assert window_coverage(spend("t", [1.0] * 14), DAY, 14).complete


def _gold(day: date, usd: float) -> pl.DataFrame:
    return pl.DataFrame(
        {"usage_date": [day], "team": ["t"], "total_usd": [usd], "bytes": [int(usd * 2**30)]}
    ).cast({"bytes": pl.Int64})


def test_a_day_judged_on_a_partly_materialized_window_says_so(tmp_path: Path):
    """A backfill runs days concurrently: DAY can be checked while DAY-5 and DAY-3 are still being
    written. The check judges on what is held and says which days were missing."""
    store = Warehouse(str(tmp_path / "warehouse"))
    start = DAY - timedelta(days=10)
    for n in range(1, 11):
        if n not in (3, 5):
            day = DAY - timedelta(days=n)
            store.write_day(tables.TEAM_DAILY_COSTS, _gold(day, 10.0), day)
    empty_flows = pl.DataFrame(schema={c: pl.String for c in ("internal_addr",)})
    rules = AnomalyRules()

    def check(day: date) -> dg.AssetCheckResult:
        return _anomaly_check(
            store, day, _gold(day, 10.0), empty_flows, pl.DataFrame(), rules, 2**30, start
        )

    partial = check(DAY)
    assert partial.passed
    meta = {k: v.value if hasattr(v, "value") else v for k, v in partial.metadata.items()}
    assert meta["history_days_held"] == 8 and meta["history_days_missing"] == 2
    assert meta["history_days_before_start"] == 4
    assert meta["history_missing_dates"] == "2026-11-15, 2026-11-17"
    assert meta["teams_judged"] == 1  # 8 held days: enough to judge, on part of the window
    assert partial.description.startswith("judged on a partial window: 8 of 14 days held")
    assert "2026-11-15, 2026-11-17" in partial.description
    # Once the two days are written, the same day is judged on its whole window, silently.
    for n in (3, 5):
        day = DAY - timedelta(days=n)
        store.write_day(tables.TEAM_DAILY_COSTS, _gold(day, 10.0), day)
    whole = check(DAY)
    assert whole.metadata["history_days_held"].value == 10
    assert whole.metadata["history_days_missing"].value == 0
    assert whole.metadata["history_missing_dates"].value == ""
    assert whole.description is None


def test_daily_spend_sums_a_teams_gold_rows():
    gold = pl.DataFrame(
        {
            "usage_date": [DAY, DAY, DAY],
            "team": ["a", "a", "b"],
            "total_usd": [1.0, 2.0, 4.0],
            "bytes": [10, 20, 40],
        }
    )
    assert daily_spend(gold).to_dicts() == [
        {"usage_date": DAY, "team": "a", "total_usd": 3.0, "bytes": 30},
        {"usage_date": DAY, "team": "b", "total_usd": 4.0, "bytes": 40},
    ]


# -- what explains a jump ---------------------------------------------------------------------


def attribution(day: date) -> pl.DataFrame:
    rows = [
        ("internal", "10.0.0.1", "a", None, None, None),
        ("internal", "10.0.0.2", "b", None, None, None),
        ("external", "52.0.0.1", None, "S3", "us-east-1", "52.0.0.0/16"),
        ("external", "52.0.9.9", None, "S3", "us-east-1", "52.0.0.0/16"),
        ("external", "3.5.0.1", None, "S3", "us-east-1", "3.5.0.0/19"),
        ("external", "203.0.113.5", None, None, None, None),
    ]
    columns = ["side", "address", "team", "aws_service", "aws_region", "aws_prefix"]
    return pl.DataFrame(rows, schema=columns, orient="row").with_columns(usage_date=pl.lit(day))


def flows(day: date, pairs: list[tuple[str, str, int]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "usage_date": [day] * len(pairs),
            "internal_addr": [p[0] for p in pairs],
            "external_addr": [p[1] for p in pairs],
            "bytes": [p[2] for p in pairs],
        }
    ).cast({"bytes": pl.Int64})


def test_a_destination_is_the_aws_prefix_or_the_internet_address():
    day_flows = flows(
        DAY,
        [
            ("10.0.0.1", "52.0.0.1", 100),
            ("10.0.0.1", "52.0.9.9", 50),  # another address of the same S3 prefix
            ("10.0.0.1", "203.0.113.5", 7),
            ("10.0.0.2", "3.5.0.1", 1000),  # team b: dropped
        ],
    )
    out = team_destinations(day_flows, attribution(DAY), ["a"]).collect().sort("destination")
    assert out.select("team", "destination", "owner", "bytes").rows() == [
        ("a", "203.0.113.5", "internet", 7),
        ("a", "52.0.0.0/16", "S3 (us-east-1)", 150),
    ]


def test_a_jump_to_a_prefix_the_team_never_reached_is_a_new_destination():
    window_days = [DAY - timedelta(days=n) for n in range(1, 8)]
    window = pl.concat(
        [
            team_destinations(
                flows(d, [("10.0.0.1", "52.0.0.1", 2**30)]), attribution(d), ["a"]
            ).collect()
            for d in window_days
        ]
    )
    history = spend("a", [1.0] * 7)
    rules = AnomalyRules(min_jump_usd=1.0)
    new = flows(DAY, [("10.0.0.1", "52.0.0.1", 2**30), ("10.0.0.1", "3.5.0.1", 20 * 2**30)])
    same = flows(DAY, [("10.0.0.1", "52.0.9.9", 21 * 2**30)])  # a new address, a known prefix
    for today_flows, kind in ((new, NEW_DESTINATION), (same, MORE_OF_THE_SAME)):
        today = team_destinations(today_flows, attribution(DAY), ["a"]).collect()
        assessed = assess(
            pl.DataFrame(
                {"usage_date": [DAY], "team": ["a"], "total_usd": [21.0], "bytes": [21 * 2**30]}
            ),
            trailing_history(history, DAY, 14),
            rules,
        )
        (finding,) = findings(assessed, today, window, rules)
        assert finding.team == "a" and finding.kind == kind
        top = finding.talkers.row(0, named=True)
        assert top["usual_bytes"] == (0 if kind == NEW_DESTINATION else 2**30)
        if kind == NEW_DESTINATION:
            assert finding.new_destinations.rows() == [("3.5.0.0/19", "S3 (us-east-1)", 20 * 2**30)]
            assert top["destination"] == "3.5.0.0/19" and top["new"]
        else:
            assert finding.new_destinations.is_empty() and not top["new"]


def test_new_destinations_must_carry_half_the_extra_bytes():
    assert kind_of(extra_bytes=100, new_bytes=50) == NEW_DESTINATION
    assert kind_of(extra_bytes=100, new_bytes=49) == MORE_OF_THE_SAME
    assert kind_of(extra_bytes=0, new_bytes=10) == MORE_OF_THE_SAME  # only the hourly share moved


# -- end to end: generated days with a planted spike ------------------------------------------

FIRST_DAY = date(2026, 11, 1)
DAYS = 16
SPIKE_DAY = FIRST_DAY + timedelta(days=14)  # the spike runs on the last two days
#: From the 8th day every team has min_history_days (7) of history: 2026-11-08 .. 11-14 are the
#: seven quiet days judged before the spike.
FIRST_JUDGED = FIRST_DAY + timedelta(days=7)
SPIKE_TEAM = "ml-training"
CONNECTIONS_PER_DAY = 150
SEED = 11


@dataclass(frozen=True)
class Run:
    truth: dict
    checks: dict[str, dg.AssetCheckEvaluation]  # day -> cost_anomalies
    warehouse: WarehouseResource


@pytest.fixture(scope="module")
def spiked(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """16 generated days, ml-training pulling from new S3 prefixes on the last two, materialized
    one day at a time (only the assets the gold table needs; ip-ranges once)."""
    root = tmp_path_factory.mktemp("spiked")
    truth = generate(
        root / "generated",
        DEFAULT_IP_RANGES,
        FIRST_DAY,
        DAYS,
        CONNECTIONS_PER_DAY,
        SEED,
        spike=Spike(SPIKE_TEAM, SPIKE_DAY),
    )
    warehouse = WarehouseResource(uri=str(root / "warehouse"))
    resources = {
        "warehouse": warehouse,
        "flow_logs": FlowLogSource(uri=str(root / "generated" / "flowlogs")),
        "ipam": IpamSource(export_path=str(root / "generated" / "ipam" / "netbox-export.json")),
        "ip_ranges": IpRangesSource(url=str(DEFAULT_IP_RANGES)),
        "pricing": PricingResource(),
        "cost_checks": CostChecksResource(),
    }
    daily = [nat_flows, ipam_prefixes, address_attribution, team_daily_costs]
    checks = {}
    with warnings.catch_warnings(), dg.instance_for_test() as instance:
        warnings.simplefilter("ignore", dg.BetaWarning)
        for n in range(DAYS):
            day = (FIRST_DAY + timedelta(days=n)).isoformat()
            result = dg.materialize(
                [aws_ip_ranges, *daily] if n == 0 else daily,
                partition_key=day,
                resources=resources,
                instance=instance,
            )
            assert result.success  # a WARN never fails the day
            (checks[day],) = (
                e for e in result.get_asset_check_evaluations() if e.check_name == "cost_anomalies"
            )
    return Run(truth, checks, warehouse)


def test_the_quiet_days_raise_nothing_and_the_judged_ones_were_judged(spiked: Run):
    quiet = {d: e for d, e in spiked.checks.items() if d < SPIKE_DAY.isoformat()}
    assert len(quiet) == 14
    assert all(e.passed and e.metadata["anomalous_teams"].value == 0 for e in quiet.values())
    assert all(e.severity == dg.AssetCheckSeverity.WARN for e in spiked.checks.values())
    # A quiet week: from the 8th day every team has 7 days of history and is judged.
    for day, evaluation in quiet.items():
        judged_teams = evaluation.metadata["teams_judged"].value
        teams = evaluation.metadata["teams"].value
        assert judged_teams == (0 if day < FIRST_JUDGED.isoformat() else teams), day
    judged_days = [
        d
        for d, e in quiet.items()
        if e.metadata["teams_judged"].value == 8  # 7 teams, unattributed
    ]
    assert judged_days == [(FIRST_JUDGED + timedelta(days=n)).isoformat() for n in range(7)]
    # Materialized one day after the other: every day's window was whole (days before the
    # pipeline's first day are not missing), so no check says it judged on part of it.
    for n, evaluation in enumerate(spiked.checks.values()):
        held = min(n, 14)
        assert evaluation.metadata["history_days_held"].value == held
        assert evaluation.metadata["history_days_before_start"].value == 14 - held
        assert evaluation.metadata["history_days_missing"].value == 0
        assert "partial window" not in (evaluation.description or "")


def test_the_spike_day_names_exactly_the_team_and_a_new_s3_destination(spiked: Run):
    evaluation = spiked.checks[SPIKE_DAY.isoformat()]
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
    (finding,) = evaluation.metadata["findings"].value
    assert finding["team"] == SPIKE_TEAM
    assert finding["kind"] == NEW_DESTINATION == spiked.truth["spike"]["kind"]
    assert finding["jump_usd"] > finding["threshold_usd"] >= 1.0
    assert finding["today_usd"] > 10 * finding["median_usd"]
    planted = {d["aws_prefix"] for d in spiked.truth["spike"]["destinations"]}
    named = {d["destination"]: d["owner"] for d in finding["new_destinations"]}
    assert planted <= set(named)
    assert {named[p] for p in planted} == {"S3 (us-east-1)"}
    assert all(t["new"] and t["destination"] in planted for t in finding["top_talkers"])
    # Nearly all of the day's extra bytes went to the new prefixes.
    assert finding["new_destination_gb"] > 0.95 * finding["extra_gb"]
    table = evaluation.metadata["anomalies"].value
    assert SPIKE_TEAM in table and "new destination" in table and "S3 (us-east-1)" in table


def test_the_second_day_is_still_anomalous_but_no_longer_new(spiked: Run):
    """The window now holds the spike's first day: the same prefixes, more of the same."""
    evaluation = spiked.checks[(SPIKE_DAY + timedelta(days=1)).isoformat()]
    (finding,) = evaluation.metadata["findings"].value
    assert not evaluation.passed and finding["team"] == SPIKE_TEAM
    assert finding["kind"] == MORE_OF_THE_SAME and finding["new_destinations"] == []


def test_the_planted_bytes_are_in_the_ground_truth_and_the_gold_table(spiked: Run):
    spike = spiked.truth["spike"]
    assert sorted(spike["bytes_by_day"]) == [
        SPIKE_DAY.isoformat(),
        (SPIKE_DAY + timedelta(days=1)).isoformat(),
    ]
    for day, planted in spike["bytes_by_day"].items():
        truth = sum(
            r["bytes"] for r in spiked.truth["days"][day]["by_team"] if r["team"] == SPIKE_TEAM
        )
        gold = spiked.warehouse.get().read_day(tables.TEAM_DAILY_COSTS, date.fromisoformat(day))
        assert int(gold.filter(pl.col("team") == SPIKE_TEAM)["bytes"].sum()) == truth > planted


def test_the_spike_leaves_the_days_before_it_unchanged(tmp_path: Path):
    """The spike draws from its own random generator: every delivery before it is the same."""
    first, days, spike_day = date(2026, 11, 1), 3, date(2026, 11, 3)
    generate(tmp_path / "off", DEFAULT_IP_RANGES, first, days, 50, SEED)
    generate(
        tmp_path / "on", DEFAULT_IP_RANGES, first, days, 50, SEED, spike=Spike("search", spike_day)
    )
    files = sorted(p.relative_to(tmp_path / "off") for p in (tmp_path / "off").rglob("*.gz"))
    assert files == sorted(p.relative_to(tmp_path / "on") for p in (tmp_path / "on").rglob("*.gz"))
    # A delivery is named by the end of its window + 5 minutes: up to 00:05 holds no spike record.
    before = [p for p in files if p.name.split("_")[4] <= f"{spike_day:%Y%m%d}T0005Z"]
    after = [p for p in files if p not in before]
    assert before and after
    assert all(
        filecmp.cmp(tmp_path / "off" / p, tmp_path / "on" / p, shallow=False) for p in before
    )
    assert not all(
        filecmp.cmp(tmp_path / "off" / p, tmp_path / "on" / p, shallow=False) for p in after
    )
