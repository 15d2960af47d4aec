"""Per-team spend anomalies in the gold table: a team whose day costs far more than its own recent
days, and the talkers that explain the jump. Plain functions on frames, kept apart from Dagster
so each rule can be tested on a few hand-made rows (the check is wired in ``assets/costs.py``).

Why a robust band: a team's daily NAT cost is heavy-tailed (one bulk download can double a quiet
day), so a mean and a standard deviation are dragged by the very days they should flag. The
median and the median absolute deviation (MAD) of the team's trailing days tolerate up to half of
them being odd; 1.4826 x MAD estimates the standard deviation of normally distributed days, so
``k`` reads as "k sigmas". A jump must also clear two floors: an absolute amount (a team going
from 2 cents to 40 is 20x but nobody's problem) and a share of the median (a steady $1,000-a-day
team has a tiny MAD, and +3% is not an anomaly). A team's history is a MAD of zero when every day
cost the same; the floors then decide alone.

Why the day must also beat the team's p90 day: median and MAD describe a team's *usual* day, and
for a bursty or sparse team the usual day is $0. A weekly batch team ($50 twice a week, $0 the
other days) has a median and a MAD of 0 over its window, so the band collapses to the $1 floor and
every batch day is a "jump" it makes every week. A day is news only when it is above what the team
itself already does on its busy days, so the jump must also exceed ``p90 - median``, with the p90
(nearest rank) of the team's days in the window: today must cost more than its p90 day.

The p90 and not the maximum: one spike in the window would raise the maximum to the spike, and a
spike that goes on would hide itself the next day and for the whole window after (the weakness a
mean and a standard deviation have, which the MAD was chosen to avoid). With 7 days of history or
more the nearest-rank p90 is never the single highest day (7 to 16 days: the second highest), so
one odd day never raises the bar, while anything the team did on two days of the window (a batch
that runs at least twice in the window) is its normal. A team busy on fewer than one day in ten
(once a fortnight in a 14-day window) is still flagged on its busy days: to the band those are
spikes, and the window is what decides what "usual" means.

Only jumps up alert: a drop saves money or means lost data, and lost data is what
``rows_accounted_for``, ``nat_interfaces_complete`` and the Cost Explorer reconciliation catch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from natflow_pipeline.enrichment import EXTERNAL_SIDE, INTERNAL_SIDE
from natflow_pipeline.top_talkers import external_owner

#: 1.4826 x MAD is the standard deviation of normally distributed values (1 / Phi^-1(3/4)).
MAD_TO_SIGMA = 1.4826
NEW_DESTINATION, MORE_OF_THE_SAME = "new destination", "more of the same"
#: New destinations explain a jump when they carry at least this share of the day's extra bytes.
NEW_SHARE_OF_JUMP = 0.5
#: A day alerts only above this quantile (nearest rank) of the team's days in the window.
UPPER_QUANTILE = 0.9

SPEND_SCHEMA: dict[str, pl.DataType] = {
    "usage_date": pl.Date,
    "team": pl.String,
    "total_usd": pl.Float64,
    "bytes": pl.Int64,
}
#: What :func:`team_destinations` reads from nat_flows.
FLOW_COLUMNS: tuple[str, ...] = ("usage_date", "internal_addr", "external_addr", "bytes")
DESTINATION_SCHEMA: dict[str, pl.DataType] = {
    "usage_date": pl.Date,
    "team": pl.String,
    "internal_addr": pl.String,
    "destination": pl.String,
    "owner": pl.String,
    "bytes": pl.Int64,
}


@dataclass(frozen=True)
class AnomalyRules:
    """When a team's day is an anomaly (``CostChecksResource``'s ``anomaly_*`` settings)."""

    #: Trailing days before the checked day that form the team's band (the day itself is left
    #: out, so a spike cannot widen its own band).
    window_days: int = 14
    #: A team with fewer days than this in the window is not judged (its first days).
    min_history_days: int = 7
    #: The band's half-width in robust sigmas (k x 1.4826 x MAD).
    k: float = 4.0
    #: A jump below this many USD never alerts.
    min_jump_usd: float = 1.0
    #: A jump below this fraction of the team's median never alerts (0.5: +50%).
    min_jump_ratio: float = 0.5
    #: Talkers listed per anomalous team.
    top_talkers: int = 5

    def __post_init__(self) -> None:
        if self.window_days < 1 or self.min_history_days < 1:
            raise ValueError("anomaly window and minimum history must be at least 1 day")
        if self.min_history_days > self.window_days:
            raise ValueError(
                f"anomaly_min_history_days ({self.min_history_days}) cannot exceed "
                f"anomaly_window_days ({self.window_days}): no team would ever be judged"
            )
        if self.k <= 0 or self.min_jump_usd < 0 or self.min_jump_ratio < 0 or self.top_talkers < 1:
            raise ValueError(
                "anomaly k must be positive, the floors non-negative, top_talkers >= 1"
            )


def daily_spend(costs: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Total USD and bytes per day and team, from gold rows: the team's day is what is judged,
    whatever account, direction or destination class the cost sits in."""
    return (
        costs.lazy()
        .group_by("usage_date", "team")
        .agg(pl.col("total_usd").sum(), pl.col("bytes").sum())
        .select(list(SPEND_SCHEMA))
        .cast(SPEND_SCHEMA)
        .sort("usage_date", "team")
        .collect()
    )


