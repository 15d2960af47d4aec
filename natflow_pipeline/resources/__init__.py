"""Dagster resources: where flow logs, reference data and the warehouse live, and the prices."""
