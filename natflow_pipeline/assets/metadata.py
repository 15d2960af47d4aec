"""Metadata helpers shared by the assets (what a user sees per partition in the UI)."""

import polars as pl


def markdown_table(frame: pl.DataFrame) -> str:
    """A small Markdown table for the UI (Polars has no Markdown writer)."""
    if frame.is_empty():
        return "_none_"
    columns = frame.columns
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in frame.iter_rows():
        cells = (
            ""
            if v is None
            else (f"{v:,.4f}" if isinstance(v, float) else str(v)).replace("|", "\\|")
            for v in row
        )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