def trailing_history(spend: pl.DataFrame, day: date, window_days: int) -> pl.DataFrame:
    """Each team's spend on the days of ``[day - window_days, day)`` the table holds, from the
    team's first day there on, with 0 on a held day the team is absent from.

    Only days the table holds count: a day not materialized says nothing. Before its first day a
    team did not exist yet, so those days are not $0 days (they would make every new team's
    first day a jump); after it, a day without the team is one it sent nothing through the NAT.
    """
    first_day = day - timedelta(days=window_days)
    window = spend.filter((pl.col("usage_date") >= first_day) & (pl.col("usage_date") < day))
    held = window.select("usage_date").unique()
    first = window.group_by("team").agg(pl.col("usage_date").min().alias("_first"))
    return (
        first.join(held, how="cross")
        .filter(pl.col("usage_date") >= pl.col("_first"))
        .join(window, on=["team", "usage_date"], how="left")
        .with_columns(pl.col("total_usd").fill_null(0.0), pl.col("bytes").fill_null(0))
        .select(list(SPEND_SCHEMA))
        .cast(SPEND_SCHEMA)
        .sort("team", "usage_date")
    )


@dataclass(frozen=True)
class Coverage:
    """Which days of a checked day's window the gold table held when the check ran."""

    #: The window's days the table holds, oldest first.
    held: list[date]
    #: The window's days on or after the pipeline's first day that the table does not hold (yet:
    #: a backfill runs days concurrently, so a day can be checked before the days before it).
    missing: list[date]
    #: The window's days before the pipeline's first day (never materialized, not missing).
    before_start: int

    @property
    def complete(self) -> bool:
        return not self.missing


def window_coverage(
    spend: pl.DataFrame, day: date, window_days: int, start: date | None = None
) -> Coverage:
    """The days of ``[day - window_days, day)`` that ``spend`` (:func:`daily_spend` rows) holds,
    and those it lacks: ``missing`` from ``start`` (the first partition) on, ``before_start``
    before it."""
    window = [day - timedelta(days=n) for n in range(window_days, 0, -1)]
    present = set(spend["usage_date"].to_list())
    held = [d for d in window if d in present]
    absent = [d for d in window if d not in present]
    missing = [d for d in absent if start is None or d >= start]
    return Coverage(held=held, missing=missing, before_start=len(absent) - len(missing))


def bands(history: pl.DataFrame, rules: AnomalyRules) -> pl.DataFrame:
    """Per team: days of history, median, MAD and p90 (nearest rank) of its daily USD, median
    bytes, and the jump above the median that alerts: the widest of the MAD band, the two floors
    and the p90 day's distance to the median (the module's docstring says why each)."""
    mad = (pl.col("total_usd") - pl.col("total_usd").median()).abs().median()
    return (
        history.group_by("team")
        .agg(
            pl.len().cast(pl.Int64).alias("history_days"),
            pl.col("total_usd").median().alias("median_usd"),
            mad.alias("mad_usd"),
            pl.col("total_usd").quantile(UPPER_QUANTILE, "nearest").alias("p90_usd"),
            pl.col("bytes").median().alias("median_bytes"),
        )
        .with_columns(
            pl.max_horizontal(
                rules.k * MAD_TO_SIGMA * pl.col("mad_usd"),
                pl.lit(rules.min_jump_usd),
                rules.min_jump_ratio * pl.col("median_usd"),
                pl.col("p90_usd") - pl.col("median_usd"),
            ).alias("threshold_usd")
        )
        .sort("team")
    )


