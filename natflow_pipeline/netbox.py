"""Reading the IPAM from a live NetBox (4.x REST API) with pynetbox.

The records come back in the same shape as the JSON export (NetBox's REST representation, nested
objects as dicts), so :func:`natflow_pipeline.ipam.snapshot` builds the snapshot the same way for
both sources, and a test can demand that the two give identical tables.

pynetbox has no timeouts and no retries of its own; it exposes its ``requests.Session``
(``api.http_session``) for exactly this, so the session gets an adapter with a default timeout and
urllib3's ``Retry`` (exponential backoff on connection errors and 429/5xx, GET only).
pynetbox 7.8 sends a v2 token (``nbt_<key>.<secret>``, NetBox >= 4.5) as ``Bearer`` and any other
token as the legacy ``Token`` scheme, so both kinds work unchanged.

The token is never put into a message: every error this module raises names the service URL and
the HTTP status, and any text from the server or from requests is scrubbed of the token.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pynetbox
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

RETRY_STATUSES = (429, 500, 502, 503, 504)


class NetBoxError(RuntimeError):
    """NetBox could not be read: unreachable, a rejected token, or an error answer."""

    def __init__(self, message: str, url: str, status: int | None = None):
        super().__init__(message)
        self.url = url
        self.status = status


@dataclass(frozen=True)
class Connection:
    """Where NetBox is and how patiently to talk to it."""

    url: str
    token: str
    verify_tls: bool = True
    timeout_s: float = 30.0
    retries: int = 3
    backoff_s: float = 0.5
    page_size: int = 500


@dataclass(frozen=True)
class IpamQuery:
    """Which part of the IPAM to read. Empty means no filter.

    ``vrfs`` are VRF names; ``global`` selects the objects in no VRF. Keep container prefixes in
    ``prefix_statuses`` when teams are set on containers, or inheritance has nothing to inherit.
    """

    families: Sequence[int] = ()
    prefix_statuses: Sequence[str] = ()
    address_statuses: Sequence[str] = ()
    vrfs: Sequence[str] = ()


class _TimeoutAdapter(HTTPAdapter):
    """An adapter that applies a default timeout: pynetbox calls the session without one."""

    def __init__(self, timeout_s: float, retry: Retry):
        self.timeout_s = timeout_s
        super().__init__(max_retries=retry)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout_s
        return super().send(request, **kwargs)


def connect(conn: Connection) -> pynetbox.api:
    """A pynetbox API object whose session has TLS verification, timeouts and retries."""
    api = pynetbox.api(conn.url, token=conn.token)
    retry = Retry(
        total=conn.retries,
        connect=conn.retries,
        read=conn.retries,
        status=conn.retries,
        backoff_factor=conn.backoff_s,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET"}),
        raise_on_status=False,  # hand the last answer to pynetbox, which reports its status
    )
    session = requests.Session()
    session.verify = conn.verify_tls
    adapter = _TimeoutAdapter(conn.timeout_s, retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    api.http_session = session
    return api


def fetch_ipam(
    conn: Connection, query: IpamQuery = IpamQuery()
) -> tuple[dict[str, list[dict[str, Any]]], str]:
    """Prefixes, IP addresses and tenants as the export holds them, and NetBox's version.

    Everything is read before anything is returned, so a failure half way leaves nothing behind.
    """
    api = connect(conn)
    with _errors(conn):
        version = str(api.status().get("netbox-version", "unknown"))
        filters = _common_filters(api, query)
        prefixes = _all(api.ipam.prefixes, conn, filters, query.prefix_statuses)
        addresses = _all(api.ipam.ip_addresses, conn, filters, query.address_statuses)
        tenants = [dict(t) for t in api.tenancy.tenants.all(limit=conn.page_size)]
    return {"prefixes": prefixes, "ip_addresses": addresses, "tenants": tenants}, version


def _common_filters(api: pynetbox.api, query: IpamQuery) -> dict[str, Any]:
    filters: dict[str, Any] = {}
    if query.families:
        filters["family"] = list(query.families)
    if query.vrfs:
        ids: list[str] = []
        for name in query.vrfs:
            if name == "global":
                ids.append("null")
                continue
            found = [str(v.id) for v in api.ipam.vrfs.filter(name=name)]
            if not found:
                raise NetBoxError(f"NetBox at {api.base_url}: no VRF named {name!r}", api.base_url)
            ids += found
        filters["vrf_id"] = ids
    return filters


def _all(
    endpoint: Any, conn: Connection, filters: Mapping[str, Any], statuses: Iterable[str]
) -> list[dict[str, Any]]:
    """Every record of an endpoint (pynetbox follows the pages), as plain nested dicts."""
    params = dict(filters)
    if statuses:
        params["status"] = list(statuses)
    records = (
        endpoint.filter(**params, limit=conn.page_size)
        if params
        else endpoint.all(limit=conn.page_size)
    )
    return [dict(r) for r in records]


class _errors:
    """Turn pynetbox/requests failures into a NetBoxError that names the URL and status only."""

    def __init__(self, conn: Connection):
        self.conn = conn

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> bool:
        if exc is None or isinstance(exc, NetBoxError):
            return False
        url = self.conn.url
        if isinstance(exc, pynetbox.RequestError):
            status = exc.req.status_code
            detail = _detail(exc.req)
            hint = " (check NETBOX_TOKEN: the token was rejected)" if status in (401, 403) else ""
            raise NetBoxError(
                self._scrub(
                    f"NetBox at {url} answered HTTP {status} "
                    f"for {_path(exc.req.url, url)}{hint}: {detail}"
                ),
                url,
                status,
            ) from None
        if isinstance(exc, (pynetbox.ContentError, ValueError)):  # requests' JSONDecodeError is one
            raise NetBoxError(
                f"NetBox at {url} did not answer with JSON (is {url} NetBox's base URL?)", url
            ) from None
        if isinstance(exc, requests.RequestException):
            raise NetBoxError(
                self._scrub(
                    f"NetBox at {url} is unreachable after {self.conn.retries} retries: "
                    f"{type(exc).__name__}: {exc}"
                ),
                url,
            ) from None
        return False

    def _scrub(self, text: str) -> str:
        return text.replace(self.conn.token, "<token>") if self.conn.token else text


def _detail(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason or ""
    if isinstance(body, Mapping) and "detail" in body:
        return str(body["detail"])
    return str(body)[:300]


def _path(full: str, base: str) -> str:
    return full[len(base.rstrip("/")) :] if full.startswith(base.rstrip("/")) else full
