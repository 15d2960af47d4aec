"""Where AWS delivers flow log objects, and which of them a day's partition must read.

AWS writes ``prefix/AWSLogs/{account}/vpcflowlogs/{region}/{yyyy}/{mm}/{dd}/[{HH}/]file`` or, with
Hive-compatible prefixes, ``prefix/AWSLogs/aws-account-id={account}/aws-service=vpcflowlogs/
aws-region={region}/year={yyyy}/month={mm}/day={dd}/[hour={HH}/]file``. Folders and file names
carry the *delivery* time. A record belongs to the UTC day of its ``start``, so day D reads the
objects delivered on D plus those delivered in the first ``lateness`` of D+1 (late records of D),
and leaves the D-1 records found in D's first objects to D-1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from fsspec import AbstractFileSystem

SUFFIXES = (".log.gz", ".log", ".parquet", ".gz")
_PLAIN = re.compile(
    r"AWSLogs/(?P<account>\d{12})/vpcflowlogs/(?P<region>[a-z0-9-]+)/(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})/(?:(?P<h>\d{2})/)?[^/]+$"
)
_HIVE = re.compile(
    r"AWSLogs/aws-account-id=(?P<account>\d{12})/aws-service=vpcflowlogs/aws-region=(?P<region>[a-z0-9-]+)/"
    r"year=(?P<y>\d{4})/month=(?P<m>\d{2})/day=(?P<d>\d{2})/(?:hour=(?P<h>\d{2})/)?[^/]+$"
)
# {account}_vpcflowlogs_{region}_{flow-log-id}_{YYYYMMDDTHHmmZ}_{hash}.log.gz
_DELIVERY_STAMP = re.compile(r"_(\d{8}T\d{4}Z)_")
_DELIVERY_NAME = re.compile(
    r"^\d{12}_vpcflowlogs_[a-z0-9-]+_fl-[0-9a-zA-Z]+_\d{8}T\d{4}Z_[0-9a-zA-Z]+\.(?:log\.gz|log\.parquet|log|parquet|gz)$"
)


@dataclass(frozen=True)
class FlowLogObject:
    """One delivered object and what its key says about it."""

    path: str
    account_id: str
    region: str
    delivered_at: datetime
    layout: str  # "plain" | "hive"
    size: int


def parse_key(path: str, size: int = 0) -> FlowLogObject | None:
    """What an object key says (account, region, delivery time), or None if it is not a delivery."""
    for layout, pattern in (("plain", _PLAIN), ("hive", _HIVE)):
        match = pattern.search(path)
        if match:
            return FlowLogObject(
                path, match["account"], match["region"], _delivery_time(path, match), layout, size
            )
    return None


def _delivery_time(path: str, match: re.Match[str]) -> datetime:
    stamp = _DELIVERY_STAMP.search(path.rsplit("/", 1)[-1])
    if stamp:
        return datetime.strptime(stamp[1], "%Y%m%dT%H%MZ").replace(tzinfo=timezone.utc)
    hour = int(match["h"]) if match["h"] else 0
    return datetime(int(match["y"]), int(match["m"]), int(match["d"]), hour, tzinfo=timezone.utc)


def delivery_name(path: str) -> str | None:
    """The AWS file name of a delivery, or None for any other name.

    AWS names are unique per delivery (account, region, flow log id, time and a hash), so the
    same name under two keys (a copy between the plain and Hive layouts, say) is one delivery
    that must be read once; other names carry no such promise.
    """
    name = path.rsplit("/", 1)[-1]
    return name if _DELIVERY_NAME.match(name) else None


def objects_for_day(
    fs: AbstractFileSystem, root: str, day: date, lateness: timedelta
) -> list[FlowLogObject]:
    """The objects day ``day`` must read, in a stable order (delivery time, then path).

    The same object listed twice (two layouts pointing at one key, or an overlapping listing) is
    read once.
    """
    next_day = day + timedelta(days=1)
    cutoff = datetime(next_day.year, next_day.month, next_day.day, tzinfo=timezone.utc) + lateness
    found: dict[str, FlowLogObject] = {}
    for folder_day in (day, next_day):
        for path, size in _list_day(fs, root, folder_day).items():
            obj = parse_key(path, size)
            if obj is None:
                continue
            if folder_day == next_day and obj.delivered_at >= cutoff:
                continue
            found[path] = obj
    return sorted(found.values(), key=lambda o: (o.delivered_at, o.path))


def _list_day(fs: AbstractFileSystem, root: str, day: date) -> dict[str, int]:
    base = root.rstrip("/")
    y, m, d = f"{day:%Y}", f"{day:%m}", f"{day:%d}"
    patterns = (
        f"{base}/AWSLogs/*/vpcflowlogs/*/{y}/{m}/{d}/**",
        f"{base}/AWSLogs/aws-account-id=*/aws-service=vpcflowlogs/aws-region=*/year={y}/month={m}/day={d}/**",
    )
    listed: dict[str, int] = {}
    for pattern in patterns:
        for path, info in fs.glob(pattern, detail=True).items():
            if info.get("type") == "file" and path.endswith(SUFFIXES):
                listed[path] = int(info.get("size") or 0)
    return listed
