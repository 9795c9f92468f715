"""Server-side SVG charts (no JavaScript, no library): a line or bar chart with axes, and a sparkline.

The markup uses classes only (``series-0``...``series-5``, ``axis``, ``grid``), never inline
styles, so the page's CSP can forbid them and console.css colours the charts. Each chart has a
<title> and a <desc> naming its series and their latest values, for screen readers.
"""

import math
from dataclasses import dataclass
from datetime import datetime
from itertools import count

from markupsafe import Markup, escape

_ids = count(1)


@dataclass(frozen=True)
class Line:
    label: str
    timestamps: list[datetime]
    values: list[float]


def format_value(value: float, unit: str) -> str:
    if value == 0:
        return {"Milliseconds": "0 ms", "Bytes": "0 B"}.get(unit, "0")
    if unit == "Milliseconds":
        return f"{value:,.0f} ms" if value >= 100 else f"{value:,.1f} ms"
    if unit == "Bytes":
        for suffix, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
            if value >= size:
                return f"{value / size:,.1f} {suffix}"
        return f"{value:,.0f} B"
    if value and abs(value) < 10 and value != int(value):
        return f"{value:,.2f}"
    return f"{value:,.0f}"


def nice_max(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten that is at least value (1 for nothing)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= value)


def _time_label(moment: datetime, span_s: float) -> str:
    return moment.strftime(
        "%H:%M" if span_s <= 36 * 3600 else "%m-%d %H:%M" if span_s <= 4 * 86400 else "%m-%d"
    )


def chart(
    title: str,
    lines: list[Line],
    unit: str,
    start: datetime,
    end: datetime,
    *,
    kind: str = "line",
    period_s: int = 300,
    width: int = 560,
    height: int = 230,
) -> Markup:
    """An SVG chart of the lines over [start, end]; ``kind`` is "line" or "bar"."""
    chart_id = f"chart-{next(_ids)}"
    left, right, top, bottom = 72, 14, 12, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    span = max((end - start).total_seconds(), 1.0)
    top_value = nice_max(max((v for line in lines for v in line.values), default=0.0))

    def x(moment: datetime) -> float:
        return left + plot_w * min(max((moment - start).total_seconds() / span, 0.0), 1.0)

    def y(value: float) -> float:
        return top + plot_h * (1 - min(max(value / top_value, 0.0), 1.0))

    latest = ", ".join(
        f"{line.label}: {format_value(line.values[-1], unit)} (latest)"
        if line.values
        else f"{line.label}: no data"
        for line in lines
    )
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(latest)}</desc>',
    ]
    for step in range(5):  # horizontal grid and y labels
        value = top_value * step / 4
        gy = y(value)
        parts.append(f'<line class="grid" x1="{left}" x2="{left + plot_w}" y1="{gy:.1f}" y2="{gy:.1f}"/>')
        parts.append(
            f'<text class="tick" x="{left - 6}" y="{gy + 4:.1f}" text-anchor="end">'
            f"{escape(format_value(value, unit))}</text>"
        )
    for step in range(5):  # x ticks
        moment = start + (end - start) * (step / 4)
        gx = x(moment)
        anchor = "start" if step == 0 else "end" if step == 4 else "middle"
        parts.append(
            f'<line class="axis" x1="{gx:.1f}" x2="{gx:.1f}" y1="{top + plot_h}" y2="{top + plot_h + 4}"/>'
        )
        parts.append(
            f'<text class="tick" x="{gx:.1f}" y="{height - 8}" text-anchor="{anchor}">'
            f"{escape(_time_label(moment, span))}</text>"
        )
    parts.append(f'<line class="axis" x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}"/>')
    parts.append(
        f'<line class="axis" x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}"/>'
    )
    if not any(line.values for line in lines):
        parts.append(
            f'<text class="empty" x="{left + plot_w / 2:.0f}" y="{top + plot_h / 2:.0f}" '
            'text-anchor="middle">no data in this window</text>'
        )
    slot = max(plot_w * period_s / span, 2.0)
    for index, line in enumerate(lines):
        css = f"series-{index % 6}"
        points = list(zip(line.timestamps, line.values, strict=False))
        if kind == "bar":  # a point's timestamp starts its period: the bar fills that period
            bar_w = max(slot * 0.8 / max(len(lines), 1), 1.0)
            for moment, value in points:
                bx = min(x(moment) + slot * 0.1 + index * bar_w, left + plot_w - bar_w)
                parts.append(
                    f'<rect class="{css}" x="{bx:.1f}" y="{y(value):.1f}" width="{bar_w:.1f}" '
                    f'height="{top + plot_h - y(value):.1f}"><title>{escape(line.label)} '
                    f"{escape(format_value(value, unit))} at {moment:%H:%M}</title></rect>"
                )
        elif len(points) == 1:
            moment, value = points[0]
            parts.append(f'<circle class="{css}" cx="{x(moment):.1f}" cy="{y(value):.1f}" r="3"/>')
        elif points:
            coords = " ".join(f"{x(m):.1f},{y(v):.1f}" for m, v in points)
            parts.append(f'<polyline class="{css}" fill="none" points="{coords}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def sparkline(values: list[float], label: str, *, width: int = 120, height: int = 28) -> Markup:
    """A tiny trend line without axes (the number next to it says the value)."""
    if len(values) < 2:
        return Markup("")
    low, high = min(values), max(values)
    spread = (high - low) or 1.0
    step = width / (len(values) - 1)
    coords = " ".join(
        f"{i * step:.1f},{height - 2 - (v - low) / spread * (height - 4):.1f}" for i, v in enumerate(values)
    )
    return Markup(
        f'<svg class="sparkline" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label)} trend">'
        f'<polyline class="series-0" fill="none" points="{coords}"/></svg>'
    )
