"""One price catalogue for every network charge natflow knows, keyed by (charge, region).

Every price is AWS's public on-demand list price for one charge in one region, with its unit, the
page it came from, the date it was read and how sure we are (docs/pricing.md lists them all).
Prices change rarely but do change, so any (charge, region) can be overridden by configuration
(one setting: the ``pricing`` resource's ``price_overrides``, from ``NATFLOW_PRICE_OVERRIDES``)
instead of editing this table; an override is reported as one. A (charge, region) with no price
fails loudly, naming both and how to override: a guessed or zero price would be silently wrong
money.

``pricing.PriceBook`` (NAT gateway) and ``endpoint_pricing.EndpointPriceBook`` (VPC endpoints) are
views of this catalogue for the code that prices one family of charges.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import ClassVar, Literal, get_args

Charge = Literal[
    "nat_gateway_hour",
    "nat_gateway_gb",
    "tgw_gb",
    "tgw_attachment_hour",
    "inter_az_gb",
    "interface_endpoint_hour",
    "interface_endpoint_gb",
    "gateway_endpoint",
]
CHARGES: tuple[Charge, ...] = get_args(Charge)

#: ``verified``: read from AWS's pricing page or price-list offer file on ``read_on``;
#: ``corroborated``: the offer-file value as quoted by a third party; ``unverified``: AWS's
#: published figure as last known, not confirmed on ``read_on``; ``override``: configured.
Status = Literal["verified", "corroborated", "unverified", "override"]

#: The region of a price that is the same in every region (gateway endpoints are free everywhere).
EVERY_REGION = "*"

#: The one setting that overrides prices, as errors and provenance name it.
OVERRIDE_SETTING = "price_overrides"
OVERRIDE_VARIABLE = "NATFLOW_PRICE_OVERRIDES"


class UnknownPrice(KeyError):
    """A (charge, region) with usage but no price: costing it at zero would hide real money."""

    default_charge: Charge = "nat_gateway_gb"

    def __init__(self, region: str, charge: Charge | None = None) -> None:
        super().__init__(region, charge or self.default_charge)

    @property
    def region(self) -> str:
        return self.args[0]

    @property
    def charge(self) -> Charge:
        return self.args[1]

    def __str__(self) -> str:
        info = CHARGE_INFO[self.charge]
        how = (
            f'as {{"{self.charge}": {{"{self.region}": <usd>}}}} in {OVERRIDE_SETTING} '
            f"(pricing resource; env {OVERRIDE_VARIABLE})"
        )
        if info.shorthand:
            how = f"under {info.shorthand}, or {how}"
        return f"no {info.name} price for region {self.region!r}; add it {how}"


class UnknownRegionPrice(UnknownPrice):
    """A region with NAT traffic but no NAT gateway price."""


class UnknownEndpointPrice(UnknownPrice):
    """A region with interface-endpoint candidates but no PrivateLink price."""

    default_charge: Charge = "interface_endpoint_hour"


@dataclass(frozen=True)
class ChargeInfo:
    """What a charge is: its name in errors, its unit, AWS's rule in one line, and the older
    per-family setting that also overrides it (``shorthand``), if any."""

    charge: Charge
    name: str
    unit: str
    rule: str
    error: type[UnknownPrice] = UnknownPrice
    shorthand: str | None = None


_NAT_SHORTHAND = "nat_prices in the pricing configuration"
_ENDPOINT_SHORTHAND = "interface_endpoint_prices in the insights configuration"

CHARGE_INFO: dict[Charge, ChargeInfo] = {
    info.charge: info
    for info in (
        ChargeInfo(
            "nat_gateway_hour",
            "NAT gateway",
            "USD per NAT gateway-hour",
            "every hour (or part) a NAT gateway exists, busy or idle",
            UnknownRegionPrice,
            _NAT_SHORTHAND,
        ),
        ChargeInfo(
            "nat_gateway_gb",
            "NAT gateway",
            "USD per GB processed",
            "every GB the gateway processes, in either direction, whatever the destination",
            UnknownRegionPrice,
            _NAT_SHORTHAND,
        ),
        ChargeInfo(
            "tgw_gb",
            "Transit Gateway data processing",
            "USD per GB processed",
            "every GB sent from a VPC, Direct Connect or VPN attachment into a transit gateway",
        ),
        ChargeInfo(
            "tgw_attachment_hour",
            "Transit Gateway attachment",
            "USD per attachment-hour",
            "every hour (or part) a VPC (billed to its owner), VPN or other attachment is "
            "attached to a transit gateway",
        ),
        ChargeInfo(
            "inter_az_gb",
            "inter-AZ data transfer",
            "USD per GB, each direction",
            "every GB between Availability Zones of one region, charged out of one AZ and "
            "again into the other",
        ),
        ChargeInfo(
            "interface_endpoint_hour",
            "interface endpoint",
            "USD per endpoint per AZ-hour",
            "every hour (or part) an interface endpoint has a network interface in an AZ",
            UnknownEndpointPrice,
            _ENDPOINT_SHORTHAND,
        ),
        ChargeInfo(
            "interface_endpoint_gb",
            "interface endpoint",
            "USD per GB processed",
            "every GB through the region's interface endpoints (first-PB-a-month rate; lower "
            "above, so savings are understated, never overstated)",
            UnknownEndpointPrice,
            _ENDPOINT_SHORTHAND,
        ),
        ChargeInfo(
            "gateway_endpoint",
            "gateway endpoint",
            "USD per GB processed",
            "S3 and DynamoDB gateway endpoints have no hourly or per-GB charge, in every region",
        ),
    )
}


@dataclass(frozen=True)
class Price:
    """One row of the catalogue: a charge's USD amount in a region, and where it came from."""

    charge: Charge
    region: str
    usd: float
    unit: str
    source: str  # the AWS page (URL) the figure is from; for an override, where it was set
    read_on: str | None  # ISO date the source was read (None for an override)
    status: Status
    note: str = ""

    @property
    def provenance(self) -> str:
        """Where the price comes from, in one line a reader can check."""
        if self.status == "override":
            return self.source
        return f"{self.status}: {self.note or self.source} (read {self.read_on})"


