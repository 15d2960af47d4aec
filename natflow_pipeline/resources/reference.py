"""Reference data: the company's IPAM (a NetBox export file or a live NetBox) and AWS's ranges."""

import abc
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
from pydantic import Field

from natflow_pipeline import aws_ip_ranges, ipam, netbox, settings
from natflow_pipeline.paths import DEFAULT_IP_RANGES, DEFAULT_IPAM_EXPORT

AWS_IP_RANGES_URL = "https://ip-ranges.amazonaws.com/ip-ranges.json"


class IpamResource(dg.ConfigurableResource, abc.ABC):
    """What every IPAM source shares: how a NetBox entry names its team and account.

    Both sources hand NetBox-shaped records to :func:`ipam.snapshot`, so a NetBox and its export
    give the same snapshot table. Abstract: a source is :class:`IpamSource` (an export file) or
    :class:`NetBoxSource` (a live NetBox), each implementing :meth:`snapshot`.
    """

    team_source: str = Field(
        default="tenant", description="tenant | tenant_group | custom_field:<name> | tag:<prefix>"
    )
    account_field: str = Field(
        default="aws_account_id", description="Custom field holding the owning AWS account."
    )
    inherit_teams: bool = Field(
        default=True, description="Bare child prefixes take their nearest ancestor's team."
    )

    @abc.abstractmethod
    def snapshot(self) -> tuple[pl.DataFrame, str]:
        """The IPAM as a snapshot table, and a description of where it came from."""

    def _table(self, export: dict[str, list[dict[str, Any]]]) -> pl.DataFrame:
        return ipam.snapshot(
            export["prefixes"],
            export["ip_addresses"],
            export.get("tenants", []),
            team_source=ipam.TeamSource(self.team_source),
            account_field=self.account_field,
            inherit=self.inherit_teams,
        )


class IpamSource(IpamResource):
    """A NetBox-shaped JSON export (the embedded default)."""

    export_path: str = Field(
        default=str(DEFAULT_IPAM_EXPORT), description="NetBox-shaped JSON export."
    )

    def snapshot(self) -> tuple[pl.DataFrame, str]:
        return self._table(ipam.load_export(Path(self.export_path))), f"file:{self.export_path}"


class NetBoxSource(IpamResource):
    """A live NetBox 4.x read with pynetbox. Set url and token from the environment
    (``dg.EnvVar("NETBOX_URL")``, ``dg.EnvVar("NETBOX_TOKEN")``); the token is never logged."""

    url: str = Field(description="NetBox's base URL, e.g. https://netbox.example.com")
    token: str = Field(
        description="API token: v2 'nbt_<key>.<secret>' (sent as Bearer) or a legacy one (Token)."
    )
    verify_tls: bool = Field(default=True, description="Verify NetBox's TLS certificate.")
    timeout_s: float = Field(default=30.0, description="Timeout of one HTTP request.")
    retries: int = Field(
        default=3, description="Retries of a failed GET (connection error, 429, 5xx)."
    )
    backoff_s: float = Field(default=0.5, description="Exponential backoff factor between retries.")
    page_size: int = Field(
        default=500, description="Records per page (pynetbox follows the pages)."
    )
    families: list[int] = Field(default_factory=list, description="4 and/or 6; empty: both.")
    prefix_statuses: list[str] = Field(
        default_factory=list, description="Prefix statuses to read; empty: all."
    )
    address_statuses: list[str] = Field(
        default_factory=list, description="IP address statuses to read; empty: all."
    )
    vrfs: list[str] = Field(
        default_factory=list, description="VRF names to read ('global': no VRF); empty: all."
    )

    def snapshot(self) -> tuple[pl.DataFrame, str]:
        conn = netbox.Connection(
            self.url,
            self.token,
            self.verify_tls,
            self.timeout_s,
            self.retries,
            self.backoff_s,
            self.page_size,
        )
        query = netbox.IpamQuery(
            self.families, self.prefix_statuses, self.address_statuses, self.vrfs
        )
        export, version = netbox.fetch_ipam(conn, query)
        return self._table(export), f"netbox:{self.url} (NetBox {version})"


def ipam_from_env() -> IpamResource:
    """The IPAM source the code location uses: ``NATFLOW_IPAM_SOURCE=netbox`` reads NetBox
    (NETBOX_URL, NETBOX_TOKEN); unset or ``file`` reads the embedded export."""
    kind = settings.ipam_source()
    if kind == "netbox":
        return NetBoxSource(url=dg.EnvVar("NETBOX_URL"), token=dg.EnvVar("NETBOX_TOKEN"))
    if kind in ("", "file"):
        return IpamSource(export_path=settings.ipam_export())
    raise ValueError(f"NATFLOW_IPAM_SOURCE={kind!r}: expected 'file' or 'netbox'")


class IpRangesSource(dg.ConfigurableResource):
    """AWS's ip-ranges.json over HTTP(S) with a timeout and retries, or a local file.

    When the URL cannot be reached, the asset falls back to the last stored version, else to
    ``fallback_path`` (the bundled snapshot), and says so.
    """

    url: str = Field(
        default=AWS_IP_RANGES_URL, description="http(s) URL or local path of ip-ranges.json."
    )
    timeout_s: float = Field(default=30.0, description="Timeout of one HTTP request.")
    retries: int = Field(
        default=3, description="Retries of a failed request (connection error, 429, 5xx)."
    )
    backoff_s: float = Field(default=0.5, description="Exponential backoff factor between retries.")
    fallback_path: str = Field(
        default=str(DEFAULT_IP_RANGES), description="Used when nothing is stored yet."
    )

    def fetch(self) -> tuple[pl.DataFrame, str]:
        """Download (or read) and validate; raises :class:`aws_ip_ranges.Unreachable` when the
        URL cannot be reached and :class:`aws_ip_ranges.IpRangesError` when it is not valid."""
        if self.url.startswith(("http://", "https://")):
            body = aws_ip_ranges.download(self.url, self.timeout_s, self.retries, self.backoff_s)
            return aws_ip_ranges.parse(body, self.url), self.url
        path = self.url.removeprefix("file://")
        try:
            body = Path(path).read_bytes()
        except OSError as exc:
            raise aws_ip_ranges.Unreachable(f"{path}: cannot read: {exc}") from exc
        return aws_ip_ranges.parse(body, path), f"file:{path}"

    def fallback(self) -> pl.DataFrame:
        return aws_ip_ranges.parse(Path(self.fallback_path).read_bytes(), self.fallback_path)


def ip_ranges_from_env() -> IpRangesSource:
    """``NATFLOW_IP_RANGES_URL`` (e.g. AWS's URL) when set; else the bundled snapshot (or the file
    ``NATFLOW_IP_RANGES_PATH`` names), so the embedded demo runs offline."""
    bundled = settings.ip_ranges_path()
    return IpRangesSource(url=settings.ip_ranges_url(), fallback_path=bundled)
