"""The day's biggest true source/destination pairs, both sides named.

This is the seed article's query (``SELECT pkt_srcaddr, pkt_dstaddr, sum(bytes) ... GROUP BY 1,2
ORDER BY 3 DESC``) on the NAT rows natflow keeps, so each byte counts once per direction. The pair
is directional: a connection's request and response legs are two pairs (client -> server is
egress, server -> client is ingress). The NAT gateway's region is part of the key because
"same-region AWS service" depends on it; every other column is a function of the key.
"""

from __future__ import annotations

import polars as pl

from natflow_pipeline.enrichment import attach

DEFAULT_TOP_N = 100
INTERNAL, AWS, INTERNET = "internal", "aws", "internet"

KEYS: tuple[str, ...] = ("usage_date", "pkt_srcaddr", "pkt_dstaddr", "region", "direction")
#: Functions of the key (team of the internal address, service of the external one): carried along.
ATTRIBUTES: tuple[str, ...] = (
    "internal_addr",
    "external_addr",
    "team",
    "source_account_id",
    "aws_service",
    "aws_region",
    "destination_class",
)

SCHEMA: dict[str, pl.DataType] = {
    "usage_date": pl.Date,
    "rank": pl.Int32,
    "pkt_srcaddr": pl.String,
    "pkt_dstaddr": pl.String,
    "region": pl.String,
    "direction": pl.String,
    "src_kind": pl.String,
    "src_owner": pl.String,
    "dst_kind": pl.String,
    "dst_owner": pl.String,
    "internal_addr": pl.String,
    "external_addr": pl.String,
    "team": pl.String,
    "source_account_id": pl.String,
    "aws_service": pl.String,
    "aws_region": pl.String,
    "destination_class": pl.String,
    "flows": pl.Int64,
    "packets": pl.Int64,
    "bytes": pl.Int64,
    "share_of_day_bytes": pl.Float64,
}


def top_talkers(enriched: pl.DataFrame, top_n: int = DEFAULT_TOP_N) -> pl.DataFrame:
    """The ``top_n`` pairs of each day by bytes, ranked 1..n (ties broken by address, so a re-run
    ranks identically), with the share of the day's NAT bytes each pair carries.

    ``enriched``: NAT rows with their attribution (:func:`natflow_pipeline.enrichment.attach`)."""
    _check_top_n(top_n)
    pairs = enriched.group_by([*KEYS, *ATTRIBUTES]).agg(*_PAIR_TOTALS)
    return _named(_ranked(pairs, top_n))


#: What :func:`top_talkers_of` reads from nat_flows.
NAT_COLUMNS: tuple[str, ...] = (*KEYS, "internal_addr", "external_addr", "packets", "bytes")


def top_talkers_of(
    nat_flows: pl.DataFrame | pl.LazyFrame, attribution: pl.DataFrame, top_n: int = DEFAULT_TOP_N
) -> pl.DataFrame:
    """:func:`top_talkers` of ``attach(nat_flows, attribution)``, computed the cheap way: the rows
    are summed per pair first and only the top ``top_n`` pairs are attached (the ranking and the
    day's bytes do not depend on the attribution, and every attribute is a function of the pair)."""
    _check_top_n(top_n)
    pairs = (
        nat_flows.lazy()
        .group_by([*KEYS, "internal_addr", "external_addr"])
        .agg(*_PAIR_TOTALS)
        .collect()
    )
    return _named(attach(_ranked(pairs, top_n), attribution))


_PAIR_TOTALS = (
    pl.len().cast(pl.Int64).alias("flows"),
    pl.col("packets").sum().cast(pl.Int64),
    pl.col("bytes").sum().cast(pl.Int64),
)


def _check_top_n(top_n: int) -> None:
    if top_n < 1:
        raise ValueError(f"top_n must be at least 1, found {top_n}")


def _ranked(pairs: pl.DataFrame, top_n: int) -> pl.DataFrame:
    """The top ``top_n`` pairs of each day with their rank and share of the day's bytes."""
    day_bytes = pairs.group_by("usage_date").agg(pl.col("bytes").sum().alias("_day_bytes"))
    order = ["bytes", "pkt_srcaddr", "pkt_dstaddr", "region", "direction"]
    descending = [True, False, False, False, False]
    return (
        pairs.sort(["usage_date", *order], descending=[False, *descending], nulls_last=True)
        .with_columns(pl.int_range(1, pl.len() + 1).over("usage_date").cast(pl.Int32).alias("rank"))
        .filter(pl.col("rank") <= top_n)
        .join(day_bytes, on="usage_date", how="left")
        .with_columns((pl.col("bytes") / pl.col("_day_bytes")).alias("share_of_day_bytes"))
    )


def _named(ranked: pl.DataFrame) -> pl.DataFrame:
    """Both sides of each ranked pair named: internal (its team), an AWS range, or the internet."""
    source_is_internal = pl.col("pkt_srcaddr") == pl.col("internal_addr")
    return (
        ranked.with_columns(
            pl.when(source_is_internal)
            .then(pl.lit(INTERNAL))
            .otherwise(external_kind())
            .alias("src_kind"),
            pl.when(source_is_internal)
            .then(pl.col("team"))
            .otherwise(external_owner())
            .alias("src_owner"),
            pl.when(source_is_internal)
            .then(external_kind())
            .otherwise(pl.lit(INTERNAL))
            .alias("dst_kind"),
            pl.when(source_is_internal)
            .then(external_owner())
            .otherwise(pl.col("team"))
            .alias("dst_owner"),
        )
        .select(list(SCHEMA))
        .cast(SCHEMA)
        .sort("usage_date", "rank")
    )


def external_kind() -> pl.Expr:
    return pl.when(pl.col("aws_service").is_null()).then(pl.lit(INTERNET)).otherwise(pl.lit(AWS))


def external_owner() -> pl.Expr:
    """``S3 (us-east-1)`` for an AWS range, ``internet`` otherwise."""
    return (
        pl.when(pl.col("aws_service").is_null())
        .then(pl.lit(INTERNET))
        .otherwise(
            pl.format("{} ({})", pl.col("aws_service"), pl.col("aws_region").fill_null("GLOBAL"))
        )
    )
