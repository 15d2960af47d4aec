"""Where the code location reads and writes, from environment variables (defaults: data/).

One image serves every environment: a developer's `dagster dev`, the backfill tests (7 generated
days in a temporary folder, or on a moto S3 server) and a Kubernetes deployment (S3, set in the
Helm values) differ only in these variables, never in code.

Every variable the package reads is declared once in ``SETTINGS``; the README's table is
``settings_table()``'s output (a test holds them equal), so the documentation cannot drift from
what the code reads. An empty variable counts as unset, so a Helm value left blank falls back to
the default. Secrets (``NETBOX_TOKEN``, AWS keys) are not settings: they reach the resources only
as Dagster ``EnvVar``s or through the AWS credential chain.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from natflow_pipeline.paths import (
    DEFAULT_COST_EXPLORER_FILE,
    DEFAULT_FLOW_LOGS,
    DEFAULT_IP_RANGES,
    DEFAULT_IPAM_EXPORT,
    DEFAULT_WAREHOUSE,
)
from natflow_pipeline.sample_data.company import EGRESS_VPC_CIDRS

#: The first day of the embedded sample; production sets NATFLOW_START_DATE to its first day.
SAMPLE_START_DATE = "2026-11-01"


@dataclass(frozen=True)
class Setting:
    """One environment variable: what it sets and what unset (or empty) means."""

    variable: str
    sets: str
    default: str | None
    default_text: str

    def value(self) -> str | None:
        return os.environ.get(self.variable) or self.default


def _path_text(path: object) -> str:
    """A bundled default as the README shows it: relative to the repository."""
    text = str(path).replace(os.sep, "/")
    return text[text.index("data/") :] if "data/" in text else text


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "NATFLOW_FLOW_LOGS_URI",
        "`flow_logs.uri`",
        str(DEFAULT_FLOW_LOGS),
        f"`{_path_text(DEFAULT_FLOW_LOGS)}`",
    ),
    Setting(
        "NATFLOW_WAREHOUSE_URI",
        "`warehouse.uri`",
        str(DEFAULT_WAREHOUSE),
        f"`{_path_text(DEFAULT_WAREHOUSE)}`",
    ),
    Setting(
        "NATFLOW_IPAM_SOURCE",
        "which IPAM source: `file` (the export) or `netbox`",
        "file",
        "`file`",
    ),
    Setting(
        "NATFLOW_IPAM_EXPORT",
        "`ipam.export_path` (source `file`)",
        str(DEFAULT_IPAM_EXPORT),
        f"`{_path_text(DEFAULT_IPAM_EXPORT)}`",
    ),
    Setting(
        "NATFLOW_IP_RANGES_URL", "`ip_ranges.url`", None, "the file `NATFLOW_IP_RANGES_PATH` names"
    ),
    Setting(
        "NATFLOW_IP_RANGES_PATH",
        "`ip_ranges.fallback_path`, and `ip_ranges.url` when `NATFLOW_IP_RANGES_URL` is unset",
        str(DEFAULT_IP_RANGES),
        f"`{_path_text(DEFAULT_IP_RANGES)}`",
    ),
    Setting(
        "NATFLOW_COST_EXPLORER_FILE",
        "`cost_explorer.file_path` (offline `file` mode)",
        str(DEFAULT_COST_EXPLORER_FILE),
        f"`{_path_text(DEFAULT_COST_EXPLORER_FILE)}`",
    ),
    Setting(
        "NATFLOW_S3_ENDPOINT_URL",
        "`s3_endpoint_url` of `flow_logs` and `warehouse`",
        None,
        "unset (AWS)",
    ),
    Setting(
        "NATFLOW_S3_REGION",
        "`s3_region` of `flow_logs` and `warehouse`",
        None,
        "unset (the AWS chain's)",
    ),
    Setting(
        "NATFLOW_PRICE_OVERRIDES",
        "`pricing.price_overrides`: `{charge: {region: usd}}` as inline JSON or a JSON file's path "
        "([Prices](docs/pricing.md#overriding-a-price))",
        None,
        "unset (the catalogue's prices)",
    ),
    Setting(
        "NATFLOW_EGRESS_VPC_CIDRS",
        "`network_costs.egress_vpc_cidrs`: the egress VPC's own CIDRs, comma-separated (their "
        "clients do not cross the Transit Gateway; IPAM prefixes marked `vpc_role` = `egress` are "
        "added; [Network costs](docs/network-costs.md))",
        ",".join(EGRESS_VPC_CIDRS),
        f"`{','.join(EGRESS_VPC_CIDRS)}`, the sample's egress VPC",
    ),
    Setting(
        "NATFLOW_INTERFACE_AZS",
        "`network_costs.interface_azs`: each NAT interface's AZ ID, for flow log formats without "
        "`az-id`, as comma-separated `eni-...=use1-az1` pairs "
        "([Network costs](docs/network-costs.md#cross-az-transfer))",
        None,
        "unset (the flow log's `az-id` only)",
    ),
    Setting(
        "NATFLOW_START_DATE",
        "the first daily partition",
        SAMPLE_START_DATE,
        f"{SAMPLE_START_DATE}, the sample's first day",
    ),
)

_BY_VARIABLE = {entry.variable: entry for entry in SETTINGS}


def _value(variable: str) -> str | None:
    return _BY_VARIABLE[variable].value()


def _required(variable: str) -> str:
    value = _value(variable)
    assert value is not None, f"{variable} has no default"
    return value


def settings_table() -> str:
    """The Markdown table of every setting, as the README carries it."""
    rows = ["| variable | sets | default |", "| --- | --- | --- |"]
    rows += [f"| `{s.variable}` | {s.sets} | {s.default_text} |" for s in SETTINGS]
    return "\n".join(rows)


def flow_logs_uri() -> str:
    return _required("NATFLOW_FLOW_LOGS_URI")


def warehouse_uri() -> str:
    return _required("NATFLOW_WAREHOUSE_URI")


def ipam_source() -> str:
    return _required("NATFLOW_IPAM_SOURCE").strip().lower()


def ipam_export() -> str:
    return _required("NATFLOW_IPAM_EXPORT")


def ip_ranges_path() -> str:
    return _required("NATFLOW_IP_RANGES_PATH")


def ip_ranges_url() -> str:
    """AWS's URL (or any http(s) URL or path) when set; else the bundled snapshot, offline."""
    return _value("NATFLOW_IP_RANGES_URL") or ip_ranges_path()


