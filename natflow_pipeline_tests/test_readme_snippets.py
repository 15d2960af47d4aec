"""The "Reading the outputs from other tools" snippets (docs/reading-outputs.md, linked from the
README) run as written and agree."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import polars as pl
import pytest

README = Path(__file__).resolve().parents[1] / "docs" / "reading-outputs.md"
SNIPPET = re.compile(r"<!-- snippet: (\w+) -->\s*```python\n(.*?)```", re.DOTALL)
TOOLS = ("polars", "pandas", "duckdb", "datafusion")


def readme_snippets() -> dict[str, str]:
    return dict(SNIPPET.findall(README.read_text()))


def test_the_readme_has_a_snippet_per_tool():
    assert tuple(readme_snippets()) == TOOLS


@pytest.fixture(scope="module")
def snippet_results(sample_warehouse, tmp_path_factory) -> dict[str, pl.DataFrame]:
    """Each snippet run in a folder whose ``data/warehouse`` is the materialized sample
    warehouse."""
    workdir = tmp_path_factory.mktemp("readme")
    (workdir / "data").mkdir()
    (workdir / "data" / "warehouse").symlink_to(sample_warehouse.uri, target_is_directory=True)
    results = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(workdir)
        for tool, code in readme_snippets().items():
            namespace: dict = {}
            exec(compile(code, f"docs/reading-outputs.md snippet {tool}", "exec"), namespace)  # noqa: S102 - our own README
            frame = namespace["per_team"]
            results[tool] = (
                frame
                if isinstance(frame, pl.DataFrame)
                else pl.from_pandas(pd.DataFrame(frame).reset_index(drop=True))
            )
    return results


@pytest.mark.parametrize("tool", TOOLS)
def test_each_snippet_agrees_with_the_warehouse(snippet_results, sample_warehouse, tool):
    expected = (
        sample_warehouse.get()
        .scan("team_daily_costs")
        .group_by("team")
        .agg(pl.col("bytes").sum(), pl.col("total_usd").sum())
        .sort("team")
        .collect()
    )
    got = snippet_results[tool].select("team", "bytes", "total_usd")
    assert got["team"].to_list() == expected["team"].to_list()
    assert got["bytes"].cast(pl.Int64).to_list() == expected["bytes"].to_list()
    assert got["total_usd"].to_list() == pytest.approx(expected["total_usd"].to_list(), rel=1e-12)
    assert expected.height == 8 and expected["bytes"].sum() > 0
