"""Attach the team (IPAM) of each NAT row's internal side and the AWS service of its external side.

Matching works on distinct addresses: a day has far fewer addresses than rows, so each address is
converted and matched once and the answer joined back to the rows.

A day's answer is stored as such (:func:`attribution_table`, the ``address_attribution`` table: one
row per distinct internal and external address) rather than as a second copy of every NAT row.
Re-attributing a day after an IPAM fix then rewrites thousands of rows, not millions, and a
consumer rebuilds the row-level view when it needs one with :func:`attach`, which gives exactly
what :func:`enrich` gives.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TypeVar

import polars as pl

from natflow_pipeline import aws_ip_ranges, ipam
from natflow_pipeline.addresses import address_keys, longest_prefix_match, unwrap_nat64

INTERNAL_SIDE, EXTERNAL_SIDE = "internal", "external"

AWS_SAME_REGION = "aws_same_region"
AWS_OTHER_REGION = "aws_other_region"
INTERNET = "internet"


def enrich(
    nat_flows: pl.DataFrame, ipam_intervals: pl.DataFrame, aws_intervals: pl.DataFrame
) -> pl.DataFrame:
    """``nat_flows`` plus team, source account, matched IPAM prefix, AWS service/region/prefix and
    destination class. Every input row comes out once; unmatched internal addresses get team
    ``unattributed``."""
    internal = _match(nat_flows["internal_addr"], ipam_intervals, list(ipam.MATCH_SCHEMA))
    external = _match(
        nat_flows["external_addr"], aws_intervals, list(aws_ip_ranges.MATCH_SCHEMA), nat64=True
    )
    enriched = (
        nat_flows.join(
            internal.rename({"addr": "internal_addr"}),
            on="internal_addr",
            how="left",
            maintain_order="left",
        )
        .join(
            external.rename({"addr": "external_addr"}),
            on="external_addr",
            how="left",
            maintain_order="left",
        )
        .with_columns(pl.col("team").fill_null(ipam.UNATTRIBUTED))
    )
    return enriched.with_columns(destination_class().alias("destination_class"))


#: One row per distinct address of the day and side: the internal side carries the IPAM match (team
#: ``unattributed`` when none), the external side the ip-ranges match (nulls for the internet).
ATTRIBUTION_SCHEMA: dict[str, pl.DataType] = {
    "usage_date": pl.Date,
    "side": pl.String,  # INTERNAL_SIDE | EXTERNAL_SIDE
    "address": pl.String,  # nat_flows' internal_addr or external_addr, as written there
    **ipam.MATCH_SCHEMA,
    **aws_ip_ranges.MATCH_SCHEMA,
    "ipam_snapshot_date": pl.String,
    "ip_ranges_sync_token": pl.String,
}
_MATCH_COLUMNS = ["side", "address", *ipam.MATCH_SCHEMA, *aws_ip_ranges.MATCH_SCHEMA]


#: Reference intervals, or how to build them: a re-run that reuses every external answer never
#: flattens ip-ranges.json.
Intervals = pl.DataFrame | Callable[[], pl.DataFrame]


def attribution_of(
    nat_flows: pl.DataFrame | pl.LazyFrame,
    ipam_intervals: Intervals,
    aws_intervals: Intervals,
    known: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Every distinct internal address of ``nat_flows`` with its IPAM match and every distinct
    external address with its ip-ranges match (columns ``_MATCH_COLUMNS``, in no set order:
    :func:`attribution_table` sorts what it stores). Only ``internal_addr`` and ``external_addr``
    are read: pass a LazyFrame to let the scan skip the other columns.

    ``known`` holds answers from the same reference tables (an earlier run, other rows of the
    day): an address it lists is taken from it, not matched again, and intervals are only built
    when some address is not known. A re-run after an IPAM fix keeps the external side this way
    (:func:`reusable_answers`). (Carrying a day's answers from batch to batch this way measured no
    faster than matching each batch whole: the lookups cost what the matching saves.)
    """
    rows = nat_flows.lazy()
    internal, external = pl.collect_all(
        [
            rows.select(pl.col("internal_addr").unique()),
            rows.select(pl.col("external_addr").unique()),
        ]
    )
    sides = (
        (INTERNAL_SIDE, internal["internal_addr"], ipam_intervals, list(ipam.MATCH_SCHEMA), False),
        (
            EXTERNAL_SIDE,
            external["external_addr"],
            aws_intervals,
            list(aws_ip_ranges.MATCH_SCHEMA),
            True,
        ),
    )
    reused, matched = [], []
    for side, distinct, intervals, payload, nat64 in sides:
        distinct = distinct.drop_nulls()
        if known is not None:
            listed = known.filter(pl.col("side") == side).select(_MATCH_COLUMNS)
            reused.append(listed.filter(pl.col("address").is_in(distinct.implode())))
            distinct = distinct.filter(~distinct.is_in(listed["address"].implode()))
        if distinct.len():
            built = intervals() if callable(intervals) else intervals
            matched.append(_matched(_sided(distinct, built, payload, side, nat64=nat64)))
    parts = [*reused, *matched]
    return (
        pl.concat(parts, how="vertical")
        if parts
        else pl.DataFrame(schema={c: ATTRIBUTION_SCHEMA[c] for c in _MATCH_COLUMNS})
    )


def _matched(sided: pl.DataFrame) -> pl.DataFrame:
    """One side's matches in the attribution's columns and types (team ``unattributed`` inside)."""
    return (
        sided.select(
            [pl.col(c) if c in sided.columns else pl.lit(None).alias(c) for c in _MATCH_COLUMNS]
        )
        .cast({c: ATTRIBUTION_SCHEMA[c] for c in _MATCH_COLUMNS})
        .with_columns(
            pl.when(pl.col("side") == INTERNAL_SIDE)
            .then(pl.col("team").fill_null(ipam.UNATTRIBUTED))
            .alias("team")
        )
    )


