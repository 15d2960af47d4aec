"""The embedded default is what its seeded generator writes, byte for byte."""

from __future__ import annotations

import filecmp
from datetime import date

from natflow_pipeline.paths import DATA_DIR, DEFAULT_IP_RANGES
from natflow_pipeline.sample_data.__main__ import (
    SAMPLE_CONNECTIONS_PER_DAY,
    SAMPLE_DAYS,
    SAMPLE_SEED,
)
from natflow_pipeline.sample_data.generator import generate
from natflow_pipeline.settings import SAMPLE_START_DATE


def test_regenerating_reproduces_the_committed_sample(tmp_path):
    generate(
        tmp_path,
        DEFAULT_IP_RANGES,
        date.fromisoformat(SAMPLE_START_DATE),
        SAMPLE_DAYS,
        SAMPLE_CONNECTIONS_PER_DAY,
        SAMPLE_SEED,
    )
    for rel in ("ground_truth.json", "ipam/netbox-export.json", "cost_explorer/nat-usage.json"):
        assert filecmp.cmp(tmp_path / rel, DATA_DIR / rel, shallow=False), rel
    generated = sorted(p.relative_to(tmp_path) for p in (tmp_path / "flowlogs").rglob("*.gz"))
    committed = sorted(p.relative_to(DATA_DIR) for p in (DATA_DIR / "flowlogs").rglob("*.gz"))
    assert generated == committed
    assert all(filecmp.cmp(tmp_path / p, DATA_DIR / p, shallow=False) for p in generated)


def test_sample_has_what_the_generator_promises(ground_truth):
    assert len(ground_truth["days"]) == 3
    for day in ground_truth["days"].values():
        classes = {r["destination_class"] for r in day["by_team"]}
        services = {r["aws_service"] for r in day["by_team"]}
        assert classes == {"aws_same_region", "aws_other_region", "internet"}
        assert {"S3", "DYNAMODB", "EC2", None} <= services
