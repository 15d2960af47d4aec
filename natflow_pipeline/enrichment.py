"""Attach the team (IPAM) of each NAT row's internal side and the AWS service of its external side.

Matching works on distinct addresses: a day has far fewer addresses than rows, so each address is
converted and matched once and the answer joined back to the rows.
"""

from __future__ import annotations

import polars as pl

from natflow_pipeline import aws_ip_ranges, ipam
from natflow_pipeline.addresses import address_keys, longest_prefix_match, unwrap_nat64

AWS_SAME_REGION = "aws_same_region"
AWS_OTHER_REGION = "aws_other_region"
INTERNET = "internet"


def enrich(nat_flows: pl.DataFrame, ipam_intervals: pl.DataFrame, aws_intervals: pl.DataFrame) -> pl.DataFrame:
    """``nat_flows`` plus team, source account, matched IPAM prefix, AWS service/region/prefix and
    destination class. Every input row comes out once; unmatched internal addresses get team
    ``unattributed``."""
    internal = _match(nat_flows["internal_addr"], ipam_intervals, list(ipam.MATCH_SCHEMA))
    external = _match(nat_flows["external_addr"], aws_intervals, list(aws_ip_ranges.MATCH_SCHEMA), nat64=True)
    enriched = (
        nat_flows.join(internal.rename({"addr": "internal_addr"}), on="internal_addr", how="left", maintain_order="left")
        .join(external.rename({"addr": "external_addr"}), on="external_addr", how="left", maintain_order="left")
        .with_columns(pl.col("team").fill_null(ipam.UNATTRIBUTED))
    )
    return enriched.with_columns(destination_class().alias("destination_class"))


def destination_class() -> pl.Expr:
    """Same-region AWS service, another region's (or a GLOBAL range), or the internet."""
    return (
        pl.when(pl.col("aws_service").is_null())
        .then(pl.lit(INTERNET))
        .when(pl.col("aws_region") == pl.col("region"))
        .then(pl.lit(AWS_SAME_REGION))
        .otherwise(pl.lit(AWS_OTHER_REGION))
    )


def _match(addresses: pl.Series, intervals: pl.DataFrame, payload: list[str], nat64: bool = False) -> pl.DataFrame:
    distinct = addresses.unique().drop_nulls().alias("addr")
    keyed = pl.DataFrame({"addr": distinct, "key": address_keys(distinct)}).filter(pl.col("key").is_not_null())
    if nat64:
        keyed = keyed.with_columns(unwrap_nat64(pl.col("key")))
    return longest_prefix_match(keyed, "key", intervals, payload).drop("key")
