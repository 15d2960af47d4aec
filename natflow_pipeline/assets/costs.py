"""The gold table: NAT cost per day, team, account, region, direction and destination class."""

import time
from datetime import date, timedelta

import dagster as dg
import polars as pl

from natflow_pipeline import anomalies, tables
from natflow_pipeline.assets.daily import (
    daily_table_asset,
    partition_day,
    rows_per_second,
    write_day,
)
from natflow_pipeline.assets.metadata import gb, markdown_table, pct, usd
from natflow_pipeline.cost_checks import attribution, completeness, row_accounting
from natflow_pipeline.costs import NAT_COLUMNS, aggregate_attributed, price
from natflow_pipeline.enrichment import internal_matches
from natflow_pipeline.ipam import UNATTRIBUTED
from natflow_pipeline.resources.cost_checks import CostChecksResource
from natflow_pipeline.resources.pricing import PricingResource
from natflow_pipeline.resources.warehouse import WarehouseResource
from natflow_pipeline.warehouse import Warehouse

#: A day's gold table is due by 06:00 UTC the next day (the schedule runs at 02:00); a day not
#: there 30 hours after it began shows as overdue in the UI.
DAILY_FRESHNESS = dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=30))


@daily_table_asset(
    tables.TEAM_DAILY_COSTS,
    deps=[tables.NAT_FLOWS.name, tables.FLOW_LOG_FILES.name, tables.ADDRESS_ATTRIBUTION.name],
    group_name="costs",
    freshness_policy=DAILY_FRESHNESS,
    check_specs=[
        dg.AssetCheckSpec(
            "rows_accounted_for",
            asset=tables.TEAM_DAILY_COSTS.name,
            blocking=True,
            description="The day's flow log rows read = kept + filtered + rejected, and every kept "
            "row is costed.",
        ),
        dg.AssetCheckSpec(
            "nat_interfaces_complete",
            asset=tables.TEAM_DAILY_COSTS.name,
            blocking=True,
            description="Every NAT interface seen in the last days has NAT records in every UTC "
            "hour of the day.",
        ),
        dg.AssetCheckSpec(
            "unattributed_share",
            asset=tables.TEAM_DAILY_COSTS.name,
            description="Share of the day's NAT bytes with team 'unattributed' is below the "
            "threshold (WARN).",
        ),
        dg.AssetCheckSpec(
            "cost_anomalies",
            asset=tables.TEAM_DAILY_COSTS.name,
            description="No team's day costs more than a robust band (median + k x 1.4826 x MAD) "
            "of its own recent days; metadata names each team, its jump, the talkers behind it "
            "and whether it is a new destination (WARN).",
        ),
    ],
)
def team_daily_costs(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    pricing: PricingResource,
    cost_checks: CostChecksResource,
) -> dg.MaterializeResult:
    """Per-team NAT cost per UTC day: bytes, billed GB, data processing, the gateway's hourly
    charge shared by bytes, and total. Its core columns are a contract (docs/tables.md)."""
    day = partition_day(context)
    # The anomaly settings are checked before anything is read or written (the resource's
    # validators refuse them when it is built; this is the last line of defence).
    rules = cost_checks.anomaly_rules()
    store = warehouse.get()
    started = time.perf_counter()
    flows = store.read_day(tables.NAT_FLOWS, day, columns=list(NAT_COLUMNS))
    day_attribution = store.read_day(tables.ADDRESS_ATTRIBUTION, day)
    book = pricing.price_book()
    # aggregate(attach(flows, attribution)) without materialising the row-level join.
    costs = price(
        aggregate_attributed(flows, day_attribution),
        book,
        pricing.hourly_allocation,
        pricing.gateway_hours,
    )
    # NAT rows of the day costed per second (reading them and the attribution, joining, pricing).
    throughput = rows_per_second(flows.height, started)
    write = write_day(store, tables.TEAM_DAILY_COSTS, day, costs)
    by_team = (
        costs.group_by("team")
        .agg(pl.col("bytes").sum(), pl.col("gb").sum(), pl.col("total_usd").sum())
        .sort("total_usd", "team", descending=[True, False])
    )
    total_bytes = int(costs["bytes"].sum() or 0)
    unattributed = costs.filter(pl.col("team") == UNATTRIBUTED)
    # Every numeric entry is present with the same type on every partition (0 on an empty day),
    # so the UI can plot it over time; amounts are rounded as a person writes them.
    return dg.MaterializeResult(
        metadata={
            **write,
            "rows": costs.height,
            "bytes": total_bytes,
            "gb": gb(costs["gb"].sum()),
            "data_processing_usd": usd(costs["data_processing_usd"].sum()),
            "hourly_usd": usd(costs["hourly_usd"].sum()),
            "total_usd": usd(costs["total_usd"].sum()),
            "teams": by_team.height,
            "unattributed_bytes_pct": pct(int(unattributed["bytes"].sum() or 0), total_bytes),
            "unattributed_usd": usd(unattributed["total_usd"].sum()),
            "billing_gb_bytes": pricing.billing_gb_bytes,
            "gateway_hours_rule": pricing.gateway_hours,
            "prices_used": dg.MetadataValue.json(
                {
                    region: {
                        "usd_per_gb": book.per_gb(region),
                        "usd_per_hour": book.per_hour(region),
                        "source": book.provenance(region),
                    }
                    for region in sorted(set(costs["region"].drop_nulls()))
                }
            ),
            "top_teams": dg.MetadataValue.md(markdown_table(by_team.head(10))),
            "rows_per_second": throughput,
        },
        check_results=[
            *_checks(store, day, by_internal_address(flows, day_attribution), costs, cost_checks),
            _anomaly_check(
                store,
                day,
                costs,
                flows,
                day_attribution,
                rules,
                pricing.billing_gb_bytes,
                first_partition_day(context),
            ),
        ],
    )


