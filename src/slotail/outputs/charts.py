"""Inline SVG charts for the HTML report and the status page: no scripts, no external resources.

Charts scale to their container (a viewBox and `width=100%`); a missing value
(None or NaN: no events) leaves a gap in the line rather than drawing a zero.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from slotail.timeutil import iso_utc

PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563")
WIDTH, HEIGHT = 480, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 8, 10, 28

Value = float | None


def _num(value: Value) -> float | None:
    """The value, or None when it is missing (None or NaN)."""
    return None if value is None or math.isnan(value) else float(value)


@dataclass(frozen=True)
class Line:
    """One series of a chart: a label for the legend, a colour and a value per x."""

    label: str
    values: Sequence[Value]
    color: str = PALETTE[0]


@dataclass(frozen=True)
class Chart:
    """A line chart over time; `marks` are dashed reference values, `bands` shaded time spans."""

    title: str
    times_us: Sequence[int]
    lines: Sequence[Line]
    fmt: Callable[[float], str]
    marks: Sequence[tuple[float, str]] = ()
    bands: Sequence[tuple[int, int]] = ()
    floor: float | None = 0.0  # the y axis always includes this value (None: fit the data only)


def ticks(low: float, high: float, count: int = 4) -> list[float]:
    """About `count` round values (steps of 1, 2, 2.5 or 5 × 10^k) covering [low, high]."""
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw * (1 - 1e-9))
    first, last = math.floor(low / step + 1e-9), math.ceil(high / step - 1e-9)
    return [round(i * step, 12) for i in range(first, last + 1)]


def _bounds(chart: Chart) -> list[float]:
    """The y axis ticks: round values covering the data, the marks and the floor."""
    found = [v for line in chart.lines for v in map(_num, line.values) if v is not None]
    found += [m for m, _ in chart.marks]
    if chart.floor is not None:
        found.append(chart.floor)
    if not found:
        return [0.0, 1.0]
    low, high = min(found), max(found)
    if high - low < 1e-12:
        high = low + (abs(low) or 1.0)
    return ticks(low, high)


def path_d(points: Sequence[tuple[float, Value]]) -> str:
    """An SVG path through (x, y) points, broken where y is missing."""
    parts: list[str] = []
    pen_up = True
    for x, y in points:
        if y is None or math.isnan(y):
            pen_up = True
            continue
        parts.append(f"{'M' if pen_up else 'L'}{x:.1f} {y:.1f}")
        pen_up = False
    return " ".join(parts)


def _stamp(ts_us: int) -> str:
    return iso_utc(ts_us)[5:16].replace("T", " ")


def line_chart(chart: Chart) -> str:
    """The chart as an <svg> element."""
    times = list(chart.times_us)
    t0, t1 = (times[0], times[-1]) if times else (0, 1)
    span = max(t1 - t0, 1)
    levels = _bounds(chart)
    low, high = levels[0], levels[-1]
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(t: int) -> float:
        return LEFT + (t - t0) / span * inner_w

    def y(v: float) -> float:
        return TOP + (high - v) / (high - low) * inner_h

    out = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(chart.title)}</title>',
        f'<rect x="{LEFT}" y="{TOP}" width="{inner_w}" height="{inner_h}" fill="#fff" stroke="#d1d5db"/>',
    ]
    for start, end in chart.bands:
        a, b = x(max(start, t0)), x(min(end, t1))
        if b > a:
            out.append(f'<rect x="{a:.1f}" y="{TOP}" width="{b - a:.1f}" height="{inner_h}" fill="#fee2e2"/>')
    for value in levels:
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
            'stroke="#eef0f3"/>'
            f'<text x="{LEFT - 4}" y="{y(value) + 5:.1f}" text-anchor="end">{escape(chart.fmt(value))}</text>'
        )
    for value, label in chart.marks:
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
            f'stroke="#6b7280" stroke-dasharray="4 3"/><text x="{WIDTH - RIGHT - 2}" y="{y(value) - 3:.1f}" '
            f'text-anchor="end" fill="#6b7280">{escape(label)}</text>'
        )
    for line in chart.lines:
        values = map(_num, line.values)
        d = path_d([(x(t), None if v is None else y(v)) for t, v in zip(times, values, strict=True)])
        out.append(f'<path d="{d}" fill="none" stroke="{line.color}" stroke-width="1.6"/>')
    if times:
        out.append(
            f'<text x="{LEFT}" y="{HEIGHT - 6}">{_stamp(t0)}</text>'
            f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 6}" text-anchor="end">{_stamp(t1)} UTC</text>'
        )
    out.append("</svg>")
    return "".join(out)


def legend(lines: Sequence[Line]) -> str:
    """An HTML legend for a chart's lines (wraps on narrow screens)."""
    items = "".join(
        f'<span><i style="background:{line.color}"></i>{escape(line.label)}</span>' for line in lines
    )
    return f'<div class="legend">{items}</div>'


def sparkline(values: Sequence[Value], mark: float | None = None, title: str = "") -> str:
    """A small line of `values` (gaps where missing) with an optional dashed reference value."""
    width, height, pad = 240, 40, 3
    present = [v for v in map(_num, values) if v is not None]
    high = max([*present, mark or 0.0, 1e-12]) * 1.1
    step = (width - 2 * pad) / max(len(values) - 1, 1)

    def y(v: float) -> float:
        return height - pad - v / high * (height - 2 * pad)

    d = path_d([(pad + i * step, None if v is None else y(v)) for i, v in enumerate(map(_num, values))])
    ref = ""
    if mark is not None:
        ref = (
            f'<line x1="0" x2="{width}" y1="{y(mark):.1f}" y2="{y(mark):.1f}" stroke="#9ca3af" '
            'stroke-dasharray="3 3"/>'
        )
    return (
        f'<svg class="spark" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="none"><title>{escape(title)}</title>'
        f'{ref}<path d="{d}" fill="none" stroke="#2563eb" stroke-width="1.5" '
        'vector-effect="non-scaling-stroke"/></svg>'
    )


def seconds_label(seconds: int) -> str:
    """`900` -> `15 min`, `3600` -> `1 h`."""
    return f"{seconds // 3600} h" if seconds % 3600 == 0 else f"{seconds // 60} min"
