"""AWS's published address ranges (ip-ranges.json) as a lookup table.

``AMAZON`` lists every range AWS owns and overlaps the service-specific entries; the most specific
prefix wins, and for the same prefix a specific service beats ``AMAZON``.
Format: https://docs.aws.amazon.com/vpc/latest/userguide/aws-ip-ranges.html
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import polars as pl
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from natflow_pipeline.addresses import Owned, cidr_bounds, flatten

TABLE_SCHEMA: dict[str, pl.DataType] = {
    "sync_token": pl.String,
    "create_date": pl.Datetime("us", "UTC"),
    "ip_prefix": pl.String,
    "family": pl.Int8,
    "region": pl.String,
    "service": pl.String,
    "network_border_group": pl.String,
}
MATCH_SCHEMA: dict[str, pl.DataType] = {
    "aws_service": pl.String,
    "aws_region": pl.String,
    "aws_prefix": pl.String,
}
GENERIC_SERVICE = "AMAZON"
#: EC2 is a second umbrella: about 400 prefixes of the 2026-08 file are listed under EC2 *and* a
#: narrower service (S3, DYNAMODB, IVS_REALTIME, ROUTE53_HEALTHCHECKS_PUBLISHING, ...). The narrower
#: one says what the traffic is (an S3 endpoint), and it decides whether a VPC endpoint would help.
BROAD_SERVICES = {GENERIC_SERVICE: 0, "EC2": 1}
NARROW = len(BROAD_SERVICES)


class IpRangesError(ValueError):
    """ip-ranges.json that does not have the documented shape."""


class Unreachable(OSError):
    """ip-ranges.json could not be fetched (after the retries): the caller may fall back."""


def download(url: str, timeout_s: float, retries: int, backoff_s: float) -> bytes:
    """GET ``url`` with a timeout, retrying connection errors, 429 and 5xx with exponential
    backoff."""
    retry = Retry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        backoff_factor=backoff_s,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=frozenset({"GET"}),
        raise_on_status=False,
    )
    with requests.Session() as session:
        session.mount("http://", HTTPAdapter(max_retries=retry))
        session.mount("https://", HTTPAdapter(max_retries=retry))
        try:
            response = session.get(url, timeout=timeout_s)
        except requests.RequestException as exc:
            raise Unreachable(
                f"{url}: unreachable after {retries} retries: {type(exc).__name__}: {exc}"
            ) from exc
    if response.status_code != 200:
        raise Unreachable(
            f"{url}: HTTP {response.status_code} {response.reason} "
            f"(after {retries} retries for 429/5xx)"
        )
    return response.content


def parse(document: bytes | str | Mapping[str, Any], source: str) -> pl.DataFrame:
    """Validate an ip-ranges.json document and return one row per prefix."""
    try:
        data = json.loads(document) if isinstance(document, (bytes, str)) else document
    except ValueError as exc:
        raise IpRangesError(f"{source}: not JSON: {exc}") from exc
    if not isinstance(data, Mapping):
        raise IpRangesError(f"{source}: expected a JSON object, found {type(data).__name__}")
    token, created = data.get("syncToken"), data.get("createDate")
    if not isinstance(token, str) or not token.isdigit():
        raise IpRangesError(f"{source}: syncToken missing or not a number: {token!r}")
    try:
        create_date = datetime.strptime(str(created), "%Y-%m-%d-%H-%M-%S").replace(
            tzinfo=timezone.utc
        )
    except ValueError as exc:
        raise IpRangesError(f"{source}: createDate {created!r} is not YYYY-MM-DD-hh-mm-ss") from exc
    rows = []
    for key, address_key, family in (
        ("prefixes", "ip_prefix", 4),
        ("ipv6_prefixes", "ipv6_prefix", 6),
    ):
        entries = data.get(key)
        if not isinstance(entries, list):
            raise IpRangesError(f"{source}: {key} missing or not a list")
        for i, entry in enumerate(entries):
            try:
                rows.append(
                    (
                        token,
                        create_date,
                        entry[address_key],
                        family,
                        entry["region"],
                        entry["service"],
                        entry.get("network_border_group"),
                    )
                )
            except (KeyError, TypeError) as exc:
                raise IpRangesError(f"{source}: {key}[{i}] lacks {exc}") from exc
    if not rows:
        raise IpRangesError(f"{source}: no prefixes")
    return pl.DataFrame(rows, schema=TABLE_SCHEMA, orient="row").sort(
        "family", "ip_prefix", "service", "region"
    )


def lookup_intervals(ranges: pl.DataFrame) -> pl.DataFrame:
    """Flatten one version of the table into non-overlapping intervals with their service.

    Same prefix, several entries: a specific service beats AMAZON, a narrower one beats EC2, and
    among the rest the alphabetically first wins, so the answer never depends on the file's order.
    """
    breadth = pl.col("service").replace_strict(BROAD_SERVICES, default=NARROW, return_dtype=pl.Int8)
    chosen = ranges.sort(
        "ip_prefix", breadth, "service", "region", descending=[False, True, False, False]
    ).unique(subset="ip_prefix", keep="first", maintain_order=True)
    owned = []
    for row in chosen.iter_rows(named=True):
        first, last, length = cidr_bounds(row["ip_prefix"])
        payload = {
            "aws_service": row["service"],
            "aws_region": row["region"],
            "aws_prefix": row["ip_prefix"],
        }
        owned.append(Owned(first, last, length, rank=0, payload=payload))
    return flatten(owned, MATCH_SCHEMA)