def first_partition_day(context: dg.AssetExecutionContext) -> date | None:
    """The first day of the asset's daily partitions (days before it are never materialized)."""
    start = getattr(context.assets_def.partitions_def, "start", None)
    return start.date() if start is not None else None


def by_internal_address(flows: pl.DataFrame, day_attribution: pl.DataFrame) -> pl.DataFrame:
    """The day's bytes and flows per internal address with its team: what the attribution check
    reads, a few thousand rows instead of every NAT row."""
    return (
        flows.lazy()
        .group_by("internal_addr")
        .agg(pl.col("bytes").sum().cast(pl.Int64), pl.len().cast(pl.Int64).alias("flows"))
        .join(
            internal_matches(day_attribution).select("internal_addr", "team"),
            on="internal_addr",
            how="left",
        )
        .with_columns(pl.col("team").fill_null(UNATTRIBUTED))
        .collect()
    )


def _checks(
    store: Warehouse,
    day: date,
    per_address: pl.DataFrame,
    costs: pl.DataFrame,
    settings: CostChecksResource,
) -> list[dg.AssetCheckResult]:
    """The gold table's checks for the partition being written (in-asset: Dagster 1.13's
    partitioned standalone checks are a preview, and these need the frames already in hand)."""
    files = store.read_day(tables.FLOW_LOG_FILES, day)
    rows = row_accounting(files, costs)
    first = day - timedelta(days=settings.completeness_lookback_days)
    recent = (
        store.scan(tables.NAT_FLOWS.name)
        .filter(pl.col(tables.DAY_COLUMN).is_between(first, day))
        .select(tables.DAY_COLUMN, "account_id", "region", "interface_id", "start")
        .collect()
    )
    complete = completeness(day, recent)
    attributed = attribution(per_address)
    return [
        dg.AssetCheckResult(
            check_name="rows_accounted_for",
            passed=rows.passed,
            metadata={
                "rows_read": rows.rows_read,
                "rows_kept": rows.rows_kept,
                "rows_filtered": rows.rows_filtered,
                "rows_rejected": rows.rows_rejected,
                "flows_costed": rows.flows_costed,
                "files": files.height,
            },
            description="rows read = kept + filtered + rejected; flows costed = rows kept",
        ),
        dg.AssetCheckResult(
            check_name="nat_interfaces_complete",
            passed=complete.passed,
            severity=dg.AssetCheckSeverity.ERROR
            if settings.completeness_required
            else dg.AssetCheckSeverity.WARN,
            metadata={
                "interfaces": complete.interfaces,
                "interfaces_with_gaps": complete.gaps.height,
                "lookback_days": settings.completeness_lookback_days,
                "gaps": dg.MetadataValue.md(
                    markdown_table(
                        complete.gaps.with_columns(
                            pl.col("missing_hours").cast(pl.List(pl.String)).list.join(",")
                        )
                    )
                ),
            },
        ),
        dg.AssetCheckResult(
            check_name="unattributed_share",
            passed=attributed.share <= settings.max_unattributed_share,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "unattributed_share": round(attributed.share, 6),
                "threshold": settings.max_unattributed_share,
                "unattributed_bytes": attributed.unattributed_bytes,
                "total_bytes": attributed.total_bytes,
                "top_unattributed_addresses": dg.MetadataValue.md(
                    markdown_table(attributed.top_unattributed)
                ),
            },
            description="add the top unattributed internal addresses (or their prefixes) to NetBox "
            "with a team",
        ),
    ]


