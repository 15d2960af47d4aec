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


def usd(amount: float | None) -> float:
    """Money to the cent, or to 4 decimals below a dollar, where cents would hide the day's cost.
    Always a float, so the UI plots the key across partitions (the tables keep full precision)."""
    value = float(amount or 0.0)
    return round(value, 2 if abs(value) >= 1 else 4)


def gb(amount: float | None) -> float:
    """Gigabytes to 3 decimals (to the megabyte)."""
    return round(float(amount or 0.0), 3)


def pct(part: float, whole: float) -> float:
    """``part`` as a percentage of ``whole``, to 2 decimals; 0.0 when ``whole`` is 0."""
    return round(100.0 * part / whole, 2) if whole else 0.0
