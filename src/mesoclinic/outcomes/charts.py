"""Progress charts drawn on the server as SVG (Matplotlib, no pyplot), shared by the Progress
tab and the printed report, so pages need no JavaScript and print as sharp vectors.

Matplotlib takes a moment to load (about half of the server's start-up), so it is imported
by the first chart drawn, not with this module: `mesoclinic serve` is ready sooner and the
command line stays quick.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from html import escape
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

INK = "#1d2733"
MUTED = "#5b6b7b"
LINE = "#d9e0e7"
BRAND = "#1f6f8b"
OK = "#1d7a46"
PRP = "#b42318"


@dataclass(frozen=True)
class ChartInput:
    """What one chart shows, as plain values."""

    chart_id: str  # unique on the page: the SVG's title and description ids derive from it
    title: str
    unit: str  # shown on the y axis ("/cm²", "hairs")
    points: Sequence[tuple[datetime, float]]
    sessions: Sequence[tuple[datetime, bool]] = ()  # (performed at, PRP given)
    baseline: float | None = None
    threshold: float | None = None
    threshold_label: str = ""
    description: str = ""  # what a screen reader hears; the data table sits beside the chart


def _range(inp: ChartInput) -> tuple[datetime, datetime]:
    moments = [t for t, _ in inp.points] + [t for t, _ in inp.sessions]
    start, end = min(moments), max(moments)
    pad = max((end - start) * 0.05, timedelta(days=10))
    return start - pad, end + pad


def _matplotlib() -> ModuleType:
    """Matplotlib with its non-interactive backend (no display on a server)."""
    import matplotlib

    matplotlib.use("Agg")
    return matplotlib


def _draw(fig: Figure, inp: ChartInput) -> None:
    from matplotlib import dates as mdates

    ax = fig.add_subplot(1, 1, 1)
    # No drawn title: the page's heading names the chart (the SVG keeps <title> for readers).
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(LINE)
    ax.tick_params(colors=MUTED, labelsize=8)
    ax.grid(axis="y", color=LINE, linewidth=0.6)
    if not inp.points:
        ax.set_xticks([])
        ax.set_yticks([])
        ax.text(0.5, 0.5, "No values yet", ha="center", va="center", color=MUTED, fontsize=10)
        return
    start, end = _range(inp)
    ax.set_xlim(mdates.date2num(start), mdates.date2num(end))  # type: ignore[no-untyped-call]
    xs = [mdates.date2num(t) for t, _ in inp.points]  # type: ignore[no-untyped-call]
    ys = [v for _, v in inp.points]
    ax.plot(xs, ys, color=BRAND, linewidth=2, marker="o", markersize=5, label="Measured")
    if inp.baseline is not None:
        ax.axhline(inp.baseline, color=MUTED, linestyle="--", linewidth=1, label="Baseline")
    if inp.threshold is not None:
        label = inp.threshold_label or "Responder threshold"
        ax.axhline(inp.threshold, color=OK, linestyle=":", linewidth=1.5, label=label)
    lows = ys + [v for v in (inp.baseline, inp.threshold) if v is not None]
    low, high = min(lows), max(lows)
    span = (high - low) or max(abs(high) * 0.1, 1.0)
    ax.set_ylim(low - span * 0.35, high + span * 0.2)
    plain = [mdates.date2num(t) for t, prp in inp.sessions if not prp]  # type: ignore[no-untyped-call]
    prp = [mdates.date2num(t) for t, prp in inp.sessions if prp]  # type: ignore[no-untyped-call]
    floor = low - span * 0.28
    if plain:
        ax.scatter(plain, [floor] * len(plain), marker="^", color=MUTED, s=28, label="Session")
    if prp:
        ax.scatter(prp, [floor] * len(prp), marker="D", color=PRP, s=26, label="Session with PRP")
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=7))  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))  # type: ignore[no-untyped-call]
    if inp.unit:
        ax.set_ylabel(inp.unit, color=MUTED, fontsize=9)
    ax.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, -0.14),
        ncol=5,
        frameon=False,
        fontsize=8,
        labelcolor=INK,
    )


def series_chart(inp: ChartInput) -> str:
    """The chart as inline SVG markup with a title and a description for screen readers."""
    matplotlib = _matplotlib()
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.2, 2.5), dpi=100)
    fig.patch.set_alpha(0)
    _draw(fig, inp)
    fig.tight_layout(pad=0.6)
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": inp.chart_id}):
        fig.savefig(buffer, format="svg")
    return _accessible(buffer.getvalue(), inp)


def _accessible(svg: str, inp: ChartInput) -> str:
    """Drop the XML prologue; name the chart (role, title, desc) and let it scale to its box."""
    svg = svg[svg.index("<svg") :]
    title_id, desc_id = f"{inp.chart_id}-title", f"{inp.chart_id}-desc"
    svg = re.sub(r'(<svg[^>]*?) width="[^"]*" height="[^"]*"', r"\1", svg, count=1)
    head = (
        f'<svg role="img" aria-labelledby="{title_id} {desc_id}" class="chart" '
        f'preserveAspectRatio="xMidYMid meet"'
    )
    description = inp.description or f"{len(inp.points)} values; the data is in the table."
    labels = (
        f'<title id="{title_id}">{escape(inp.title)}</title>'
        f'<desc id="{desc_id}">{escape(description)}</desc>'
    )
    svg = svg.replace("<svg", head, 1)
    close = svg.index(">", svg.index("<svg")) + 1
    return svg[:close] + labels + svg[close:]


COHORT_COLOURS = (BRAND, PRP, OK, MUTED)


@dataclass(frozen=True)
class CohortSeries:
    """One cohort's mean change at each time point: (months, mean, CI low, CI high)."""

    label: str
    points: Sequence[tuple[float, float, float | None, float | None]]