# --- The table -------------------------------------------------------------------------------

VPC_PRICING = "https://aws.amazon.com/vpc/pricing/"
PRIVATELINK_PRICING = "https://aws.amazon.com/privatelink/pricing/"
TGW_PRICING = "https://aws.amazon.com/transit-gateway/pricing/"
EC2_DATA_TRANSFER_PRICING = "https://aws.amazon.com/ec2/pricing/on-demand/#Data_Transfer"
#: "There is no additional charge for using gateway endpoints." (read from a stored copy of the
#: page on RECORDED_ON)
GATEWAY_ENDPOINTS_GUIDE = (
    "https://docs.aws.amazon.com/vpc/latest/privatelink/gateway-endpoints.html"
)

#: When the NAT gateway and PrivateLink pages were read (see docs/pricing.md).
READ_ON = "2026-11-27"
#: When the Transit Gateway and inter-AZ list prices were recorded (NOT re-read on the network),
#: and the gateway endpoints guide was read (from a stored copy of the page).
RECORDED_ON = "2026-12-04"

_CARRIED = "carried from earlier notes, not confirmed on the page"
_LIST_PRICE = "AWS's published list price as known; not re-read from the page"

#: region -> (NAT USD per GB, NAT USD per gateway-hour, status, note); source: the VPC pricing page
#: and AWS's price-list offer file (AmazonEC2, usage types <CODE>-NatGateway-Bytes / -Hours).
_NAT: dict[str, tuple[float, float, Status, str]] = {
    "us-east-1": (0.045, 0.045, "verified", "VPC pricing page"),
    "us-east-2": (0.045, 0.045, "verified", "worked example on the VPC pricing page"),
    "us-west-1": (0.048, 0.048, "unverified", _CARRIED),
    "us-west-2": (
        0.045,
        0.045,
        "corroborated",
        "USW2-NatGateway-Bytes/-Hours as quoted from the AWS Pricing API",
    ),
    "ap-southeast-1": (0.059, 0.059, "verified", "offer file, APS1-NatGateway-Bytes/-Hours"),
    "eu-west-1": (0.048, 0.048, "verified", "offer file, EU-NatGateway-Bytes/-Hours"),
    "eu-central-1": (0.052, 0.052, "unverified", _CARRIED),
}