def assess(today: pl.DataFrame, history: pl.DataFrame, rules: AnomalyRules) -> pl.DataFrame:
    """Every team of the day (``today``: :func:`daily_spend` of one day) against its band: the
    jump over its median and whether it is an anomaly. A team without enough history (new, or
    the pipeline's first days) is listed with ``anomalous`` false, never judged. Largest jump
    first."""
    return (
        today.join(bands(history, rules), on="team", how="left")
        .with_columns(pl.col("history_days").fill_null(0))
        .with_columns((pl.col("total_usd") - pl.col("median_usd")).alias("jump_usd"))
        .with_columns(
            (
                (pl.col("history_days") >= rules.min_history_days)
                & (pl.col("jump_usd") > pl.col("threshold_usd"))
            )
            .fill_null(False)
            .alias("anomalous")
        )
        .sort("jump_usd", "team", descending=[True, False], nulls_last=True)
    )


def destination() -> pl.Expr:
    """What "a destination" is: the ip-ranges prefix for AWS, the address for the internet.

    Not the service: every team already talks to S3 in its region, and a team that starts pulling
    from buckets it never used shows as S3 prefixes it never reached. Not the address for AWS:
    AWS endpoints answer from many addresses of a prefix, so a new address in a known prefix is
    more of the same."""
    return pl.coalesce(pl.col("aws_prefix"), pl.col("external_addr"))


def team_destinations(
    flows: pl.DataFrame | pl.LazyFrame,
    attribution: pl.DataFrame | pl.LazyFrame,
    teams: Sequence[str],
) -> pl.LazyFrame:
    """Bytes (both directions) per day, team, internal address and destination of ``teams``.

    ``flows``: nat_flows rows (:data:`FLOW_COLUMNS`), any number of days; ``attribution``: the
    address_attribution rows of the same days, joined per day (the IPAM may differ from day to
    day). Rows of other teams are dropped by the first join, before anything is summed."""
    ours = (
        attribution.lazy()
        .filter((pl.col("side") == INTERNAL_SIDE) & pl.col("team").is_in(list(teams)))
        .select("usage_date", pl.col("address").alias("internal_addr"), "team")
    )
    services = (
        attribution.lazy()
        .filter(pl.col("side") == EXTERNAL_SIDE)
        .select(
            "usage_date",
            pl.col("address").alias("external_addr"),
            "aws_service",
            "aws_region",
            "aws_prefix",
        )
    )
    return (
        flows.lazy()
        .select(list(FLOW_COLUMNS))
        .join(ours, on=["usage_date", "internal_addr"], how="inner")
        .join(services, on=["usage_date", "external_addr"], how="left")
        .with_columns(destination().alias("destination"), external_owner().alias("owner"))
        .group_by("usage_date", "team", "internal_addr", "destination", "owner")
        .agg(pl.col("bytes").sum())
        .select(list(DESTINATION_SCHEMA))
        .cast(DESTINATION_SCHEMA)
    )


