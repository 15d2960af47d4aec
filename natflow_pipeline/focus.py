"""NAT costs per team in FOCUS columns: one row per day x team x NAT gateway x charge.

FOCUS is the FinOps Open Cost and Usage Specification, version 1.2
(https://focus.finops.org/focus-specification/v1-2/). The columns, their types and nullability,
the allowed values and the conditional rules below follow its column definitions and attributes
(Numeric Format, Date/Time Format, Key-Value Format, Unit Format, Currency Format, and the ``x_``
prefix of custom columns), as the spec's column files state them
(https://github.com/FinOps-Open-Cost-and-Usage-Spec/FOCUS_Spec, ``specification/columns/*.md``:
each file's "Feature level" and "Allows nulls"). docs/focus.md maps each column to what natflow
knows.

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

from natflow_pipeline.pricing import BILLING_GB_BYTES_BINARY, BILLING_GB_BYTES_DECIMAL

FOCUS_VERSION = "1.2"
FOCUS_URL = "https://focus.finops.org/focus-specification/v1-2/"

#: The partition column: the UTC day of the charge (a custom column, so ``x_``-prefixed).
DAY_COLUMN = "x_usage_date"
#: The key under which Tags carries the team. The team is a tag natflow sets, not one of the
#: user's resource tags, so it carries natflow's own key prefix: the spec's Tags column requires
#: "Provider-defined tags MUST be prefixed with a provider-specified tag key prefix", so that they
#: are told apart from user-defined tags (FOCUS_Spec specification/columns/tags.md).
TAG_PREFIX = "natflow/"
TEAM_TAG = f"{TAG_PREFIX}team"
CUSTOM_PREFIX = "x_"

#: Feature levels (the spec's column "Feature level"): a Mandatory column MUST be present; a
#: Recommended one SHOULD; a Conditional one MUST when its condition holds for the provider.
MANDATORY = "Mandatory"
RECOMMENDED = "Recommended"
CONDITIONAL = "Conditional"

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
CHARGE_CLASSES = frozenset({"Correction"})
CHARGE_FREQUENCIES = frozenset({"One-Time", "Recurring", "Usage-Based"})
PRICING_CATEGORIES = frozenset({"Standard", "Dynamic", "Committed", "Other"})
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

#: The FOCUS columns natflow writes, in the order it writes them (FOCUS columns before custom
#: ones, as Column Handling requires). Every Mandatory column of FOCUS 1.2 is here; the
#: Conditional ones are those whose condition AWS meets (it publishes list prices, supports
#: negotiated pricing and several pricing categories, sub accounts, regions, resources and tags),
#: and ChargeFrequency is Recommended.
FOCUS_COLUMNS: tuple[Column, ...] = (
    Column("BilledCost", DECIMAL, False, MANDATORY),
    Column("EffectiveCost", DECIMAL, False, MANDATORY),
    Column("ListCost", DECIMAL, False, MANDATORY),
    Column("ContractedCost", DECIMAL, False, MANDATORY),
    Column("ListUnitPrice", DECIMAL, True, CONDITIONAL),
    Column("ContractedUnitPrice", DECIMAL, True, CONDITIONAL),
    Column("BillingCurrency", pl.String, False, MANDATORY),
    Column("BillingAccountId", pl.String, False, MANDATORY),
    Column("BillingAccountName", pl.String, True, MANDATORY),
    Column("BillingPeriodStart", DATETIME, False, MANDATORY),
    Column("BillingPeriodEnd", DATETIME, False, MANDATORY),
    Column("ChargePeriodStart", DATETIME, False, MANDATORY),
    Column("ChargePeriodEnd", DATETIME, False, MANDATORY),
    Column("ChargeCategory", pl.String, False, MANDATORY, CHARGE_CATEGORIES),
    Column("ChargeClass", pl.String, True, MANDATORY, CHARGE_CLASSES),
    Column("ChargeFrequency", pl.String, False, RECOMMENDED, CHARGE_FREQUENCIES),
    Column("ChargeDescription", pl.String, True, MANDATORY),
    Column("PricingCategory", pl.String, True, CONDITIONAL, PRICING_CATEGORIES),
    Column("ServiceName", pl.String, False, MANDATORY),
    Column("ServiceCategory", pl.String, False, MANDATORY, SERVICE_CATEGORIES),
    Column("ProviderName", pl.String, False, MANDATORY),
    Column("PublisherName", pl.String, False, MANDATORY),
    Column("InvoiceIssuerName", pl.String, False, MANDATORY),
    Column("RegionId", pl.String, True, CONDITIONAL),
    Column("ResourceId", pl.String, True, CONDITIONAL),
    Column("SubAccountId", pl.String, True, CONDITIONAL),
    Column("ConsumedQuantity", DECIMAL, True, CONDITIONAL),
    Column("ConsumedUnit", pl.String, True, CONDITIONAL),
    Column("PricingQuantity", DECIMAL, True, MANDATORY),
    Column("PricingUnit", pl.String, True, MANDATORY),
    Column("Tags", pl.String, True, CONDITIONAL),
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
#: Columns the spec says MUST be present in a FOCUS dataset: the Mandatory ones (the tests hold
#: them against their own list, copied from the spec).
REQUIRED_COLUMNS: tuple[str, ...] = tuple(
    c.name for c in FOCUS_COLUMNS if c.feature_level == MANDATORY
)
UNIT_COLUMNS = ("ConsumedUnit", "PricingUnit")
COST_COLUMNS = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost")
#: Each unit price and the cost it gives times PricingQuantity.
UNIT_PRICES = (("ListUnitPrice", "ListCost"), ("ContractedUnitPrice", "ContractedCost"))
QUANTITY_COLUMNS = ("ConsumedQuantity", "PricingQuantity")
#: Relative tolerance of "unit price x PricingQuantity = cost" (doubles, one division apart).
PRICE_TOLERANCE = 1e-9

PROVIDER_NAME = "AWS"
#: Who publishes the NAT gateway service and who invoices it: AWS itself (not a marketplace
#: seller or a reseller). Customers billed by another AWS entity (AWS EMEA SARL, ...) see that
#: entity on their invoice; natflow does not know it.
PUBLISHER_NAME = "Amazon Web Services"
INVOICE_ISSUER_NAME = "Amazon Web Services, Inc."
CURRENCY = "USD"
#: A normal charge (not a correction of an invoiced billing period): ChargeClass is null.
CHARGE_CLASS = None
CHARGE_FREQUENCY = "Usage-Based"
#: natflow prices at AWS's public on-demand price: no commitment, no dynamic pricing.
PRICING_CATEGORY = "Standard"

#: The NAT gateway a gold row went through: the grain of a FOCUS row, with the team and charge.
GATEWAY = ("usage_date", "account_id", "region", "interface_id")
#: The order rows are written and exported in (each FOCUS row is one of these, with a charge).
ROW_ORDER = [DAY_COLUMN, "x_team", "SubAccountId", "RegionId", "ResourceId", "x_charge"]


#: Placeholder for the unit of a billed GB in a :class:`Charge`: :func:`focus_rows` writes the
#: unit of the run's ``billing_gb_bytes`` instead (:func:`billed_gb_unit`). Not a unit in Unit
#: Format, so a frame that still carried it would fail :func:`validate`.
BILLED_GB = "<billed GB>"


def billed_gb_unit(billing_gb_bytes: int) -> str:
    """The Unit Format name of one billed GB of ``billing_gb_bytes`` bytes: ``GiB`` for 2^30 and
    ``GB`` for 10^9 (Unit Format: ``GB`` is 10^9 bytes, ``GiB`` 2^30)."""
    units = {BILLING_GB_BYTES_BINARY: "GiB", BILLING_GB_BYTES_DECIMAL: "GB"}
    if billing_gb_bytes not in units:
        raise ValueError(
            f"billing_gb_bytes {billing_gb_bytes}: no FOCUS unit (2^30 is GiB, 10^9 is GB)"
        )
    return units[billing_gb_bytes]


@dataclass(frozen=True)
class Charge:
    """One charge natflow attributes to teams.

    ``cost_column`` is the ``team_daily_costs`` column with its USD; ``consumed`` and ``pricing``
    are each a quantity (a Polars expression over the day's gold rows, summed per FOCUS row) and
    its unit, in Unit Format (or ``BILLED_GB``: the unit of the run's billed GB).
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
        pricing=(pl.col("gb"), BILLED_GB),  # gb: bytes / pricing.billing_gb_bytes
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


def focus_rows(
    costs: pl.DataFrame,
    *,
    gb_unit: str,
    billing_account_id: str | None = None,
    billing_account_name: str | None = None,
    charges: Sequence[Charge] = CHARGES,
) -> pl.DataFrame:
    """A day's FOCUS rows from the day's ``team_daily_costs`` rows: per team, NAT gateway and
    charge, the summed USD and quantities. A charge with neither cost nor quantity for a team and
    gateway (the hourly charge under ``hourly_allocation: none``) has no row.

    ``gb_unit`` is the unit of a billed GB (:func:`billed_gb_unit` of the run's
    ``billing_gb_bytes``). natflow does not know the payer account: BillingAccountId is
    ``billing_account_id``, else the NAT gateway's account (SubAccountId); BillingAccountName is
    ``billing_account_name``, else the BillingAccountId.
    """
    if costs.is_empty():
        return empty()
    account_id = pl.lit(billing_account_id) if billing_account_id else pl.col("account_id")
    account_name = pl.lit(billing_account_name) if billing_account_name else account_id
    keys = ["team", *GATEWAY]
    parts = []
    for charge in charges:
        consumed, consumed_unit = charge.consumed
        pricing, pricing_unit = charge.pricing
        if pricing_unit == BILLED_GB:
            pricing_unit = gb_unit
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
        month = pl.col("usage_date").dt.month_start().cast(DATETIME)
        # The price of one PricingUnit: a FOCUS row is one region's one charge, so one price
        # (null without a quantity, which validate() reports on a Usage row).
        unit_price = pl.when(pl.col("_pricing") != 0).then(pl.col("_cost") / pl.col("_pricing"))
        parts.append(
            summed.select(
                pl.col("_cost").alias("BilledCost"),
                pl.col("_cost").alias("EffectiveCost"),
                pl.col("_cost").alias("ListCost"),
                pl.col("_cost").alias("ContractedCost"),
                unit_price.alias("ListUnitPrice"),
                unit_price.alias("ContractedUnitPrice"),
                pl.lit(CURRENCY).alias("BillingCurrency"),
                account_id.alias("BillingAccountId"),
                account_name.alias("BillingAccountName"),
                month.alias("BillingPeriodStart"),
                month.dt.offset_by("1mo").alias("BillingPeriodEnd"),
                start.alias("ChargePeriodStart"),
                (start + pl.duration(days=1)).alias("ChargePeriodEnd"),
                pl.lit(charge.charge_category).alias("ChargeCategory"),
                pl.lit(CHARGE_CLASS, pl.String).alias("ChargeClass"),
                pl.lit(CHARGE_FREQUENCY).alias("ChargeFrequency"),
                pl.lit(charge.description).alias("ChargeDescription"),
                pl.lit(PRICING_CATEGORY).alias("PricingCategory"),
                pl.lit(charge.service_name).alias("ServiceName"),
                pl.lit(charge.service_category).alias("ServiceCategory"),
                pl.lit(PROVIDER_NAME).alias("ProviderName"),
                pl.lit(PUBLISHER_NAME).alias("PublisherName"),
                pl.lit(INVOICE_ISSUER_NAME).alias("InvoiceIssuerName"),
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
        _periods(row, typed, bad)
        _conditional(row, typed, bad)
    return problems


def _after(row: Mapping, typed: set[str], start: str, end: str, bad) -> None:
    if start in typed and end in typed and row[start] is not None and row[end] is not None:
        if not row[end] > row[start]:
            bad(end, f"{row[end]} is not after {start} {row[start]}")


def _periods(row: Mapping, typed: set[str], bad) -> None:
    """Each period ends after it starts (its end is exclusive), and natflow's partition day is the
    UTC day the charge period starts."""
    _after(row, typed, "ChargePeriodStart", "ChargePeriodEnd", bad)
    _after(row, typed, "BillingPeriodStart", "BillingPeriodEnd", bad)
    day, start = row.get(DAY_COLUMN), row.get("ChargePeriodStart")
    if {DAY_COLUMN, "ChargePeriodStart"} <= typed and day is not None and start is not None:
        if start.date() != day:
            bad(DAY_COLUMN, f"{day} is not the UTC day of ChargePeriodStart {start}")


def _conditional(row: Mapping, typed: set[str], bad) -> None:
    """The rules that depend on another column. On a Usage or Purchase row that is not a
    correction (natflow writes none): a PricingQuantity, the unit prices and a PricingCategory;
    on a Usage row a positive ConsumedQuantity; on a Tax row no unit price or PricingCategory; a
    Purchase is not Usage-Based. A quantity has its unit, and a unit its quantity; a unit price
    times PricingQuantity is its cost."""
    category = row.get("ChargeCategory") if "ChargeCategory" in typed else None
    correction = "ChargeClass" in typed and row["ChargeClass"] == "Correction"
    priced = category in ("Usage", "Purchase") and not correction
    if "ConsumedQuantity" in typed and category == "Usage" and not correction:
        quantity = row["ConsumedQuantity"]
        if quantity is None or not quantity > 0:
            bad("ConsumedQuantity", f"{quantity} on a Usage row: must be a positive number")
    for name in ("PricingQuantity", "ListUnitPrice", "ContractedUnitPrice", "PricingCategory"):
        if name not in typed:
            continue
        if priced and row[name] is None:
            bad(name, f"null on a {category} row")
        if category == "Tax" and name != "PricingQuantity" and row[name] is not None:
            bad(name, f"{row[name]!r} on a Tax row: must be null")
    if "ChargeFrequency" in typed and category == "Purchase":
        if row["ChargeFrequency"] == "Usage-Based":
            bad("ChargeFrequency", "'Usage-Based' on a Purchase row")
    for quantity, unit in zip(QUANTITY_COLUMNS, UNIT_COLUMNS, strict=True):
        if quantity in typed and unit in typed:
            if (row[quantity] is None) != (row[unit] is None):
                bad(unit, f"{unit} must be null exactly when {quantity} is")
    for price, cost in UNIT_PRICES:
        if correction or not {price, cost, "PricingQuantity"} <= typed:
            continue
        unit_price, amount, quantity = row[price], row[cost], row["PricingQuantity"]
        if unit_price is None or amount is None or quantity is None:
            continue
        if not math.isclose(unit_price * quantity, amount, rel_tol=PRICE_TOLERANCE, abs_tol=1e-12):
            bad(price, f"{unit_price} x PricingQuantity {quantity} is not {cost} {amount}")
