"""What Cost Explorer billed for NAT data processing on a day, per linked account and region, and
(a second request) for Transit Gateway data processing and inter-AZ transfer.

One ``GetCostAndUsage`` request per day: DAILY, metrics UsageQuantity and UnblendedCost, filtered
to the usage-type group "EC2: NAT Gateway - Data Processed", grouped by USAGE_TYPE and
LINKED_ACCOUNT. The network request (``network_request_for``) is the same day, metrics and
grouping, filtered to the USAGE_TYPE values ``<CODE>-TransitGateway-Bytes`` and
``<CODE>-DataTransfer-Regional-Bytes`` of every region natflow knows. Every request is billed
by AWS, so callers store the answer and ask again only on purpose. Pages (``NextPageToken``) are
followed to the end; throttling is retried by botocore (standard retry mode, exponential backoff
with jitter), configured where the client is made.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Protocol

import polars as pl
from botocore.exceptions import BotoCoreError, ClientError

from natflow_pipeline.pricing import USAGE_TYPE_REGIONS

NAT_DATA_PROCESSED_GROUP = "EC2: NAT Gateway - Data Processed"
METRICS = ("UsageQuantity", "UnblendedCost")
#: ``NatGateway-Bytes`` (zonal) and ``RegionalNatGateway-Bytes`` (regional NAT gateways), with an
#: optional region prefix. Anything else in the group is an error: it would be money we cannot
#: place.
_USAGE_TYPE = re.compile(r"^(?:(?P<code>[A-Z]{2,4}\d?)-)?(?P<kind>(?:Regional)?NatGateway-Bytes)$")

#: The network charges Cost Explorer bills per usage type, with an optional region prefix:
#: Transit Gateway data processing and inter-AZ (regional) data transfer.
TGW = "tgw"
INTER_AZ = "inter_az"
NETWORK_USAGE_KINDS: dict[str, str] = {
    "TransitGateway-Bytes": TGW,
    "DataTransfer-Regional-Bytes": INTER_AZ,
}
_NETWORK_USAGE_TYPE = re.compile(
    r"^(?:(?P<code>[A-Z]{2,4}\d?)-)?(?P<kind>TransitGateway-Bytes|DataTransfer-Regional-Bytes)$"
)

USAGE_SCHEMA: dict[str, pl.DataType] = {
    "usage_date": pl.Date,
    "account_id": pl.String,
    "region": pl.String,
    "usage_type": pl.String,
    "usage_quantity": pl.Float64,
    "usage_unit": pl.String,
    "unblended_cost": pl.Float64,
    "cost_unit": pl.String,
    "estimated": pl.Boolean,
}


#: The network usage table's columns: the NAT ones and which charge the usage type is.
NETWORK_USAGE_SCHEMA: dict[str, pl.DataType] = {**USAGE_SCHEMA, "charge": pl.String}


class CostExplorerError(RuntimeError):
    """Cost Explorer answered something natflow cannot use; the message names the day and call."""


class GetCostAndUsage(Protocol):
    """The one call natflow makes: boto3's ``ce`` client, or the offline file client below."""

    def get_cost_and_usage(self, **request: Any) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class DayOfUsage:
    """A day's NAT usage as Cost Explorer reported it, and what asking cost."""

    day: date
    usage: pl.DataFrame  # USAGE_SCHEMA
    estimated: bool
    pages: int
    retries: int


def request_for(day: date, page_token: str | None = None) -> dict[str, Any]:
    """The GetCostAndUsage request for one UTC day (End is exclusive)."""
    return _request(
        day,
        {"Dimensions": {"Key": "USAGE_TYPE_GROUP", "Values": [NAT_DATA_PROCESSED_GROUP]}},
        page_token,
    )


def network_usage_types(codes: Mapping[str, str] = USAGE_TYPE_REGIONS) -> list[str]:
    """Every TransitGateway-Bytes and DataTransfer-Regional-Bytes usage type of the known region
    codes (``USE1-`` and no prefix both for us-east-1): GetCostAndUsage filters on exact values."""
    return sorted(
        f"{code}-{kind}" if code else kind for code in codes for kind in NETWORK_USAGE_KINDS
    )


def network_request_for(day: date, page_token: str | None = None) -> dict[str, Any]:
    """The GetCostAndUsage request for one UTC day of TGW bytes and inter-AZ transfer."""
    return _request(
        day, {"Dimensions": {"Key": "USAGE_TYPE", "Values": network_usage_types()}}, page_token
    )