def talkers(
    today: pl.DataFrame, window: pl.DataFrame, history_days: pl.DataFrame, top: int
) -> pl.DataFrame:
    """The ``top`` talkers (internal address x destination) per team that grew most over their
    usual day, each marked ``new`` when the team reached no such destination in the window.

    ``today`` and ``window``: :func:`team_destinations` of the day and of the window;
    ``history_days``: ``team``, ``history_days`` (a talker's usual day is its window bytes over
    the team's days of history, 0 where it was silent)."""
    seen = window.select("team", "destination").unique().with_columns(pl.lit(False).alias("new"))
    usual = window.group_by("team", "internal_addr", "destination").agg(
        pl.col("bytes").sum().alias("_window_bytes")
    )
    pairs = today.group_by("team", "internal_addr", "destination", "owner").agg(
        pl.col("bytes").sum().alias("today_bytes")
    )
    return (
        pairs.join(usual, on=["team", "internal_addr", "destination"], how="left")
        .join(history_days, on="team", how="left")
        .join(seen, on=["team", "destination"], how="left")
        .with_columns(
            pl.col("new").fill_null(True),
            (pl.col("_window_bytes").fill_null(0) / pl.col("history_days").clip(1)).alias(
                "usual_bytes"
            ),
        )
        .with_columns((pl.col("today_bytes") - pl.col("usual_bytes")).alias("extra_bytes"))
        .sort(
            ["team", "extra_bytes", "internal_addr", "destination"],
            descending=[False, True, False, False],
        )
        .group_by("team", maintain_order=True)
        .head(top)
        .select(
            "team",
            "internal_addr",
            "destination",
            "owner",
            "new",
            "today_bytes",
            "usual_bytes",
            "extra_bytes",
        )
    )


def new_destinations(today: pl.DataFrame, window: pl.DataFrame) -> pl.DataFrame:
    """Per team, the day's destinations it reached on no day of the window, with their bytes
    (largest first)."""
    seen = window.select("team", "destination").unique()
    return (
        today.join(seen, on=["team", "destination"], how="anti")
        .group_by("team", "destination", "owner")
        .agg(pl.col("bytes").sum())
        .sort(["team", "bytes", "destination"], descending=[False, True, False])
    )


@dataclass(frozen=True)
class Finding:
    """One anomalous team of the day and what explains it."""

    team: str
    today_usd: float
    median_usd: float
    jump_usd: float
    threshold_usd: float
    mad_usd: float
    #: The team's p90 day in the window (the day must cost more than it).
    p90_usd: float
    history_days: int
    #: NEW_DESTINATION or MORE_OF_THE_SAME.
    kind: str
    #: The day's bytes above the team's median day, and the part going to new destinations.
    extra_bytes: int
    new_destination_bytes: int
    #: ``destination``, ``owner``, ``bytes`` of the destinations new to the team, largest first.
    new_destinations: pl.DataFrame
    #: :func:`talkers` of the team.
    talkers: pl.DataFrame


def kind_of(extra_bytes: int, new_bytes: int) -> str:
    """A jump is a new destination when destinations new to the team carry at least half of the
    day's extra bytes; otherwise it is more of the same (known destinations, more bytes). A day
    whose extra cost is no extra bytes (the gateway's hourly share moved) is more of the same."""
    if extra_bytes > 0 and new_bytes >= NEW_SHARE_OF_JUMP * extra_bytes:
        return NEW_DESTINATION
    return MORE_OF_THE_SAME


def findings(
    assessed: pl.DataFrame,
    today: pl.DataFrame,
    window: pl.DataFrame,
    rules: AnomalyRules,
) -> list[Finding]:
    """Each anomalous team of :func:`assess` with its talkers, its new destinations and the kind
    of its jump. ``today``/``window``: :func:`team_destinations` of (at least) those teams."""
    flagged = assessed.filter(pl.col("anomalous"))
    ranked = talkers(today, window, flagged.select("team", "history_days"), rules.top_talkers)
    fresh = new_destinations(today, window)
    out = []
    for row in flagged.iter_rows(named=True):
        team = row["team"]
        team_new = fresh.filter(pl.col("team") == team).drop("team")
        extra = int(row["bytes"] - (row["median_bytes"] or 0))
        new_bytes = int(team_new["bytes"].sum() or 0)
        out.append(
            Finding(
                team=team,
                today_usd=float(row["total_usd"]),
                median_usd=float(row["median_usd"]),
                jump_usd=float(row["jump_usd"]),
                threshold_usd=float(row["threshold_usd"]),
                mad_usd=float(row["mad_usd"]),
                p90_usd=float(row["p90_usd"]),
                history_days=int(row["history_days"]),
                kind=kind_of(extra, new_bytes),
                extra_bytes=extra,
                new_destination_bytes=new_bytes,
                new_destinations=team_new,
                talkers=ranked.filter(pl.col("team") == team).drop("team"),
            )
        )
    return out