#: region -> (interface endpoint USD per AZ-hour, USD per GB, first PB a month). us-east-1 is
#: verified: the per-GB tiers ($0.01 first PB, $0.006 next 4 PB, $0.004 above 5 PB, per region per
#: month) read on AWS's page; the $0.01 per endpoint-AZ-hour is the figure the page shows (its
#: hourly table is rendered by script, so it was confirmed through several independent cost guides
#: quoting it). The other regions are AWS's figures as last seen, not verified on READ_ON.
_INTERFACE_ENDPOINT: dict[str, tuple[float, float, Status]] = {
    "us-east-1": (0.01, 0.01, "verified"),
    "us-east-2": (0.01, 0.01, "unverified"),
    "us-west-1": (0.011, 0.01, "unverified"),
    "us-west-2": (0.01, 0.01, "unverified"),
    "ap-southeast-1": (0.013, 0.01, "unverified"),
    "eu-west-1": (0.011, 0.01, "unverified"),
    "eu-central-1": (0.012, 0.01, "unverified"),
}

_ENDPOINT_NOTES: dict[str, str] = {
    "verified": f"{PRIVATELINK_PRICING} (Interface Endpoint pricing)",
    "unverified": "AWS's figure as last seen, not confirmed on the page",
}

#: region -> (Transit Gateway USD per GB processed, USD per attachment-hour): AWS's list prices as
#: known, recorded on RECORDED_ON without re-reading the page (all unverified).
_TRANSIT_GATEWAY: dict[str, tuple[float, float]] = {
    "us-east-1": (0.02, 0.05),
    "us-east-2": (0.02, 0.05),
    "us-west-1": (0.02, 0.05),
    "us-west-2": (0.02, 0.05),
    "ap-southeast-1": (0.02, 0.07),
    "eu-west-1": (0.02, 0.05),
    "eu-central-1": (0.02, 0.06),
}

#: Data transfer between AZs of one region: $0.01 per GB in each direction, in every region priced
#: here (AWS's list price as known, recorded on RECORDED_ON without re-reading the page).
_INTER_AZ_USD_PER_GB = 0.01


def _row(
    charge: Charge,
    region: str,
    usd: float,
    source: str,
    status: Status,
    note: str = "",
    read_on: str = READ_ON,
) -> Price:
    return Price(charge, region, usd, CHARGE_INFO[charge].unit, source, read_on, status, note)


def _table() -> tuple[Price, ...]:
    rows: list[Price] = []
    for region, (per_gb, per_hour, status, note) in _NAT.items():
        rows.append(_row("nat_gateway_gb", region, per_gb, VPC_PRICING, status, note))
        rows.append(_row("nat_gateway_hour", region, per_hour, VPC_PRICING, status, note))
    for region, (per_az_hour, per_gb, status) in _INTERFACE_ENDPOINT.items():
        note = _ENDPOINT_NOTES[status]
        for charge, usd in (
            ("interface_endpoint_hour", per_az_hour),
            ("interface_endpoint_gb", per_gb),
        ):
            rows.append(_row(charge, region, usd, PRIVATELINK_PRICING, status, note))
    for region, (per_gb, per_hour) in _TRANSIT_GATEWAY.items():
        for charge, usd in (("tgw_gb", per_gb), ("tgw_attachment_hour", per_hour)):
            rows.append(
                _row(charge, region, usd, TGW_PRICING, "unverified", _LIST_PRICE, RECORDED_ON)
            )
    for region in _NAT:
        rows.append(
            _row(
                "inter_az_gb",
                region,
                _INTER_AZ_USD_PER_GB,
                EC2_DATA_TRANSFER_PRICING,
                "unverified",
                _LIST_PRICE,
                RECORDED_ON,
            )
        )
    rows.append(
        _row(
            "gateway_endpoint",
            EVERY_REGION,
            0.0,
            GATEWAY_ENDPOINTS_GUIDE,
            "verified",
            f"gateway endpoints have no charge ({GATEWAY_ENDPOINTS_GUIDE})",
            RECORDED_ON,
        )
    )
    return tuple(rows)