def cost_explorer_file() -> str:
    return _required("NATFLOW_COST_EXPLORER_FILE")


def s3_endpoint_url() -> str | None:
    return _value("NATFLOW_S3_ENDPOINT_URL")


def s3_region() -> str | None:
    return _value("NATFLOW_S3_REGION")


def price_overrides() -> str | None:
    """Inline JSON or a JSON file's path (``price_catalogue.read_overrides`` reads either)."""
    return _value("NATFLOW_PRICE_OVERRIDES")


def start_date() -> str:
    return _required("NATFLOW_START_DATE")


def egress_vpc_cidrs() -> list[str]:
    """The egress VPC's CIDRs, from a comma-separated list (blanks around each ignored)."""
    return [
        cidr.strip() for cidr in _required("NATFLOW_EGRESS_VPC_CIDRS").split(",") if cidr.strip()
    ]


def interface_azs() -> dict[str, str]:
    """NAT interface -> AZ ID from comma-separated ``interface=az`` pairs (blanks ignored); a pair
    without ``=`` raises ValueError naming the variable."""
    out: dict[str, str] = {}
    for pair in (_value("NATFLOW_INTERFACE_AZS") or "").split(","):
        if not pair.strip():
            continue
        interface, sep, az = pair.partition("=")
        if not sep or not interface.strip() or not az.strip():
            raise ValueError(
                f"NATFLOW_INTERFACE_AZS: {pair.strip()!r} is not interface=az (eni-...=use1-az1)"
            )
        out[interface.strip()] = az.strip()
    return out