def _anomaly_check(
    store: Warehouse,
    day: date,
    costs: pl.DataFrame,
    flows: pl.DataFrame,
    day_attribution: pl.DataFrame,
    rules: anomalies.AnomalyRules,
    gb_bytes: int,
    start: date | None = None,
) -> dg.AssetCheckResult:
    """Teams whose day jumps above their own recent days (``natflow_pipeline.anomalies``).

    The band reads the gold table's previous days (a few rows per team and day). The talkers
    behind a jump are computed from nat_flows and address_attribution, not read from the
    top_talkers table: that table is written by its own asset, which Dagster runs after (or
    beside) this one, so the day's rows are not there yet; and it keeps only the day's top N
    pairs over every team, so a team's usual destinations below the cut would look new. The day's
    NAT rows and attribution are already in memory here; the window's are read only when some
    team is anomalous (rare), four columns of them, and only those teams' rows are summed.

    The window is what the gold table holds when the check runs. A backfill runs days
    concurrently, so a day can be judged before some days of its window are written: those are
    left out of the band (never taken as $0), listed in ``history_missing_dates`` and counted in
    ``history_days_missing``, and the description says the day was judged on part of its window
    (re-materialize it once they are written for the full-window verdict). ``start``: the first
    partition; window days before it are ``history_days_before_start``, not missing.
    """
    first = day - timedelta(days=rules.window_days)
    recent = anomalies.daily_spend(
        store.scan(tables.TEAM_DAILY_COSTS.name)
        .filter(pl.col(tables.DAY_COLUMN).is_between(first, day - timedelta(days=1)))
        .select(tables.DAY_COLUMN, "team", "total_usd", "bytes")
    )
    assessed = anomalies.assess(
        anomalies.daily_spend(costs),
        anomalies.trailing_history(recent, day, rules.window_days),
        rules,
    )
    teams = assessed.filter(pl.col("anomalous"))["team"].to_list()
    found: list[anomalies.Finding] = []
    if teams:
        today = anomalies.team_destinations(flows, day_attribution, teams).collect()
        window = anomalies.team_destinations(
            _window(store, tables.NAT_FLOWS, first, day).select(anomalies.FLOW_COLUMNS),
            _window(store, tables.ADDRESS_ATTRIBUTION, first, day),
            teams,
        ).collect()
        found = anomalies.findings(assessed, today, window, rules)
    judged = assessed.filter(pl.col("history_days") >= rules.min_history_days)
    coverage = anomalies.window_coverage(recent, day, rules.window_days, start)
    return dg.AssetCheckResult(
        check_name="cost_anomalies",
        passed=not found,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "anomalous_teams": len(found),
            "teams": assessed.height,
            "teams_judged": judged.height,
            "teams_with_short_history": assessed.height - judged.height,
            "history_days_held": len(coverage.held),
            "history_days_missing": len(coverage.missing),
            "history_days_before_start": coverage.before_start,
            "history_missing_dates": ", ".join(d.isoformat() for d in coverage.missing),
            "window_days": rules.window_days,
            "min_history_days": rules.min_history_days,
            "k": rules.k,
            "min_jump_usd": rules.min_jump_usd,
            "min_jump_ratio": rules.min_jump_ratio,
            "anomalies": dg.MetadataValue.md(markdown_table(_anomaly_rows(found, gb_bytes))),
            "talkers": dg.MetadataValue.md(markdown_table(_talker_rows(found, gb_bytes))),
            "findings": dg.MetadataValue.json([_finding_json(f, gb_bytes) for f in found]),
        },
        description=_anomaly_description(found, coverage, rules.window_days),
    )


