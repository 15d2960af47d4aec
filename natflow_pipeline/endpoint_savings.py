"""What VPC endpoints would save: NAT traffic to same-region AWS services an endpoint would carry.

Per day x team x source account x region x AWS service:

- Gateway endpoints (S3, DynamoDB) are free, so the whole NAT data-processing charge of that
  traffic is the saving. A gateway endpoint works only for traffic that starts in the VPC whose
  route tables name it (not across Transit Gateway), so it belongs in each source VPC: the
  ``source_account_id`` column says which accounts need one.
- Interface endpoints cost ``per_az_hour x az_count x 24`` a day plus ``per_gb`` per GB. The model
  assumes ONE endpoint per service and region, centralised in the shared VPC the NAT gateway sits
  in (the traffic already crosses Transit Gateway to reach NAT, so that charge does not change),
  its daily hourly cost shared among teams by bytes. ``recommended`` and ``break_even_gb_per_day``
  are decided per service and region, where the endpoint is bought.

The NAT gateway's own hourly charge is not saved (it still serves the internet traffic), so only
data processing counts. Monthly projection: the day's figure x the number of days in that day's
calendar month (a fixed endpoint-hour cost accrues every day, so both parts scale alike).
"""

from __future__ import annotations

import polars as pl

from natflow_pipeline.endpoint_pricing import (
    GATEWAY_SERVICES,
    INTERFACE_SERVICES,
    EndpointPriceBook,
)
from natflow_pipeline.enrichment import AWS_SAME_REGION
from natflow_pipeline.pricing import PriceBook

HOURS_PER_DAY = 24
GATEWAY, INTERFACE = "gateway", "interface"

GROUP_KEYS: tuple[str, ...] = ("usage_date", "team", "source_account_id", "region", "aws_service")

SCHEMA: dict[str, pl.DataType] = {
    "usage_date": pl.Date,
    "team": pl.String,
    "source_account_id": pl.String,
    "region": pl.String,
    "aws_service": pl.String,
    "endpoint_type": pl.String,
    "endpoint_service": pl.String,
    "flows": pl.Int64,
    "bytes": pl.Int64,
    "gb": pl.Float64,
    "nat_processing_usd": pl.Float64,
    "endpoint_processing_usd": pl.Float64,
    "endpoint_hourly_usd": pl.Float64,
    "saving_usd": pl.Float64,
    "days_in_month": pl.Int32,
    "monthly_saving_usd": pl.Float64,
    "service_gb": pl.Float64,
    "service_saving_usd": pl.Float64,
    "break_even_gb_per_day": pl.Float64,
    "recommended": pl.Boolean,
    "endpoint_az_count": pl.Int32,
    "nat_usd_per_gb": pl.Float64,
    "endpoint_usd_per_az_hour": pl.Float64,
    "endpoint_usd_per_gb": pl.Float64,
    "price_source": pl.String,
}


def endpoint_savings(
    enriched: pl.DataFrame,
    nat_prices: PriceBook,
    endpoint_prices: EndpointPriceBook,
    interface_services: dict[str, str] | None = None,
) -> pl.DataFrame:
    """One row per day x team x source account x region x endpoint-eligible service."""
    interface_services = INTERFACE_SERVICES if interface_services is None else interface_services
    candidates = eligible(enriched, interface_services)
    grouped = candidates.group_by(GROUP_KEYS).agg(
        pl.len().cast(pl.Int64).alias("flows"), pl.col("bytes").sum().cast(pl.Int64).alias("bytes")
    )
    endpoints = _endpoint_table(grouped, nat_prices, endpoint_prices, interface_services)
    service = ["usage_date", "region", "aws_service"]
    gb = pl.col("bytes") / nat_prices.billing_gb_bytes
    endpoint_day_usd = (
        pl.col("endpoint_usd_per_az_hour") * pl.col("endpoint_az_count") * HOURS_PER_DAY
    )
    per_gb_gain = pl.col("nat_usd_per_gb") - pl.col("endpoint_usd_per_gb")
    return (
        grouped.join(endpoints, on=["region", "aws_service"], how="left")
        .with_columns(gb.alias("gb"))
        .with_columns(
            (pl.col("gb") * pl.col("nat_usd_per_gb")).alias("nat_processing_usd"),
            (pl.col("gb") * pl.col("endpoint_usd_per_gb")).alias("endpoint_processing_usd"),
            (endpoint_day_usd * pl.col("bytes") / pl.col("bytes").sum().over(service))
            .fill_nan(0.0)
            .alias("endpoint_hourly_usd"),
            pl.col("gb").sum().over(service).alias("service_gb"),
            pl.when(per_gb_gain > 0)
            .then(endpoint_day_usd / per_gb_gain)
            .alias("break_even_gb_per_day"),
            pl.col("usage_date").dt.month_end().dt.day().cast(pl.Int32).alias("days_in_month"),
        )
        .with_columns(
            (
                pl.col("nat_processing_usd")
                - pl.col("endpoint_processing_usd")
                - pl.col("endpoint_hourly_usd")
            ).alias("saving_usd")
        )
        .with_columns(
            (pl.col("saving_usd") * pl.col("days_in_month")).alias("monthly_saving_usd"),
            pl.col("saving_usd").sum().over(service).alias("service_saving_usd"),
        )
        .with_columns((pl.col("service_saving_usd") > 0).alias("recommended"))
        .select(list(SCHEMA))
        .cast(SCHEMA)
        .sort(["usage_date", "region", "aws_service", "team", "source_account_id"], nulls_last=True)
    )


