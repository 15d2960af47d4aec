"""settings.py alone reads NATFLOW_* variables, and the README's table is its own."""

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

from natflow_pipeline import settings

ROOT = Path(__file__).resolve().parents[1]


def test_readme_table_is_generated_from_the_settings():
    assert settings.settings_table() in (ROOT / "README.md").read_text()


def test_no_module_but_settings_reads_a_natflow_variable():
    for path in (ROOT / "natflow_pipeline").rglob("*.py"):
        if path.name == "settings.py":
            continue
        text = path.read_text()
        assert not re.search(r"os\.environ|os\.getenv", text), f"{path} reads the environment"


@pytest.mark.parametrize("variable", [s.variable for s in settings.SETTINGS if s.default])
def test_an_empty_variable_means_the_default(monkeypatch, variable):
    monkeypatch.setenv(variable, "")
    entry = next(s for s in settings.SETTINGS if s.variable == variable)
    assert entry.value() == entry.default


def test_ip_ranges_url_falls_back_to_the_path(monkeypatch, tmp_path):
    monkeypatch.delenv("NATFLOW_IP_RANGES_URL", raising=False)
    monkeypatch.setenv("NATFLOW_IP_RANGES_PATH", str(tmp_path / "ranges.json"))
    assert settings.ip_ranges_url() == str(tmp_path / "ranges.json")
    monkeypatch.setenv("NATFLOW_IP_RANGES_URL", "http://127.0.0.1:1/ip-ranges.json")
    assert settings.ip_ranges_url() == "http://127.0.0.1:1/ip-ranges.json"


def test_code_location_loads_with_an_empty_start_date():
    # A fresh interpreter: the partitions definition is built at import time.
    code = (
        "from natflow_pipeline.partitions import daily_partitions;"
        "from natflow_pipeline.settings import SAMPLE_START_DATE;"
        "assert daily_partitions.start.strftime('%Y-%m-%d') == SAMPLE_START_DATE;"
        "import natflow_pipeline.definitions"
    )
    env = {"NATFLOW_START_DATE": "", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]


def test_start_date_is_read_through_settings(monkeypatch):
    monkeypatch.setenv("NATFLOW_START_DATE", "2026-10-15")
    import natflow_pipeline.partitions as partitions

    try:
        start = importlib.reload(partitions).daily_partitions.start
        assert start.strftime("%Y-%m-%d") == "2026-10-15"
    finally:
        monkeypatch.delenv("NATFLOW_START_DATE")
        importlib.reload(partitions)
