"""NAT costs per team in FOCUS columns: one row per day x team x NAT gateway x charge.

FOCUS is the FinOps Open Cost and Usage Specification, version 1.2
(https://focus.finops.org/focus-specification/v1-2/). The columns, their types and nullability,
the allowed values and the conditional rules below follow its column definitions and attributes
(Numeric Format, Date/Time Format, Key-Value Format, Unit Format, Currency Format, and the ``x_``
prefix of custom columns). docs/focus.md maps each column to what natflow knows.

This module is pure: :func:`focus_rows` builds a day's frame from that day's ``team_daily_costs``
rows, and :func:`validate` lists every row and column that breaks the rules held here as data.
A charge is one :class:`Charge` entry in ``CHARGES``: another charge (Transit Gateway, cross-AZ)
is another entry, with the gold-table column holding its USD and how its quantities are counted.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

FOCUS_VERSION = "1.2"
FOCUS_URL = "https://focus.finops.org/focus-specification/v1-2/"

#: The partition column: the UTC day of the charge (a custom column, so ``x_``-prefixed).
DAY_COLUMN = "x_usage_date"
#: The key under which Tags carries the team.
TEAM_TAG = "team"
CUSTOM_PREFIX = "x_"

DECIMAL = pl.Float64  # FOCUS "Decimal"; Numeric Format allows the Double precision (IEEE 754)
DATETIME = pl.Datetime("us", "UTC")  # FOCUS "Date/Time", in UTC


@dataclass(frozen=True)
class Column:
    """One FOCUS 1.2 column as its definition says: type, whether it may be null, its feature
    level (``Mandatory``: MUST be present; ``Conditional``: present when the provider has it), and
    its allowed values where the spec lists them."""

    name: str
    dtype: pl.DataType
    nullable: bool
    feature_level: str
    allowed: frozenset[str] | None = None


CHARGE_CATEGORIES = frozenset({"Adjustment", "Credit", "Purchase", "Tax", "Usage"})
SERVICE_CATEGORIES = frozenset(
    {
        "AI and Machine Learning",
        "Analytics",
        "Business Applications",
        "Compute",
        "Databases",
        "Developer Tools",
        "Multicloud",
        "Identity",
        "Integration",
        "Internet of Things",
        "Management and Governance",
        "Media",
        "Migration",
        "Mobile",
        "Networking",
        "Security",
        "Storage",
        "Web",
        "Other",
    }
)
#: Unit Format: the allowed data size abbreviations, time-based names, and the recommended
#: count-based names (a base unit outside these MAY be a capitalized noun; natflow uses none).
DATA_SIZE_UNITS = frozenset(
    {"b", "B", "Kb", "KB", "Mb", "MB", "Gb", "GB", "Tb", "TB", "Pb", "PB", "Eb", "EB"}
    | {"Kib", "KiB", "Mib", "MiB", "Gib", "GiB", "Tib", "TiB", "Pib", "PiB", "Eib", "EiB"}
)
TIME_UNITS = frozenset(
    {
        f"{unit}{plural}"
        for unit in ("Year", "Month", "Day", "Hour", "Minute", "Second")
        + ("Millisecond", "Microsecond")
        for plural in ("", "s")
    }
)
COUNT_UNITS = frozenset(
    {
        f"{unit}{plural}"
        for unit in ("Count", "Unit", "Request", "Token", "Connection", "Certificate")
        + ("Domain", "Core")
        for plural in ("", "s")
    }
)
BASE_UNITS = DATA_SIZE_UNITS | TIME_UNITS | COUNT_UNITS
#: Currency Format: an ISO 4217 alphabetic code (natflow bills in USD: AWS's NAT prices are USD).
CURRENCY_CODE = re.compile(r"[A-Z]{3}")

#: The FOCUS columns natflow writes, in the order it writes them.
FOCUS_COLUMNS: tuple[Column, ...] = (
    Column("BilledCost", DECIMAL, False, "Mandatory"),
    Column("EffectiveCost", DECIMAL, False, "Mandatory"),
    Column("ListCost", DECIMAL, False, "Mandatory"),
    Column("BillingCurrency", pl.String, False, "Mandatory"),
    Column("ChargePeriodStart", DATETIME, False, "Mandatory"),
    Column("ChargePeriodEnd", DATETIME, False, "Mandatory"),
    Column("ChargeCategory", pl.String, False, "Mandatory", CHARGE_CATEGORIES),
    Column("ChargeDescription", pl.String, True, "Mandatory"),
    Column("ServiceName", pl.String, False, "Mandatory"),
    Column("ServiceCategory", pl.String, False, "Mandatory", SERVICE_CATEGORIES),
    Column("ProviderName", pl.String, False, "Mandatory"),
    Column("RegionId", pl.String, True, "Conditional"),
    Column("ResourceId", pl.String, True, "Conditional"),
    Column("SubAccountId", pl.String, True, "Conditional"),
    Column("ConsumedQuantity", DECIMAL, True, "Conditional"),
    Column("ConsumedUnit", pl.String, True, "Conditional"),
    Column("PricingQuantity", DECIMAL, True, "Mandatory"),
    Column("PricingUnit", pl.String, True, "Mandatory"),
    Column("Tags", pl.String, True, "Conditional"),
)
#: natflow's own columns (the spec's custom columns: ``x_``-prefixed).
CUSTOM_SCHEMA: dict[str, pl.DataType] = {
    "x_team": pl.String,
    "x_charge": pl.String,
    DAY_COLUMN: pl.Date,
}
FOCUS_SCHEMA: dict[str, pl.DataType] = {
    **{c.name: c.dtype for c in FOCUS_COLUMNS},
    **CUSTOM_SCHEMA,
}
#: Columns the spec says MUST be present in a FOCUS dataset (of those natflow writes).
REQUIRED_COLUMNS: tuple[str, ...] = tuple(
    c.name for c in FOCUS_COLUMNS if c.feature_level == "Mandatory"
)
UNIT_COLUMNS = ("ConsumedUnit", "PricingUnit")
COST_COLUMNS = ("BilledCost", "EffectiveCost", "ListCost")
QUANTITY_COLUMNS = ("ConsumedQuantity", "PricingQuantity")

PROVIDER_NAME = "AWS"
CURRENCY = "USD"

#: The NAT gateway a gold row went through: the grain of a FOCUS row, with the team and charge.
GATEWAY = ("usage_date", "account_id", "region", "interface_id")
#: The order rows are written and exported in (each FOCUS row is one of these, with a charge).
ROW_ORDER = [DAY_COLUMN, "x_team", "SubAccountId", "RegionId", "ResourceId", "x_charge"]


@dataclass(frozen=True)
class Charge:
    """One charge natflow attributes to teams.

    ``cost_column`` is the ``team_daily_costs`` column with its USD; ``consumed`` and ``pricing``
    are each a quantity (a Polars expression over the day's gold rows, summed per FOCUS row) and
    its unit, in Unit Format.
    """

    name: str
    cost_column: str
    description: str
    service_name: str
    service_category: str
    consumed: tuple[pl.Expr, str]
    pricing: tuple[pl.Expr, str]
    charge_category: str = "Usage"


def _gateway_hours_share() -> pl.Expr:
    """The hours of its gateway's hourly charge a gold row carries: the gateway's hours times the
    row's share of the gateway's hourly USD (by bytes, evenly, or none, as it was priced)."""
    gateway = ["usage_date", "interface_id", "region"]  # as costs.price shares it
    share = pl.col("hourly_usd") / pl.col("hourly_usd").sum().over(gateway)
    return (pl.col("gateway_hours") * share).fill_nan(0.0).fill_null(0.0)


#: Amazon VPC's NAT gateway charges (AWS bills them as AmazonEC2 usage types
#: ``<region code>-NatGateway-Bytes`` and ``-NatGateway-Hours``).
NAT_SERVICE = "Amazon Virtual Private Cloud"
CHARGES: tuple[Charge, ...] = (
    Charge(
        name="nat_data_processing",
        cost_column="data_processing_usd",
        description="NAT gateway data processing, per GB processed",
        service_name=NAT_SERVICE,
        service_category="Networking",
        consumed=(pl.col("bytes").cast(DECIMAL), "B"),
        pricing=(pl.col("gb"), "GB"),
    ),
    Charge(
        name="nat_gateway_hours",
        cost_column="hourly_usd",
        description="NAT gateway hourly charge, the team's share of the gateway's hours",
        service_name=NAT_SERVICE,
        service_category="Networking",
        consumed=(_gateway_hours_share(), "Hours"),
        pricing=(_gateway_hours_share(), "Hours"),
    ),
)


def empty() -> pl.DataFrame:
    return pl.DataFrame(schema=FOCUS_SCHEMA)


def focus_rows(costs: pl.DataFrame, charges: Sequence[Charge] = CHARGES) -> pl.DataFrame:
    """A day's FOCUS rows from the day's ``team_daily_costs`` rows: per team, NAT gateway and
    charge, the summed USD and quantities. A charge with neither cost nor quantity for a team and
    gateway (the hourly charge under ``hourly_allocation: none``) has no row."""
    if costs.is_empty():
        return empty()
    keys = ["team", *GATEWAY]
    parts = []
    for charge in charges:
        consumed, consumed_unit = charge.consumed
        pricing, pricing_unit = charge.pricing
        summed = (
            costs.with_columns(
                pl.col(charge.cost_column).cast(DECIMAL).alias("_cost"),
                consumed.cast(DECIMAL).alias("_consumed"),
                pricing.cast(DECIMAL).alias("_pricing"),
            )
            .group_by(keys)
            .agg(pl.col("_cost").sum(), pl.col("_consumed").sum(), pl.col("_pricing").sum())
            .filter((pl.col("_cost") != 0) | (pl.col("_pricing") != 0))
        )
        start = pl.col("usage_date").cast(DATETIME)
        parts.append(
            summed.select(
                pl.col("_cost").alias("BilledCost"),
                pl.col("_cost").alias("EffectiveCost"),
                pl.col("_cost").alias("ListCost"),
                pl.lit(CURRENCY).alias("BillingCurrency"),
                start.alias("ChargePeriodStart"),
                (start + pl.duration(days=1)).alias("ChargePeriodEnd"),
                pl.lit(charge.charge_category).alias("ChargeCategory"),
                pl.lit(charge.description).alias("ChargeDescription"),
                pl.lit(charge.service_name).alias("ServiceName"),
                pl.lit(charge.service_category).alias("ServiceCategory"),
                pl.lit(PROVIDER_NAME).alias("ProviderName"),
                pl.col("region").alias("RegionId"),
                pl.col("interface_id").alias("ResourceId"),
                pl.col("account_id").alias("SubAccountId"),
                pl.col("_consumed").alias("ConsumedQuantity"),
                pl.lit(consumed_unit).alias("ConsumedUnit"),
                pl.col("_pricing").alias("PricingQuantity"),
                pl.lit(pricing_unit).alias("PricingUnit"),
                pl.struct(pl.col("team").alias(TEAM_TAG)).struct.json_encode().alias("Tags"),
                pl.col("team").alias("x_team"),
                pl.lit(charge.name).alias("x_charge"),
                pl.col("usage_date").alias(DAY_COLUMN),
            )
        )
    return pl.concat(parts).cast(FOCUS_SCHEMA).sort(ROW_ORDER)


def _valid_unit(unit: str) -> bool:
    """Unit Format: base units joined by '-' (compound) or '/' (ratio), each optionally after a
    positive integer unit quantity."""
    for part in re.split(r"[-/]", unit):
        quantity, _, base = part.rpartition(" ")
        if quantity and not (quantity.isdigit() and int(quantity) > 0):
            return False
        if base not in BASE_UNITS:
            return False
    return True


def _valid_tags(text: str) -> bool:
    """Key-Value Format: a serialized JSON object (of scalar values)."""
    try:
        tags = json.loads(text)
    except ValueError:
        return False
    return isinstance(tags, dict) and all(
        isinstance(v, str | int | float | bool) or v is None for v in tags.values()
    )


def validate(frame: pl.DataFrame) -> list[str]:
    """Every violation of the FOCUS rules above, one message each, naming the row (0-based) and
    the column; ``[]`` when the frame conforms."""
    problems: list[str] = []
    columns = set(frame.columns)
    for name in REQUIRED_COLUMNS:
        if name not in columns:
            problems.append(f"column {name}: required by FOCUS {FOCUS_VERSION}, missing")
    focus_names = {c.name for c in FOCUS_COLUMNS}
    for name in frame.columns:
        if name not in focus_names and not name.startswith(CUSTOM_PREFIX):
            problems.append(f"column {name}: a custom column must start with {CUSTOM_PREFIX!r}")
    typed = set()
    for name, dtype in FOCUS_SCHEMA.items():
        if name in columns and frame.schema[name] != dtype:
            problems.append(f"column {name}: type {frame.schema[name]}, expected {dtype}")
        elif name in columns:
            typed.add(name)
    rows = frame.with_row_index("_row").to_dicts()
    by_name = {c.name: c for c in FOCUS_COLUMNS}
    for row in rows:
        at = row["_row"]

        def bad(column: str, why: str, at: int = at) -> None:
            problems.append(f"row {at}, column {column}: {why}")

        for name in typed:
            value = row[name]
            column = by_name.get(name)
            if value is None:
                if column is not None and not column.nullable:
                    bad(name, "null, but FOCUS does not allow nulls here")
                continue
            if column is not None and column.allowed is not None and value not in column.allowed:
                bad(
                    name, f"{value!r} is not an allowed value ({', '.join(sorted(column.allowed))})"
                )
            if isinstance(value, float) and not math.isfinite(value):
                bad(name, f"{value} is not a number (Numeric Format)")
        for name in UNIT_COLUMNS:
            if name in typed and row[name] is not None and not _valid_unit(row[name]):
                bad(name, f"{row[name]!r} is not a unit in Unit Format")
        if "BillingCurrency" in typed and row["BillingCurrency"] is not None:
            if not CURRENCY_CODE.fullmatch(row["BillingCurrency"]):
                bad("BillingCurrency", f"{row['BillingCurrency']!r} is not an ISO 4217 code")
        if "Tags" in typed and row["Tags"] is not None and not _valid_tags(row["Tags"]):
            bad("Tags", f"{row['Tags']!r} is not a JSON object (Key-Value Format)")
        start, end = row.get("ChargePeriodStart"), row.get("ChargePeriodEnd")
        if start is not None and end is not None and not end > start:
            bad("ChargePeriodEnd", f"{end} is not after ChargePeriodStart {start}")
        _conditional(row, typed, bad)
    return problems


def _conditional(row: Mapping, typed: set[str], bad) -> None:
    """The rules that depend on another column: a Usage row (natflow writes no corrections)
    carries a positive ConsumedQuantity; Usage and Purchase rows a PricingQuantity; a quantity its
    unit, and a unit its quantity."""
    category = row.get("ChargeCategory") if "ChargeCategory" in typed else None
    if "ConsumedQuantity" in typed and category == "Usage":
        quantity = row["ConsumedQuantity"]
        if quantity is None or not quantity > 0:
            bad("ConsumedQuantity", f"{quantity} on a Usage row: must be a positive number")
    if "PricingQuantity" in typed and category in ("Usage", "Purchase"):
        if row["PricingQuantity"] is None:
            bad("PricingQuantity", f"null on a {category} row")
    for quantity, unit in zip(QUANTITY_COLUMNS, UNIT_COLUMNS, strict=True):
        if quantity in typed and unit in typed:
            if (row[quantity] is None) != (row[unit] is None):
                bad(unit, f"{unit} must be null exactly when {quantity} is")
