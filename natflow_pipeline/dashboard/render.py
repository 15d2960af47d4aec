"""One self-contained HTML file: plotly charts (plotly.js inlined once, so it works offline, with no
CDN) and plain HTML tables, for the date range of a :class:`DashboardData`."""

from __future__ import annotations

import html
from datetime import datetime, timezone

import plotly.graph_objects as go
import plotly.io as pio
import polars as pl
from plotly.colors import qualitative

from natflow_pipeline.dashboard.data import (
    AVERAGE_MONTH_DAYS,
    NETWORK_CHARGES,
    NOT_RECONCILED,
    DashboardData,
    cost_by_team_day,
    network_split,
    reconciliation_status,
    savings_projection,
    top_pairs,
    unattributed_share,
)
from natflow_pipeline.ipam import UNATTRIBUTED
from natflow_pipeline.report import destination

GB = 2**30
STATUS_COLOURS = {
    "PASS": "#2e7d32",
    "WARN": "#ef6c00",
    "ERROR": "#c62828",
    NOT_RECONCILED: "#757575",
}
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}


def render(data: DashboardData) -> str:
    """The dashboard's HTML. Chart divs carry ids (``chart-...``) a browser test looks for."""
    colours = team_colours(data.costs)
    sections = [
        _kpis(data),
        _section("This month by team", _month_by_team(data)),
        _section(
            "Cost per team and day",
            _figure(cost_figure(data, colours), "chart-team-cost", first=True),
        ),
        _section("Unattributed share", _figure(unattributed_figure(data), "chart-unattributed")),
        _section("NAT / TGW / cross-AZ per team", _network_split(data)),
        _section("Top talkers", _top_talkers(data)),
        _section("VPC endpoint savings", _endpoint_savings(data, colours)),
        _section("Reconciliation with the bill", _reconciliation(data)),
    ]
    title = f"natflow: NAT gateway cost {data.first} .. {data.last}"
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return PAGE.format(
        title=html.escape(title),
        subtitle=html.escape(
            f"{len(data.days)} day(s) materialized in the range; "
            f"generated {generated} from the Delta tables"
        ),
        body="\n".join(sections),
    )


def team_colours(costs: pl.DataFrame) -> dict[str, str]:
    """A stable colour per team (alphabetical order), grey for ``unattributed``."""
    palette = qualitative.Plotly + qualitative.D3
    teams = sorted(t for t in costs["team"].unique().to_list() if t != UNATTRIBUTED)
    colours = {team: palette[i % len(palette)] for i, team in enumerate(teams)}
    colours[UNATTRIBUTED] = "#9e9e9e"
    return colours


def cost_figure(data: DashboardData, colours: dict[str, str]) -> go.Figure:
    by_team = cost_by_team_day(data.costs)
    figure = go.Figure()
    for (team,), rows in by_team.group_by("team", maintain_order=True):
        figure.add_bar(
            name=team,
            x=[d.isoformat() for d in rows["usage_date"]],
            y=rows["total_usd"].to_list(),
            marker_color=colours.get(team),
            customdata=rows["gb"].to_list(),
            hovertemplate="%{x}<br>"
            + html.escape(team)
            + ": $%{y:,.2f} (%{customdata:,.1f} GB)<extra></extra>",
        )
    figure.update_layout(
        barmode="stack", yaxis_title="USD (data processing + hourly)", xaxis_type="category"
    )
    return _styled(figure)


def unattributed_figure(data: DashboardData) -> go.Figure:
    share = unattributed_share(data.costs)
    days = [d.isoformat() for d in share["usage_date"]]
    figure = go.Figure()
    figure.add_scatter(
        name="share of bytes", x=days, y=share["bytes_share"].to_list(), mode="lines+markers"
    )
    figure.add_scatter(
        name="share of cost",
        x=days,
        y=share["cost_share"].to_list(),
        mode="lines+markers",
        line_dash="dot",
    )
    figure.update_layout(
        yaxis_tickformat=".1%",
        yaxis_title="team 'unattributed'",
        xaxis_type="category",
        yaxis_rangemode="tozero",
    )
    return _styled(figure, height=300)