def _anomaly_description(
    found: list[anomalies.Finding], coverage: anomalies.Coverage, window_days: int
) -> str | None:
    """What to do about the findings, and whether the day was judged on part of its window."""
    parts = []
    if not coverage.complete:
        dates = ", ".join(d.isoformat() for d in coverage.missing)
        parts.append(
            f"judged on a partial window: {len(coverage.held)} of {window_days} days held, "
            f"{len(coverage.missing)} not materialized yet ({dates}); re-materialize this day "
            "after them for the full-window result"
        )
    if found:
        parts.append(
            "look at each team's top talkers: a new destination is a new dependency "
            "(an S3 bucket, an API); more of the same is more load"
        )
    return "; ".join(parts) or None


def _window(store: Warehouse, table: tables.Table, first: date, day: date) -> pl.LazyFrame:
    """A table's rows of ``[first, day)``; the partition filter prunes the other days' files."""
    return store.scan(table.name).filter(
        pl.col(tables.DAY_COLUMN).is_between(first, day - timedelta(days=1))
    )


def _anomaly_rows(found: list[anomalies.Finding], gb_bytes: int) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "team": f.team,
                "today_usd": usd(f.today_usd),
                "median_usd": usd(f.median_usd),
                "jump_usd": usd(f.jump_usd),
                "threshold_usd": usd(f.threshold_usd),
                "p90_usd": usd(f.p90_usd),
                "history_days": f.history_days,
                "kind": f.kind,
                "extra_gb": gb(f.extra_bytes / gb_bytes),
                "new_destinations": _destinations_text(f.new_destinations),
            }
            for f in found
        ]
    )


def _talker_rows(found: list[anomalies.Finding], gb_bytes: int) -> pl.DataFrame:
    frames = [
        f.talkers.select(
            pl.lit(f.team).alias("team"),
            "internal_addr",
            "destination",
            "owner",
            "new",
            (pl.col("today_bytes") / gb_bytes).round(3).alias("today_gb"),
            (pl.col("usual_bytes") / gb_bytes).round(3).alias("usual_gb_per_day"),
            (pl.col("extra_bytes") / gb_bytes).round(3).alias("extra_gb"),
        )
        for f in found
    ]
    return pl.concat(frames) if frames else pl.DataFrame()


def _destinations_text(new: pl.DataFrame, shown: int = 3) -> str:
    """``S3 (us-east-1) 3.5.0.0/19, ...``: the largest new destinations, as a reader scans them."""
    names = [f"{o} {d}" for d, o in new.head(shown).select("destination", "owner").iter_rows()]
    more = new.height - shown
    return ", ".join(names) + (f" (+{more} more)" if more > 0 else "")


def _finding_json(f: anomalies.Finding, gb_bytes: int) -> dict[str, object]:
    """One finding as the check's JSON metadata holds it (what a script or alert reads)."""
    return {
        "team": f.team,
        "kind": f.kind,
        "today_usd": usd(f.today_usd),
        "median_usd": usd(f.median_usd),
        "jump_usd": usd(f.jump_usd),
        "threshold_usd": usd(f.threshold_usd),
        "mad_usd": usd(f.mad_usd),
        "p90_usd": usd(f.p90_usd),
        "history_days": f.history_days,
        "extra_gb": gb(f.extra_bytes / gb_bytes),
        "new_destination_gb": gb(f.new_destination_bytes / gb_bytes),
        "new_destinations": [
            {"destination": d, "owner": o, "gb": gb(b / gb_bytes)}
            for d, o, b in f.new_destinations.iter_rows()
        ][:10],
        "top_talkers": [
            {
                "internal_addr": r["internal_addr"],
                "destination": r["destination"],
                "owner": r["owner"],
                "new": r["new"],
                "today_gb": gb(r["today_bytes"] / gb_bytes),
                "usual_gb_per_day": gb(r["usual_bytes"] / gb_bytes),
                "extra_gb": gb(r["extra_bytes"] / gb_bytes),
            }
            for r in f.talkers.iter_rows(named=True)
        ],
    }
