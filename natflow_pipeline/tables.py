"""Every Delta table natflow writes, declared once: its name, the column it is partitioned (and
rewritten) by, and its schema where the package declares one.

Assets, checks, the dashboard and the benchmark name a table through this registry, never by a
literal, so a table is renamed or added in one place. A new daily table is one entry here and one
short asset function (``natflow_pipeline.assets.daily``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from natflow_pipeline.aws_ip_ranges import TABLE_SCHEMA as IP_RANGES_SCHEMA
from natflow_pipeline.cost_explorer import NETWORK_USAGE_SCHEMA, USAGE_SCHEMA
from natflow_pipeline.costs import SCHEMA as COSTS_SCHEMA
from natflow_pipeline.flowlogs.day import FILE_STATS_SCHEMA, NAT_FLOWS_SCHEMA
from natflow_pipeline.flowlogs.reader import REJECTED_SCHEMA
from natflow_pipeline.focus import DAY_COLUMN as FOCUS_DAY_COLUMN
from natflow_pipeline.focus import FOCUS_SCHEMA
from natflow_pipeline.network_costs import SCHEMA as NETWORK_COSTS_SCHEMA

#: The partition column of every daily table: the UTC day a flow log record's ``start`` falls in.
DAY_COLUMN = "usage_date"


@dataclass(frozen=True)
class Table:
    """One Delta table under the warehouse URI (``<warehouse>/<name>``)."""

    name: str
    #: Each write replaces exactly the rows of one value of this column (one day, one snapshot).
    partition_column: str = DAY_COLUMN
    #: The columns and types written, where the package declares them; ``None`` where the frame
    #: is shaped by the code that builds it (the written schema is in each materialization).
    schema: Mapping[str, pl.DataType] | None = None


NAT_FLOWS = Table("nat_flows", schema=NAT_FLOWS_SCHEMA)
FLOW_LOG_FILES = Table("flow_log_files", schema={**FILE_STATS_SCHEMA, DAY_COLUMN: pl.Date})
REJECTED_FLOW_LOG_LINES = Table(
    "rejected_flow_log_lines", schema={**REJECTED_SCHEMA, DAY_COLUMN: pl.Date}
)
IPAM_PREFIXES = Table("ipam_prefixes", partition_column="snapshot_date")
AWS_IP_RANGES = Table("aws_ip_ranges", partition_column="sync_token", schema=IP_RANGES_SCHEMA)
ADDRESS_ATTRIBUTION = Table("address_attribution")
TEAM_DAILY_COSTS = Table("team_daily_costs", schema=COSTS_SCHEMA)
#: The sibling gold table: per team its NAT cost and Transit Gateway data processing
#: (natflow_pipeline.network_costs; team_daily_costs' contract stays as it is).
TEAM_DAILY_NETWORK_COSTS = Table("team_daily_network_costs", schema=NETWORK_COSTS_SCHEMA)
COST_EXPLORER_NAT_USAGE = Table(
    "cost_explorer_nat_usage",
    schema={**USAGE_SCHEMA, "fetched_at": pl.Datetime("us", "UTC"), "source": pl.String},
)
_REQUESTS_SCHEMA: dict[str, pl.DataType] = {
    DAY_COLUMN: pl.Date,
    "fetched_at": pl.Datetime("us", "UTC"),
    "source": pl.String,
    "estimated": pl.Boolean,
    "pages": pl.Int64,
    "rows": pl.Int64,
    "retries": pl.Int64,
    "times_asked": pl.Int64,
}
COST_EXPLORER_REQUESTS = Table("cost_explorer_requests", schema=_REQUESTS_SCHEMA)
NAT_COST_RECONCILIATION = Table("nat_cost_reconciliation")
#: What Cost Explorer billed for Transit Gateway bytes and inter-AZ transfer (one request a day,
#: natflow_pipeline.cost_explorer.network_request_for), and each day's request.
COST_EXPLORER_NETWORK_USAGE = Table(
    "cost_explorer_network_usage",
    schema={**NETWORK_USAGE_SCHEMA, "fetched_at": pl.Datetime("us", "UTC"), "source": pl.String},
)
COST_EXPLORER_NETWORK_REQUESTS = Table("cost_explorer_network_requests", schema=_REQUESTS_SCHEMA)
#: The share of the billed TGW and inter-AZ bytes the flow logs explain
#: (natflow_pipeline.reconciliation.coverage).
NETWORK_COST_RECONCILIATION = Table("network_cost_reconciliation")
TOP_TALKERS = Table("top_talkers")
ENDPOINT_SAVINGS = Table("endpoint_savings")
#: team_daily_costs in FOCUS 1.2 columns (natflow_pipeline.focus), for FinOps tools.
FOCUS_NETWORK_COSTS = Table(
    "focus_network_costs", partition_column=FOCUS_DAY_COLUMN, schema=FOCUS_SCHEMA
)

#: Every table, in the order data flows through them.
TABLES: tuple[Table, ...] = (
    NAT_FLOWS,
    FLOW_LOG_FILES,
    REJECTED_FLOW_LOG_LINES,
    IPAM_PREFIXES,
    AWS_IP_RANGES,
    ADDRESS_ATTRIBUTION,
    TEAM_DAILY_COSTS,
    TEAM_DAILY_NETWORK_COSTS,
    COST_EXPLORER_NAT_USAGE,
    COST_EXPLORER_REQUESTS,
    NAT_COST_RECONCILIATION,
    COST_EXPLORER_NETWORK_USAGE,
    COST_EXPLORER_NETWORK_REQUESTS,
    NETWORK_COST_RECONCILIATION,
    TOP_TALKERS,
    ENDPOINT_SAVINGS,
    FOCUS_NETWORK_COSTS,
)