def top_talkers_figure(pairs: pl.DataFrame) -> go.Figure:
    labels = [
        f"{i + 1}. {s} ({so}) → {d} ({do})"
        for i, (s, so, d, do) in enumerate(
            pairs.select("pkt_srcaddr", "src_owner", "pkt_dstaddr", "dst_owner").iter_rows()
        )
    ]
    figure = go.Figure(
        go.Bar(
            x=(pairs["bytes"] / GB).to_list(),
            y=labels,
            orientation="h",
            marker_color=["#1565c0" if d == "egress" else "#6a1b9a" for d in pairs["direction"]],
            hovertemplate="%{y}<br>%{x:,.2f} GiB<extra></extra>",
        )
    )
    figure.update_layout(
        yaxis_autorange="reversed", xaxis_title="GiB (blue: egress, purple: ingress)", margin_l=20
    )
    figure.update_yaxes(automargin=True)
    return _styled(figure, height=max(300, 24 * pairs.height + 80))


def savings_figure(projection: pl.DataFrame, colours: dict[str, str]) -> go.Figure:
    figure = go.Figure()
    services = (
        projection.group_by("aws_service", "endpoint_type")
        .agg(pl.col("monthly_saving_usd").sum())
        .sort("monthly_saving_usd")
    )
    order = [f"{s} ({t})" for s, t in services.select("aws_service", "endpoint_type").iter_rows()]
    for (team,), rows in projection.group_by("team", maintain_order=True):
        figure.add_bar(
            name=team,
            y=[f"{s} ({t})" for s, t in rows.select("aws_service", "endpoint_type").iter_rows()],
            x=rows["monthly_saving_usd"].to_list(),
            orientation="h",
            marker_color=colours.get(team),
            hovertemplate="%{y}<br>" + html.escape(team) + ": $%{x:,.2f}/month<extra></extra>",
        )
    figure.update_layout(
        barmode="relative",
        xaxis_title=f"USD per month (mean daily saving x {AVERAGE_MONTH_DAYS} days)",
    )
    figure.update_yaxes(categoryorder="array", categoryarray=order, automargin=True)
    return _styled(figure, height=max(260, 40 * len(order) + 120))


def _kpis(data: DashboardData) -> str:
    costs = data.costs
    total_usd = float(costs["total_usd"].sum() or 0.0)
    total_gb = float(costs["gb"].sum() or 0.0)
    total_bytes = int(costs["bytes"].sum() or 0)
    unattributed = int(costs.filter(pl.col("team") == UNATTRIBUTED)["bytes"].sum() or 0)
    cards = [
        ("NAT cost", f"${total_usd:,.2f}"),
        ("GB processed", f"{total_gb:,.1f}"),
        ("unattributed bytes", f"{unattributed / total_bytes:.1%}" if total_bytes else "n/a"),
    ]
    if data.endpoint_savings is not None:
        projection = savings_projection(data.endpoint_savings, len(data.days))
        monthly = float(projection.filter(pl.col("recommended"))["monthly_saving_usd"].sum() or 0.0)
        cards.append(("endpoint savings / month", f"${monthly:,.2f}"))
    statuses = (
        reconciliation_status(data.reconciliation, data.days)["status"]
        .value_counts()
        .sort("status")
    )
    cards.append(
        ("reconciliation", ", ".join(f"{n} {s}" for s, n in statuses.iter_rows()) or "n/a")
    )
    items = "".join(
        f'<div class="kpi"><div class="v">{html.escape(v)}</div>'
        f'<div class="k">{html.escape(k)}</div></div>'
        for k, v in cards
    )
    return f'<div class="kpis" id="kpis">{items}</div>'