def _request(day: date, filter_: dict[str, Any], page_token: str | None) -> dict[str, Any]:
    request: dict[str, Any] = {
        "TimePeriod": {"Start": day.isoformat(), "End": (day + timedelta(days=1)).isoformat()},
        "Granularity": "DAILY",
        "Metrics": list(METRICS),
        "Filter": filter_,
        "GroupBy": [
            {"Type": "DIMENSION", "Key": "USAGE_TYPE"},
            {"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"},
        ],
    }
    if page_token:
        request["NextPageToken"] = page_token
    return request


def fetch_day(client: GetCostAndUsage, day: date, max_pages: int = 1000) -> DayOfUsage:
    """Ask Cost Explorer for one day of NAT data processing, following every page."""
    return _fetch(client, day, max_pages, network=False)


def fetch_network_day(client: GetCostAndUsage, day: date, max_pages: int = 1000) -> DayOfUsage:
    """Ask Cost Explorer for one day of TGW bytes and inter-AZ transfer, following every page
    (``usage`` has NETWORK_USAGE_SCHEMA)."""
    return _fetch(client, day, max_pages, network=True)


def _fetch(client: GetCostAndUsage, day: date, max_pages: int, network: bool) -> DayOfUsage:
    rows: list[dict[str, Any]] = []
    estimated = False
    pages = retries = 0
    make_row = _network_row if network else _row
    request = network_request_for if network else request_for
    for response in _pages(client, day, max_pages, request):
        pages += 1
        retries += int(response.get("ResponseMetadata", {}).get("RetryAttempts", 0) or 0)
        for period in response.get("ResultsByTime", []):
            if period["TimePeriod"]["Start"] != day.isoformat():
                raise CostExplorerError(
                    f"Cost Explorer answered for {period['TimePeriod']['Start']} "
                    f"when asked for {day}"
                )
            estimated = estimated or bool(period.get("Estimated", False))
            rows += [
                make_row(day, group, bool(period.get("Estimated", False)))
                for group in period.get("Groups", [])
            ]
    schema = NETWORK_USAGE_SCHEMA if network else USAGE_SCHEMA
    return DayOfUsage(
        day, pl.DataFrame(rows, schema=schema, orient="row"), estimated, pages, retries
    )


def region_of_usage_type(usage_type: str, regions: Mapping[str, str] = USAGE_TYPE_REGIONS) -> str:
    """``USE2-NatGateway-Bytes`` -> ``us-east-2``; ``NatGateway-Bytes`` -> ``us-east-1``."""
    match = _USAGE_TYPE.match(usage_type)
    if match is None:
        raise CostExplorerError(
            f"usage type {usage_type!r} is not a NAT gateway data-processing usage type"
        )
    code = match.group("code") or ""
    if code not in regions:
        raise CostExplorerError(
            f"usage type {usage_type!r}: unknown region code {code!r} "
            "(add it to pricing.USAGE_TYPE_CODES)"
        )
    return regions[code]


def network_usage_type_of(
    usage_type: str, regions: Mapping[str, str] = USAGE_TYPE_REGIONS
) -> tuple[str, str]:
    """``USE2-TransitGateway-Bytes`` -> (``tgw``, ``us-east-2``);
    ``DataTransfer-Regional-Bytes`` -> (``inter_az``, ``us-east-1``). Anything else is an error."""
    match = _NETWORK_USAGE_TYPE.match(usage_type)
    if match is None:
        raise CostExplorerError(
            f"usage type {usage_type!r} is not a TransitGateway-Bytes or "
            "DataTransfer-Regional-Bytes usage type"
        )
    code = match.group("code") or ""
    if code not in regions:
        raise CostExplorerError(
            f"usage type {usage_type!r}: unknown region code {code!r} "
            "(add it to pricing.USAGE_TYPE_CODES)"
        )
    return NETWORK_USAGE_KINDS[match.group("kind")], regions[code]


def usage_type_for(region: str, regions: Mapping[str, str] = USAGE_TYPE_REGIONS) -> str:
    """The zonal NAT data-processing usage type Cost Explorer bills a region's bytes under."""
    codes = [code for code, name in regions.items() if name == region and code != "USE1"]
    if not codes:
        raise CostExplorerError(f"no usage-type region code known for {region!r}")
    return f"{codes[0]}-NatGateway-Bytes" if codes[0] else "NatGateway-Bytes"


def _pages(
    client: GetCostAndUsage, day: date, max_pages: int, request: Any = request_for
) -> Iterator[Mapping[str, Any]]:
    token: str | None = None
    for page in range(1, max_pages + 1):
        try:
            response = client.get_cost_and_usage(**request(day, token))
        except ClientError as exc:
            error = exc.response.get("Error", {})
            attempts = exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0) + 1
            raise CostExplorerError(
                f"Cost Explorer GetCostAndUsage for {day} (page {page}) "
                f"failed after {attempts} attempt(s): "
                f"{error.get('Code', 'error')}: {error.get('Message', '')}"
            ) from exc
        except BotoCoreError as exc:
            raise CostExplorerError(
                f"Cost Explorer GetCostAndUsage for {day} (page {page}): {exc}"
            ) from exc
        yield response
        token = response.get("NextPageToken")
        if not token:
            return
    raise CostExplorerError(
        f"Cost Explorer GetCostAndUsage for {day}: still paging after {max_pages} pages"
    )


