"""Hand-made enriched NAT rows for the insights' unit tests (the columns enrichment.attach
gives)."""

from __future__ import annotations

from datetime import date

import polars as pl

from natflow_pipeline.flowlogs.day import NAT_FLOWS_SCHEMA

GB = 2**30
#: The nat_flows columns the insights read, plus what enrichment adds to them.
SCHEMA: dict[str, pl.DataType] = {
    **{
        c: NAT_FLOWS_SCHEMA[c]
        for c in (
            "usage_date",
            "account_id",
            "region",
            "interface_id",
            "direction",
            "internal_addr",
            "external_addr",
            "pkt_srcaddr",
            "pkt_dstaddr",
            "packets",
            "bytes",
        )
    },
    "team": pl.String,
    "source_account_id": pl.String,
    "aws_service": pl.String,
    "aws_region": pl.String,
    "destination_class": pl.String,
}


def row(
    team: str,
    internal: str,
    external: str,
    nbytes: int,
    service: str | None = None,
    aws_region: str | None = None,
    direction: str = "egress",
    region: str = "us-east-1",
    day: date = date(2026, 11, 2),
    account: str | None = "111111111111",
) -> dict:
    """One NAT row; the destination class follows from the service's region as enrichment decides
    it."""
    src, dst = (internal, external) if direction == "egress" else (external, internal)
    klass = (
        "internet"
        if service is None
        else ("aws_same_region" if aws_region == region else "aws_other_region")
    )
    return {
        "usage_date": day,
        "account_id": "999999999999",
        "region": region,
        "interface_id": f"eni-{region}",
        "direction": direction,
        "internal_addr": internal,
        "external_addr": external,
        "pkt_srcaddr": src,
        "pkt_dstaddr": dst,
        "packets": max(1, nbytes // 1400),
        "bytes": nbytes,
        "team": team,
        "source_account_id": account,
        "aws_service": service,
        "aws_region": aws_region,
        "destination_class": klass,
    }


def frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=SCHEMA)