def _month_by_team(data: DashboardData) -> str:
    """The range's latest month per team against the month before (``report.monthly_summary``:
    the same numbers ``python -m natflow_pipeline.report`` prints for the month): the same days
    of both months while the range holds part of the month, whole months when it holds all."""
    if data.month_summary is None or data.month_comparison is None:
        return _missing("no monthly summary: the dashboard was not loaded from a warehouse")
    summary, compared = data.month_summary, data.month_comparison
    days = compared.days
    before = html.escape(compared.last_period)
    against = (
        f"against {len(compared.last_days)} day(s) of {before}"
        if compared.last_days
        else f"{before} has no data, so no change is shown"
    )
    note = (
        f"<p class='note' id='month-summary-note'><b>{html.escape(compared.label)}</b> "
        f"({html.escape(compared.kind)}): {len(days)} day(s) in the range "
        f"({days[0]} .. {days[-1]}) {against}. "
        "Cost: data processing + hourly share (<code>team_daily_costs</code>). Top destination: "
        "the external address with the most bytes in the team's <code>top_talkers</code> rows of "
        "the month. Endpoint saving: what VPC endpoints would have saved of this month's cost "
        "(<code>endpoint_savings.saving_usd</code>, services whose endpoint pays off over the "
        "month). While a month is incomplete its days are compared with the same days of the "
        "month before (never part of a month with a whole one).</p>"
    )
    rows = [
        {
            "team": r["team"],
            "days": r["days"],
            "cost (USD)": r["cost_usd"],
            f"{compared.last_period} (USD)": r["last_month_cost_usd"],
            "change (USD)": None if r["change_usd"] is None else f"{r['change_usd']:+,.2f}",
            "change": None if r["change_pct"] is None else f"{r['change_pct']:+,.1f}%",
            "top destination": None if r["top_destination"] is None else destination(r),
            "GiB": None if r["top_destination_bytes"] is None else r["top_destination_bytes"] / GB,
            "endpoint saving (USD)": r["endpoint_saving_usd"],
        }
        for r in summary.iter_rows(named=True)
    ]
    return note + _table(pl.DataFrame(rows, infer_schema_length=None), table_id="month-by-team")


def _top_talkers(data: DashboardData) -> str:
    if data.top_talkers is None or data.top_talkers.is_empty():
        return _missing("top_talkers has no rows for this range: materialize the top_talkers asset")
    pairs = top_pairs(data.top_talkers)
    note = (
        "<p class='note'>True source → destination pairs (pkt-srcaddr, pkt-dstaddr), bytes summed "
        "over the days each pair was in its day's top N.</p>"
    )
    table = _table(
        pairs.select(
            pl.col("pkt_srcaddr").alias("source"),
            pl.col("src_owner").alias("source owner"),
            pl.col("pkt_dstaddr").alias("destination"),
            pl.col("dst_owner").alias("destination owner"),
            "direction",
            (pl.col("bytes") / GB).alias("GiB"),
            pl.col("days_in_top").alias("days in top"),
        )
    )
    return note + _figure(top_talkers_figure(pairs), "chart-top-talkers") + table


def _endpoint_savings(data: DashboardData, colours: dict[str, str]) -> str:
    if data.endpoint_savings is None or data.endpoint_savings.is_empty():
        return _missing(
            "no endpoint-eligible traffic in this range (or endpoint_savings not materialized)"
        )
    projection = savings_projection(data.endpoint_savings, len(data.days))
    services = (
        data.endpoint_savings.group_by(
            "region", "aws_service", "endpoint_type", "endpoint_service", "price_source"
        )
        .agg(
            (pl.col("gb").sum() / len(data.days)).alias("GB per day"),
            pl.col("break_even_gb_per_day").first().alias("break-even GB per day"),
            (pl.col("saving_usd").sum() / len(data.days) * AVERAGE_MONTH_DAYS).alias(
                "USD per month"
            ),
            pl.col("recommended").all(),
        )
        .sort("USD per month", descending=True)
    )
    note = (
        "<p class='note'>Gateway endpoints (S3, DynamoDB; same region) are free: the NAT "
        "data-processing charge is the saving. Interface endpoints pay off above their break-even "
        "volume (hourly charge per AZ + per-GB charge). Negative bars: an endpoint would cost more "
        "than the NAT processing it saves.</p>"
    )
    return (
        note
        + _figure(savings_figure(projection, colours), "chart-endpoint-savings")
        + _table(services)
    )


def network_split_figure(split: pl.DataFrame) -> go.Figure:
    """Per team, its NAT, TGW and cross-AZ USD over the range, stacked."""
    figure = go.Figure()
    for column, label in NETWORK_CHARGES:
        if split[column].null_count() == split.height:
            continue
        figure.add_bar(name=label, x=split["team"].to_list(), y=split[column].to_list())
    figure.update_layout(barmode="stack", yaxis_title="USD in the range")
    return _styled(figure)


