"""The flow log fields AWS documents (record versions 2 to 8) and their normalised types.

Text deliveries name fields with hyphens (``pkt-srcaddr``) in their header line; Parquet
deliveries use underscores (``pkt_srcaddr``). Everything downstream sees the underscore form with
the types below, stated once here where data enters.

Source: AWS VPC User Guide, "Logging IP traffic using VPC Flow Logs" > "Flow log records"
(available fields table, read 2026-11).
"""

from __future__ import annotations

import polars as pl

INT = pl.Int64
SMALL_INT = pl.Int32
TEXT = pl.String

#: Every documented field, in AWS's documentation order, with the version that introduced it.
FIELD_TYPES: dict[str, pl.DataType] = {
    # version 2 (the default format)
    "version": SMALL_INT,
    "account_id": TEXT,
    "interface_id": TEXT,
    "srcaddr": TEXT,
    "dstaddr": TEXT,
    "srcport": SMALL_INT,
    "dstport": SMALL_INT,
    "protocol": SMALL_INT,
    "packets": INT,
    "bytes": INT,
    "start": INT,
    "end": INT,
    "action": TEXT,
    "log_status": TEXT,
    # version 3
    "vpc_id": TEXT,
    "subnet_id": TEXT,
    "instance_id": TEXT,
    "tcp_flags": SMALL_INT,
    "type": TEXT,
    "pkt_srcaddr": TEXT,
    "pkt_dstaddr": TEXT,
    # version 4
    "region": TEXT,
    "az_id": TEXT,
    "sublocation_type": TEXT,
    "sublocation_id": TEXT,
    # version 5
    "pkt_src_aws_service": TEXT,
    "pkt_dst_aws_service": TEXT,
    "flow_direction": TEXT,
    "traffic_path": SMALL_INT,
    # version 7
    "ecs_cluster_arn": TEXT,
    "ecs_cluster_name": TEXT,
    "ecs_container_instance_arn": TEXT,
    "ecs_container_instance_id": TEXT,
    "ecs_container_id": TEXT,
    "ecs_second_container_id": TEXT,
    "ecs_service_name": TEXT,
    "ecs_task_definition_arn": TEXT,
    "ecs_task_arn": TEXT,
    "ecs_task_id": TEXT,
    # version 8
    "reject_reason": TEXT,
}

ADDRESS_FIELDS: tuple[str, ...] = ("srcaddr", "dstaddr", "pkt_srcaddr", "pkt_dstaddr")


def normalise_name(name: str) -> str:
    """``pkt-srcaddr`` (text header) and ``pkt_srcaddr`` (Parquet) both become ``pkt_srcaddr``."""
    return name.strip().lower().replace("-", "_")


def is_numeric(field: str) -> bool:
    return FIELD_TYPES[field] in (INT, SMALL_INT)
