"""Settings of the network charges beside NAT (``team_daily_network_costs``)."""

import ipaddress

import dagster as dg
from pydantic import Field, field_validator

from natflow_pipeline import settings
from natflow_pipeline.sample_data.company import EGRESS_VPC_CIDRS


class NetworkCostsResource(dg.ConfigurableResource):
    egress_vpc_cidrs: list[str] = Field(
        default_factory=lambda: list(EGRESS_VPC_CIDRS),
        description="The egress VPC's own CIDRs (IPv4 or IPv6): internal addresses in them reach "
        "the NAT without crossing the Transit Gateway, so they pay no TGW data processing "
        "(the code location reads them from NATFLOW_EGRESS_VPC_CIDRS; default: the sample "
        "company's egress VPC). The IPAM's prefixes with the custom field vpc_role = egress "
        "count as the egress VPC too (the union of both is used).",
    )

    interface_azs: dict[str, str] = Field(
        default_factory=dict,
        description="NAT gateway interface (eni-...) -> its Availability Zone ID (use1-az1), "
        "for flow logs whose format has no az-id: cross-AZ transfer needs the NAT's AZ. The "
        "flow log's az-id wins where it is present; an interface in neither has an unknown AZ "
        "(the code location reads them from NATFLOW_INTERFACE_AZS; default: none).",
    )

    @field_validator("interface_azs")
    @classmethod
    def _azs(cls, azs: dict[str, str]) -> dict[str, str]:
        for interface, az in azs.items():
            if not interface.strip() or not az.strip():
                raise ValueError(
                    f"interface_azs: {interface!r}: {az!r} needs an interface and an AZ"
                )
        return {interface.strip(): az.strip() for interface, az in azs.items()}

    @field_validator("egress_vpc_cidrs")
    @classmethod
    def _cidrs(cls, cidrs: list[str]) -> list[str]:
        for cidr in cidrs:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError as err:
                raise ValueError(f"egress_vpc_cidrs: {cidr!r} is not a CIDR ({err})") from err
        return cidrs


def network_costs_from_env() -> NetworkCostsResource:
    """The code location's network costs: the egress VPC's CIDRs from NATFLOW_EGRESS_VPC_CIDRS
    and the NAT interfaces' AZs from NATFLOW_INTERFACE_AZS (a bad value fails the code location's
    load)."""
    return NetworkCostsResource(
        egress_vpc_cidrs=settings.egress_vpc_cidrs(), interface_azs=settings.interface_azs()
    )