def attribution_table(
    nat_flows: pl.DataFrame | pl.LazyFrame,
    day: date,
    ipam_intervals: Intervals,
    aws_intervals: Intervals,
    ipam_snapshot_date: str,
    ip_ranges_sync_token: str,
    known: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The day's rows of ``address_attribution``: :func:`attribution_of` plus the day and which
    IPAM snapshot and ip-ranges version answered (so a reader can tell a stale attribution).
    ``known``: answers to reuse, from the same snapshot and version (see
    :func:`reusable_answers`)."""
    return (
        attribution_of(nat_flows, ipam_intervals, aws_intervals, known)
        .with_columns(
            pl.lit(day, dtype=pl.Date).alias("usage_date"),
            pl.lit(ipam_snapshot_date, dtype=pl.String).alias("ipam_snapshot_date"),
            pl.lit(ip_ranges_sync_token, dtype=pl.String).alias("ip_ranges_sync_token"),
        )
        .select(list(ATTRIBUTION_SCHEMA))
        .sort("side", "address")  # a re-run stores identical content
    )


def reusable_answers(
    previous: pl.DataFrame | None, ip_ranges_sync_token: str
) -> pl.DataFrame | None:
    """The external answers of a stored attribution that still hold: those the same ip-ranges
    version gave (a sync token names one version exactly). Internal answers are never reused:
    re-running the day is how an IPAM fix reaches it, and a fixed snapshot keeps its date."""
    if previous is None:
        return None
    return previous.filter(
        (pl.col("side") == EXTERNAL_SIDE) & (pl.col("ip_ranges_sync_token") == ip_ranges_sync_token)
    ).select(_MATCH_COLUMNS)


Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)


def attach(nat_flows: Frame, attribution: pl.DataFrame | pl.LazyFrame) -> Frame:
    """NAT rows joined with an attribution (:func:`attribution_of`, or the stored table's day):
    the same columns and values as :func:`enrich`, in the same row order. A LazyFrame in gives a
    LazyFrame out, so a consumer can aggregate without materialising the joined rows."""
    joined = (
        nat_flows.lazy()
        .join(internal_matches(attribution), on="internal_addr", how="left", maintain_order="left")
        .join(external_matches(attribution), on="external_addr", how="left", maintain_order="left")
        .with_columns(pl.col("team").fill_null(ipam.UNATTRIBUTED))
        .with_columns(destination_class().alias("destination_class"))
    )
    return joined if isinstance(nat_flows, pl.LazyFrame) else joined.collect()


def internal_matches(attribution: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """``internal_addr`` and its IPAM match, from an attribution."""
    return (
        attribution.lazy()
        .filter(pl.col("side") == INTERNAL_SIDE)
        .select(pl.col("address").alias("internal_addr"), *ipam.MATCH_SCHEMA)
    )


def external_matches(attribution: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """``external_addr`` and its ip-ranges match, from an attribution."""
    return (
        attribution.lazy()
        .filter(pl.col("side") == EXTERNAL_SIDE)
        .select(pl.col("address").alias("external_addr"), *aws_ip_ranges.MATCH_SCHEMA)
    )


def destination_class() -> pl.Expr:
    """Same-region AWS service, another region's (or a GLOBAL range), or the internet."""
    return (
        pl.when(pl.col("aws_service").is_null())
        .then(pl.lit(INTERNET))
        .when(pl.col("aws_region") == pl.col("region"))
        .then(pl.lit(AWS_SAME_REGION))
        .otherwise(pl.lit(AWS_OTHER_REGION))
    )


def _match(
    addresses: pl.Series, intervals: pl.DataFrame, payload: list[str], nat64: bool = False
) -> pl.DataFrame:
    """The distinct addresses among ``addresses`` (``addr``) that are addresses, with their
    match."""
    distinct = addresses.unique().drop_nulls().alias("addr")
    keyed = _keyed(distinct, nat64)
    return longest_prefix_match(
        keyed.filter(pl.col("key").is_not_null()), "key", intervals, payload
    ).drop("key")


def _keyed(distinct: pl.Series, nat64: bool) -> pl.DataFrame:
    """``addr`` with its ``key`` (null for text that is not an address); on the external side a
    NAT64 address is keyed by the IPv4 address it embeds, which is what ip-ranges.json lists."""
    keyed = pl.DataFrame({"addr": distinct, "key": address_keys(distinct)})
    return keyed.with_columns(unwrap_nat64(pl.col("key"))) if nat64 else keyed


def _sided(
    distinct: pl.Series, intervals: pl.DataFrame, payload: list[str], side: str, nat64: bool
) -> pl.DataFrame:
    """Every address of ``distinct`` (distinct already, no null) with its match: nulls where none,
    and for text that is not an address, which stays listed rather than silently dropped. Such text
    is set apart and put back, rather than every answer joined back to the list: the join cost as
    much as the match."""
    keyed = _keyed(distinct.alias("addr"), nat64)
    valid = keyed.filter(pl.col("key").is_not_null())
    parts = [longest_prefix_match(valid, "key", intervals, payload)]
    if valid.height < keyed.height:
        parts.append(keyed.filter(pl.col("key").is_null()))
    return pl.concat(parts, how="diagonal").select(
        pl.lit(side).alias("side"), pl.col("addr").alias("address"), *payload
    )