# --- The catalogue ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PriceCatalogue:
    """Prices keyed by (charge, region); a price under ``EVERY_REGION`` holds in every region."""

    entries: tuple[Price, ...]

    def __post_init__(self) -> None:
        keys = [(p.charge, p.region) for p in self.entries]
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        if repeated:
            raise ValueError(f"the price catalogue lists {repeated} more than once")

    @cached_property
    def _index(self) -> dict[tuple[str, str], Price]:
        return {(p.charge, p.region): p for p in self.entries}

    def find(self, charge: Charge, region: str) -> Price | None:
        """The price of ``charge`` in ``region``, or None when the catalogue has none."""
        if charge not in CHARGE_INFO:
            raise ValueError(f"unknown charge {charge!r}; charges are {', '.join(CHARGES)}")
        return self._index.get((charge, region)) or self._index.get((charge, EVERY_REGION))

    def price(self, charge: Charge, region: str) -> Price:
        """The price of ``charge`` in ``region``; the charge's error type when there is none."""
        found = self.find(charge, region)
        if found is None:
            raise CHARGE_INFO[charge].error(region, charge)
        return found

    def usd(self, charge: Charge, region: str) -> float:
        return self.price(charge, region).usd

    def regions(self) -> list[str]:
        """Every region with at least one price of its own."""
        return sorted({p.region for p in self.entries} - {EVERY_REGION})

    def overrides(self) -> list[Price]:
        return [p for p in self.entries if p.status == "override"]

    def pairs(self, charges: tuple[Charge, Charge]) -> dict[str, tuple[float, float]]:
        """region -> (first charge, second charge), for the regions that price both."""
        first, second = charges
        return {
            region: (self.usd(first, region), self.usd(second, region))
            for region in self.regions()
            if self.find(first, region) and self.find(second, region)
        }

    def provenance(self, charges: tuple[Charge, ...], region: str) -> str:
        """Where ``region``'s prices of ``charges`` come from, once when they agree; ``none``
        when one is missing."""
        found = [self.find(charge, region) for charge in charges]
        if any(p is None for p in found):
            return "none"
        texts = {p.charge: p.provenance for p in found if p is not None}
        if len(set(texts.values())) == 1:
            return next(iter(texts.values()))
        return "; ".join(f"{charge}: {text}" for charge, text in texts.items())

    def with_overrides(
        self, overrides: Mapping[str, Mapping[str, float]], origin: str = OVERRIDE_SETTING
    ) -> PriceCatalogue:
        """This catalogue with ``{charge: {region: usd}}`` replacing (or adding) exactly those
        (charge, region) prices, each marked ``override (<origin>)``.

        A (charge, region) already overridden from another origin with another amount is an error:
        two settings disagreeing on one price is a configuration mistake, not a choice to make.
        """
        replaced = dict(self._index)
        for charge, by_region in overrides.items():
            if charge not in CHARGE_INFO:
                raise ValueError(
                    f"{origin}: unknown charge {charge!r}; charges are {', '.join(CHARGES)}"
                )
            for region, usd in by_region.items():
                amount = _amount(origin, charge, region, usd)
                before = replaced.get((charge, region))
                if before is not None and before.status == "override" and before.usd != amount:
                    raise ValueError(
                        f"{charge} in {region} is overridden twice: {before.usd} by "
                        f"{before.source} and {amount} by override ({origin})"
                    )
                replaced[(charge, region)] = Price(
                    charge,
                    region,
                    amount,
                    CHARGE_INFO[charge].unit,
                    f"override ({origin})",
                    None,
                    "override",
                )
        return PriceCatalogue(tuple(replaced.values()))


def paired(
    overrides: Mapping[str, tuple[float, float]], charges: tuple[Charge, Charge]
) -> dict[Charge, dict[str, float]]:
    """``{region: (a, b)}`` (the older per-family settings) as ``{charges[0]: {region: a},
    charges[1]: {region: b}}``."""
    first, second = charges
    return {
        first: {region: values[0] for region, values in overrides.items()},
        second: {region: values[1] for region, values in overrides.items()},
    }