def _network_split(data: DashboardData) -> str:
    if data.network_costs is None:
        return _missing(
            "The table team_daily_network_costs does not exist: no TGW or cross-AZ split yet "
            "(materialize team_daily_network_costs)."
        )
    split = network_split(data.network_costs)
    absent = [label for column, label in NETWORK_CHARGES if column not in data.network_costs]
    note = (
        "<p class='note'>Each team's NAT, Transit Gateway and cross-AZ charges over the range "
        "(table <code>team_daily_network_costs</code>)"
        + (f"; {html.escape(', '.join(absent))}: not computed" if absent else "")
        + ".</p>"
    )
    shown = split.rename({c: f"{label} USD" for c, label in NETWORK_CHARGES})
    return (
        note
        + _figure(network_split_figure(split), "chart-network-split")
        + _table(shown, table_id="network-split")
    )


def _reconciliation(data: DashboardData) -> str:
    status = reconciliation_status(data.reconciliation, data.days)
    note = (
        "<p class='note'>Flow-log GB against Cost Explorer's NAT usage per day, account and region "
        "(table <code>nat_cost_reconciliation</code>).</p>"
        if data.reconciliation is not None
        else "<p class='note'>The reconciliation table <code>nat_cost_reconciliation</code> "
        "does not exist: no day is reconciled against the bill yet.</p>"
    )
    return note + _table(status, status_column="status")


def _figure(figure: go.Figure, div_id: str, first: bool = False) -> str:
    """A chart div; plotly.js itself is inlined with the first chart only (about 4.8 MB, once)."""
    return pio.to_html(
        figure, full_html=False, include_plotlyjs=first, div_id=div_id, config=PLOTLY_CONFIG
    )


def _styled(figure: go.Figure, height: int = 380) -> go.Figure:
    figure.update_layout(
        template="plotly_white",
        height=height,
        margin={"t": 40, "r": 20, "b": 50},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
    )
    return figure


def _table(
    frame: pl.DataFrame, status_column: str | None = None, table_id: str | None = None
) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in frame.columns)
    rows = []
    for row in frame.iter_rows(named=True):
        cells = []
        for column, value in row.items():
            text = _cell(value)
            if column == status_column:
                colour = STATUS_COLOURS.get(str(value), "#757575")
                text = f'<span class="badge" style="background:{colour}">{text}</span>'
            cells.append(f"<td>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    opening = f'<table id="{html.escape(table_id)}">' if table_id else "<table>"
    return f"{opening}<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _cell(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return html.escape(str(value))


def _section(title: str, body: str) -> str:
    return f"<section><h2>{html.escape(title)}</h2>{body}</section>"


def _missing(message: str) -> str:
    return f"<p class='missing'>{html.escape(message)}</p>"


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: "DejaVu Sans", Arial, sans-serif; margin: 24px; \
color: #212121; background: #fafafa; }}
h1 {{ margin: 0 0 4px 0; font-size: 22px; }}
h2 {{ font-size: 17px; margin: 0 0 8px 0; }}
.sub, .note {{ color: #616161; font-size: 13px; }}
section {{ background: #fff; border: 1px solid #e0e0e0; border-radius: 6px; \
padding: 14px; margin: 14px 0; }}
.kpis {{ display: flex; gap: 12px; flex-wrap: wrap; margin-top: 14px; }}
.kpi {{ background: #fff; border: 1px solid #e0e0e0; border-radius: 6px; \
padding: 10px 16px; min-width: 150px; }}
.kpi .v {{ font-size: 20px; font-weight: bold; }}
.kpi .k {{ font-size: 12px; color: #616161; }}
table {{ border-collapse: collapse; font-size: 12px; margin-top: 8px; }}
th, td {{ border-bottom: 1px solid #eeeeee; padding: 3px 8px; text-align: left; }}
th {{ background: #f5f5f5; }}
.badge {{ color: #fff; border-radius: 3px; padding: 1px 6px; }}
.missing {{ color: #c62828; }}
</style>
</head>
<body>
<h1>{title}</h1>
<div class="sub">{subtitle}</div>
{body}
</body>
</html>
"""