@dataclass(frozen=True)
class ChangeChartInput:
    """Mean change from baseline over months for one or more cohorts (analytics)."""

    chart_id: str
    title: str
    unit: str
    series: Sequence[CohortSeries]
    description: str = ""


def change_chart(inp: ChangeChartInput) -> str:
    """Mean change with its 95 % CI at each time point, one line per cohort, as inline SVG."""
    matplotlib = _matplotlib()
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.2, 2.8), dpi=100)
    fig.patch.set_alpha(0)
    ax = fig.add_subplot(1, 1, 1)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(LINE)
    ax.tick_params(colors=MUTED, labelsize=8)
    ax.grid(axis="y", color=LINE, linewidth=0.6)
    ax.axhline(0, color=MUTED, linewidth=0.8, linestyle="--")
    drawn = [s for s in inp.series if s.points]
    if not drawn:
        ax.set_xticks([])
        ax.set_yticks([])
        ax.text(0.5, 0.5, "No change to show yet", ha="center", va="center", color=MUTED)
    shift = 0.12 * (len(drawn) - 1)
    for index, series in enumerate(drawn):
        colour = COHORT_COLOURS[index % len(COHORT_COLOURS)]
        xs = [m - shift / 2 + 0.12 * index for m, *_ in series.points]
        means = [v for _, v, _, _ in series.points]
        lows = [v - (lo if lo is not None else v) for _, v, lo, _ in series.points]
        highs = [(hi if hi is not None else v) - v for _, v, _, hi in series.points]
        ax.errorbar(
            xs, means, yerr=[lows, highs], color=colour, marker="o", markersize=5,
            linewidth=2, capsize=4, label=series.label,
        )  # fmt: skip
    if drawn:
        ax.set_xticks([0, 3, 6, 12])
        ax.set_xticklabels(["Baseline", "3 months", "6 months", "12 months"])
        ax.set_xlim(-0.8, 12.8)
        ax.legend(loc="upper left", frameon=False, fontsize=8, labelcolor=INK)
    if inp.unit:
        ax.set_ylabel(f"change ({inp.unit})", color=MUTED, fontsize=9)
    fig.tight_layout(pad=0.6)
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": inp.chart_id}):
        fig.savefig(buffer, format="svg")
    count = sum(len(s.points) for s in drawn)
    shell = ChartInput(inp.chart_id, inp.title, inp.unit, (), description=inp.description)
    text = inp.description or f"{count} means with their 95 % intervals; the data is in the table."
    return _accessible(buffer.getvalue(), replace(shell, description=text))