def eligible(enriched: pl.DataFrame, interface_services: dict[str, str]) -> pl.DataFrame:
    """Rows an endpoint in the NAT gateway's region would carry (same-region, known service)."""
    services = [*GATEWAY_SERVICES, *interface_services]
    return enriched.filter(
        (pl.col("destination_class") == AWS_SAME_REGION) & pl.col("aws_service").is_in(services)
    )


def excluded_aws_bytes(
    enriched: pl.DataFrame, interface_services: dict[str, str] | None = None
) -> pl.DataFrame:
    """AWS-bound bytes no endpoint here would carry, by reason and service (for the asset's
    metadata: every AWS byte is either in the table or counted here)."""
    interface_services = INTERFACE_SERVICES if interface_services is None else interface_services
    services = [*GATEWAY_SERVICES, *interface_services]
    reason = (
        pl.when(pl.col("destination_class") != AWS_SAME_REGION)
        .then(pl.lit("other region"))
        .otherwise(pl.lit("no endpoint identifiable for this ip-ranges service"))
    )
    aws = enriched.filter(pl.col("aws_service").is_not_null())
    kept = (pl.col("destination_class") == AWS_SAME_REGION) & pl.col("aws_service").is_in(services)
    return (
        aws.filter(~kept)
        .group_by(reason.alias("reason"), "aws_service")
        .agg(pl.col("bytes").sum().cast(pl.Int64))
        .sort("bytes", descending=True)
    )


def _endpoint_table(
    grouped: pl.DataFrame,
    nat_prices: PriceBook,
    endpoint_prices: EndpointPriceBook,
    interface_services: dict[str, str],
) -> pl.DataFrame:
    """Per region x service present: endpoint type and name, the prices used and their source.

    Built in Python over the few distinct (region, service) pairs of a day, not per row."""
    rows = []
    for region, service in (
        grouped.select("region", "aws_service").unique().sort("region", "aws_service").iter_rows()
    ):
        nat_per_gb = nat_prices.per_gb(region)
        if service in GATEWAY_SERVICES:
            gateway = endpoint_prices.gateway(region)
            kind, name, per_hour, azs = GATEWAY, GATEWAY_SERVICES[service], 0.0, 0
            per_gb, source = gateway.usd, gateway.provenance
        else:
            kind, name = INTERFACE, interface_services[service]
            per_hour, per_gb = endpoint_prices.per_az_hour(region), endpoint_prices.per_gb(region)
            azs, source = endpoint_prices.az_count, endpoint_prices.source(region)
        rows.append(
            {
                "region": region,
                "aws_service": service,
                "endpoint_type": kind,
                "endpoint_service": f"com.amazonaws.{region}.{name}",
                "endpoint_az_count": azs,
                "nat_usd_per_gb": nat_per_gb,
                "endpoint_usd_per_az_hour": per_hour,
                "endpoint_usd_per_gb": per_gb,
                "price_source": source,
            }
        )
    schema = {
        k: SCHEMA[k]
        for k in (
            "region",
            "aws_service",
            "endpoint_type",
            "endpoint_service",
            "endpoint_az_count",
            "nat_usd_per_gb",
            "endpoint_usd_per_az_hour",
            "endpoint_usd_per_gb",
            "price_source",
        )
    }
    return pl.DataFrame(rows, schema=schema)
