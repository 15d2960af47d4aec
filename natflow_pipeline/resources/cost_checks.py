"""Thresholds of the cost checks: reconciliation with Cost Explorer, attribution, completeness."""

import dagster as dg
from pydantic import Field

from natflow_pipeline.reconciliation import Tolerance


class CostChecksResource(dg.ConfigurableResource):
    reconciliation_tolerance: float = Field(
        default=0.01,
        description="Allowed |flow-log GB - Cost Explorer GB| as a fraction of Cost Explorer GB "
        "(0.01 = 1%).",
    )
    reconciliation_min_gb: float = Field(
        default=0.001,
        description="Absolute floor of the allowed difference, in GB "
        "(tiny usages are not 100% misses).",
    )
    cost_explorer_lag_days: int = Field(
        default=2,
        description="A day younger than this is still being billed: "
        "a gap WARNs instead of failing.",
    )
    max_unattributed_share: float = Field(
        default=0.05,
        description="Share of a day's NAT bytes with team 'unattributed' "
        "above which the check WARNs.",
    )
    completeness_lookback_days: int = Field(
        default=3,
        description="Interfaces seen in this many days before the partition "
        "must have records every hour.",
    )

    completeness_required: bool = Field(
        default=True,
        description="A missing hour fails (ERROR, blocking); "
        "false makes it a WARN (quiet gateways).",
    )

    def tolerance(self) -> Tolerance:
        return Tolerance(
            self.reconciliation_tolerance, self.reconciliation_min_gb, self.cost_explorer_lag_days
        )
