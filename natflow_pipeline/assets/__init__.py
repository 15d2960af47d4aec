"""Assets, grouped by domain: flow logs, reference data, enrichment, costs."""