class FamilyView:
    """What the views of one family of two charges share (``pricing.PriceBook``,
    ``endpoint_pricing.EndpointPriceBook``): the catalogue ``base`` plus the family's older
    per-region setting ``overrides``, ``{region: (first charge, second charge)}``, applied as
    overrides from ``shorthand``."""

    charges: ClassVar[tuple[Charge, Charge]]
    shorthand: ClassVar[str]
    overrides: Mapping[str, tuple[float, float]]
    base: PriceCatalogue

    def __init_subclass__(cls, charges: tuple[Charge, Charge], shorthand: str) -> None:
        super().__init_subclass__()
        cls.charges, cls.shorthand = charges, shorthand

    @cached_property
    def catalogue(self) -> PriceCatalogue:
        return self.base.with_overrides(paired(self.overrides, self.charges), self.shorthand)

    def prices(self) -> dict[str, tuple[float, float]]:
        """region -> the family's two prices, for the regions with both."""
        return self.catalogue.pairs(self.charges)

    def provenance(self, region: str) -> str:
        """Where a region's prices come from, for metadata and rows a user can check."""
        return self.catalogue.provenance(self.charges, region)


def _amount(origin: str, charge: str, region: object, usd: object) -> float:
    if not isinstance(region, str) or not region or region == EVERY_REGION:
        raise ValueError(f"{origin}: {charge} needs a region name, found {region!r}")
    if isinstance(usd, bool) or not isinstance(usd, int | float) or not math.isfinite(usd):
        raise ValueError(f"{origin}: {charge} in {region} must be a number of USD, found {usd!r}")
    if usd < 0:
        raise ValueError(f"{origin}: {charge} in {region} must not be negative, found {usd}")
    return float(usd)


#: The built-in catalogue.
CATALOGUE = PriceCatalogue(_table())


_STATUS_MARK = {"verified": "", "corroborated": " (c)", "unverified": " (u)", "override": " (o)"}


def charges_table(catalogue: PriceCatalogue = CATALOGUE) -> str:
    """The Markdown table of every charge, as docs/pricing.md carries it (a test holds them
    equal): its rule, unit, sources and dates."""
    rows = [
        "| charge | what AWS bills | unit | source | read on |",
        "| --- | --- | --- | --- | --- |",
    ]
    for charge, info in CHARGE_INFO.items():
        prices = [p for p in catalogue.entries if p.charge == charge]
        sources = ", ".join(sorted({p.source for p in prices}))
        dates = ", ".join(sorted({str(p.read_on) for p in prices}))
        rows.append(f"| `{charge}` | {info.rule} | {info.unit} | {sources} | {dates} |")
    return "\n".join(rows)


def prices_table(catalogue: PriceCatalogue = CATALOGUE) -> str:
    """The Markdown table of every price, region by charge, as docs/pricing.md carries it."""
    rows = [
        "| region | " + " | ".join(f"`{c}`" for c in CHARGES) + " |",
        "| --- |" + " ---: |" * len(CHARGES),
    ]
    for region in catalogue.regions():
        cells = []
        for charge in CHARGES:
            price = catalogue.find(charge, region)
            cells.append("-" if price is None else f"{price.usd:g}{_STATUS_MARK[price.status]}")
        rows.append(f"| {region} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def read_overrides(value: str | None) -> dict[str, dict[str, float]]:
    """``{charge: {region: usd}}`` from ``NATFLOW_PRICE_OVERRIDES``: inline JSON (it starts with
    ``{``) or the path of a JSON file; unset or empty means no override."""
    if not value or not value.strip():
        return {}
    text = value.strip()
    where = f"{OVERRIDE_VARIABLE} (inline JSON)"
    if not text.startswith("{"):
        where = f"{OVERRIDE_VARIABLE} file {text}"
        try:
            text = Path(text).read_text()
        except OSError as err:
            raise ValueError(f"cannot read {where}: {err}") from err
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"{where} is not JSON: {err}") from err
    if not isinstance(parsed, dict) or not all(isinstance(v, dict) for v in parsed.values()):
        raise ValueError(f'{where} must be {{"<charge>": {{"<region>": <usd>}}}}')
    CATALOGUE.with_overrides(parsed, where)  # fails here, naming the file, on a bad entry
    return parsed
