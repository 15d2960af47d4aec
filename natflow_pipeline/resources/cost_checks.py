"""Thresholds of the cost checks: reconciliation with Cost Explorer, attribution, completeness,
and per-team spend anomalies."""

from typing import Self

import dagster as dg
from pydantic import Field, model_validator

from natflow_pipeline.anomalies import AnomalyRules
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

    anomaly_window_days: int = Field(
        default=14,
        ge=1,
        description="A team's day is judged against its own days in this many days before it "
        "(median and MAD of the daily cost).",
    )
    anomaly_min_history_days: int = Field(
        default=7,
        ge=1,
        description="A team with fewer days than this in the window is not judged (its first "
        "days).",
    )
    anomaly_k: float = Field(
        default=4.0,
        gt=0,
        description="A day alerts when its cost exceeds the median by more than "
        "k x 1.4826 x MAD (and both floors below).",
    )
    anomaly_min_jump_usd: float = Field(
        default=1.0,
        ge=0,
        description="A jump over the median below this many USD never alerts (small teams).",
    )
    anomaly_min_jump_ratio: float = Field(
        default=0.5,
        ge=0,
        description="A jump below this fraction of the team's median never alerts (0.5 = +50%).",
    )
    anomaly_top_talkers: int = Field(
        default=5, ge=1, description="Talkers listed per anomalous team in the check's metadata."
    )

    @model_validator(mode="after")
    def _anomaly_history_fits_the_window(self) -> Self:
        """Refused when the resource is built (before any day is read or written), not when the
        check runs after the day's gold partition is written."""
        if self.anomaly_min_history_days > self.anomaly_window_days:
            raise ValueError(
                f"anomaly_min_history_days ({self.anomaly_min_history_days}) cannot exceed "
                f"anomaly_window_days ({self.anomaly_window_days}): no team would ever be judged"
            )
        return self

    def tolerance(self) -> Tolerance:
        return Tolerance(
            self.reconciliation_tolerance, self.reconciliation_min_gb, self.cost_explorer_lag_days
        )

    def anomaly_rules(self) -> AnomalyRules:
        return AnomalyRules(
            window_days=self.anomaly_window_days,
            min_history_days=self.anomaly_min_history_days,
            k=self.anomaly_k,
            min_jump_usd=self.anomaly_min_jump_usd,
            min_jump_ratio=self.anomaly_min_jump_ratio,
            top_talkers=self.anomaly_top_talkers,
        )