def _row(day: date, group: Mapping[str, Any], estimated: bool) -> dict[str, Any]:
    return _group_row(day, group, estimated, region_of_usage_type)


def _network_row(day: date, group: Mapping[str, Any], estimated: bool) -> dict[str, Any]:
    row = _group_row(day, group, estimated, lambda usage_type: network_usage_type_of(usage_type)[1])
    return {**row, "charge": network_usage_type_of(row["usage_type"])[0]}


def _group_row(
    day: date, group: Mapping[str, Any], estimated: bool, region_of: Any
) -> dict[str, Any]:
    keys = group.get("Keys", [])
    if len(keys) != 2:
        raise CostExplorerError(
            f"Cost Explorer group for {day} has keys {keys!r}; "
            "expected [usage type, linked account]"
        )
    usage_type, account = keys
    usage = group["Metrics"]["UsageQuantity"]
    cost = group["Metrics"]["UnblendedCost"]
    return {
        "usage_date": day,
        "account_id": account,
        "region": region_of(usage_type),
        "usage_type": usage_type,
        "usage_quantity": float(usage["Amount"]),
        "usage_unit": usage.get("Unit"),
        "unblended_cost": float(cost["Amount"]),
        "cost_unit": cost.get("Unit"),
        "estimated": estimated,
    }


class FileCostExplorer:
    """Answers GetCostAndUsage from a JSON file of recorded responses (the offline default).

    The file is ``{"responses": [GetCostAndUsage response, ...]}``. A request gets the day's
    ``ResultsByTime`` entries from every response; a day the file does not hold comes back with no
    groups and ``Estimated: true`` (Cost Explorer has not finalised it), never as a zero bill.
    A request filtered to USAGE_TYPE values gets only the groups of those usage types, as Cost
    Explorer would answer it (the network request of a file holding only NAT usage: no groups).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            document = json.loads(self.path.read_text())
        except (OSError, ValueError) as exc:
            raise CostExplorerError(f"Cost Explorer file {self.path}: {exc}") from exc
        self._responses = document.get("responses") if isinstance(document, dict) else None
        if not isinstance(self._responses, list):
            raise CostExplorerError(
                f"Cost Explorer file {self.path}: expected an object with a 'responses' list"
            )

    def get_cost_and_usage(self, **request: Any) -> dict[str, Any]:
        period = request["TimePeriod"]
        matching = [
            entry
            for response in self._responses
            for entry in response.get("ResultsByTime", [])
            if entry["TimePeriod"] == period
        ]
        if not matching:
            matching = [{"TimePeriod": period, "Total": {}, "Groups": [], "Estimated": True}]
        dimension = request.get("Filter", {}).get("Dimensions", {})
        if dimension.get("Key") == "USAGE_TYPE":
            wanted = set(dimension.get("Values", []))
            matching = [
                {**entry, "Groups": [g for g in entry["Groups"] if g["Keys"][0] in wanted]}
                for entry in matching
            ]
        return {"ResultsByTime": matching, "ResponseMetadata": {"RetryAttempts": 0}}

    def has_day(self, day: date) -> bool:
        start = day.isoformat()
        return any(
            e["TimePeriod"]["Start"] == start
            for r in self._responses
            for e in r.get("ResultsByTime", [])
        )


def usage_response(
    day: date, groups: list[tuple[str, str, float, float]], estimated: bool = False
) -> dict[str, Any]:
    """A GetCostAndUsage response as AWS shapes it, from (usage type, account, GB, USD) groups.

    Used by the sample generator and the tests; amounts are strings, as Cost Explorer sends them.
    """
    return {
        "GroupDefinitions": [
            {"Type": "DIMENSION", "Key": "USAGE_TYPE"},
            {"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"},
        ],
        "ResultsByTime": [
            {
                "TimePeriod": {
                    "Start": day.isoformat(),
                    "End": (day + timedelta(days=1)).isoformat(),
                },
                "Total": {},
                "Groups": [
                    {
                        "Keys": [usage_type, account],
                        "Metrics": {
                            "UsageQuantity": {"Amount": f"{gb:.10f}", "Unit": "GB"},
                            "UnblendedCost": {"Amount": f"{usd:.10f}", "Unit": "USD"},
                        },
                    }
                    for usage_type, account, gb, usd in groups
                ],
                "Estimated": estimated,
            }
        ],
        "DimensionValueAttributes": [],
    }
