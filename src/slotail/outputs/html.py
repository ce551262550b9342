"""Self-contained HTML: the page shell and SLO widgets shared with the status page, and the backfill report.

Everything is inline (CSS and SVG, no scripts, fonts or other requests) and every
piece of text from the config or the logs is escaped. Layout is one column on a
phone (375 px) and a grid of cards on wider screens.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from html import escape

from slotail.alerts.registry import KINDS
from slotail.engine.snapshot import AlertState, Release, SLOStatus, Snapshot
from slotail.outputs.charts import PALETTE, Chart, Line, legend, line_chart
from slotail.outputs.compliance import HEADINGS, NOTE, UNITS, History
from slotail.outputs.history import SLOHistory
from slotail.outputs.lookback import SLOLookback
from slotail.outputs.text import (
    RAG,
    budget_left,
    budgeting_note,
    burn,
    compliance_cells,
    current,
    fired,
    mismatch_warning,
    overall,
    target,
    until,
)
from slotail.pipeline import LineStats
from slotail.timeutil import iso_utc

CSS = """
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111827;
background:#f3f4f6}
header{background:#111827;color:#f9fafb;padding:12px 16px}
header h1{font-size:18px;margin:0}
header p{margin:2px 0 0;color:#d1d5db;font-size:13px}
header.red{background:#b91c1c;color:#fff}
header.red p{color:#fee2e2}
.alarms{list-style:none;margin:6px 0 0;padding:0;display:flex;flex-direction:column;gap:4px}
.alarms li{border-radius:6px;padding:3px 8px;font-size:13px;font-weight:600;background:#374151;color:#f9fafb}
.alarms li.red{background:#fff;color:#991b1b}.alarms li.amber{background:#fef3c7;color:#92400e}
.firing{border-radius:6px;padding:6px 10px;margin:2px 0 8px;font-size:13px;font-weight:600}
.firing.red{background:#dc2626;color:#fff}
.card.red{border:2px solid #dc2626;background:#fff;color:inherit}
.card.amber{border:2px solid #f59e0b;background:#fff;color:inherit}
main{padding:12px;max-width:1280px;margin:0 auto}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:12px}
.card{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:12px 14px;min-width:0}
.card h2{font-size:16px;margin:0 0 6px;display:flex;justify-content:space-between;gap:8px;
overflow-wrap:anywhere}
h3{font-size:13px;margin:10px 0 4px;color:#4b5563;text-transform:uppercase;letter-spacing:.03em}
.sli{font-size:24px;font-weight:600}
.ok{color:#15803d}.miss{color:#b91c1c}.muted{color:#6b7280;font-size:13px}
.pill{display:inline-block;border-radius:999px;padding:1px 9px;font-size:12px;font-weight:600;
white-space:nowrap;background:#e5e7eb;color:#374151}
.green{background:#dcfce7;color:#166534}.amber{background:#fef3c7;color:#92400e}
.red{background:#fee2e2;color:#991b1b}
.bar{height:12px;border-radius:6px;background:#e5e7eb;overflow:hidden;margin:4px 0}
.bar span{display:block;height:100%}
.bar .green{background:#22c55e}.bar .amber{background:#f59e0b}.bar .red{background:#ef4444}
.chips{display:flex;flex-wrap:wrap;gap:4px}
.chips span{font-size:12px;border-radius:4px;padding:1px 6px;background:#f3f4f6}
table{border-collapse:collapse;width:100%;font-size:13px}
td,th{text-align:left;padding:4px 6px;border-bottom:1px solid #e5e7eb;vertical-align:top}
.scroll{overflow-x:auto}
.decision{border-radius:8px;padding:10px 14px;margin:0 0 12px;font-weight:600}
.legend{display:flex;flex-wrap:wrap;gap:2px 12px;font-size:12px;color:#374151}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
svg{display:block}
svg text{font-size:14px;fill:#4b5563}
.wide{grid-column:1/-1}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:4px 16px}
.spark{height:40px;background:#f9fafb;border-radius:4px}
.axis{display:flex;justify-content:space-between;font-size:11px;color:#9ca3af}
footer{padding:12px 16px;color:#6b7280;font-size:13px}
@media (max-width:480px){main{padding:8px}table{font-size:12px}td,th{padding:3px 4px}.opt{display:none}}
"""
SEVERITY_RAG = {"page": "red", "critical": "red"}  # pages are red; a ticket (any other severity) amber
REPORT_AGO = "before evaluation"  # the report's "now" is the evaluation time, not the reader's
HEADER_ALARMS = 6  # firing alerts listed in the page header; the cards show every one
BURN_RAG = ((1.0, "green"), (2.0, "amber"))  # seed 000 PART 5: ≤ 1x on track, ≤ 2x warn, above: critical
DECISION_RAG = {"NORMAL": "green", "CAUTIOUS": "amber", "FREEZE": "red"}


def page(
    title: str,
    heading: str,
    subtitle: str,
    body: str,
    refresh_s: int | None = None,
    alarms: str = "",
    header_css: str = "",
) -> str:
    """A whole HTML document; `alarms` (markup from `header_alarms`) go in the header."""
    refresh = f'<meta http-equiv="refresh" content="{refresh_s}">' if refresh_s else ""
    tone = f' class="{header_css}"' if header_css else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">{refresh}'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        f"<header{tone}><h1>{escape(heading)}</h1><p>{escape(subtitle)}</p>{alarms}</header>"
        f"<main>{body}</main></body></html>\n"
    )


def stamp(ts_us: int) -> str:
    """`2026-02-19 14:37:00 UTC`."""
    return iso_utc(ts_us)[:19].replace("T", " ") + " UTC"


def elapsed(seconds: int) -> str:
    """`1380` -> `23 min`, `7500` -> `2 h 5 min`, `180000` -> `2 d 2 h` (rounded down)."""
    minutes = seconds // 60
    if minutes < 1:
        return "< 1 min"
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return f"{minutes} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if days >= 2 else f"{days * 24 + hours} h {minutes} min"


def tone(alert: AlertState) -> str:
    """How loud a firing alert is shown: red for a page, amber for a ticket."""
    return SEVERITY_RAG.get(alert.severity, "amber")


def firing(slo: SLOStatus) -> list[AlertState]:
    """The SLO's active alerts, pages first."""
    return sorted((a for a in slo.alerts if a.active), key=lambda a: tone(a) != "red")


def since(alert: AlertState, at_us: int, ago: str) -> str:
    """`since 2026-02-19 14:37:00 UTC (23 min ago)`: the start of the alert's open interval."""
    last = alert.intervals[-1] if alert.intervals else None
    if last is None or last.end_us is not None:
        return "since a time not kept"
    return f"since {stamp(last.start_us)} ({elapsed((at_us - last.start_us) // 1_000_000)} {ago})"


def _alarm(alert: AlertState, at_us: int, ago: str) -> str:
    return f"{alert.severity.upper()} {alert.name} ({condition(alert)}) {since(alert, at_us, ago)}"


def firing_strips(slo: SLOStatus, at_us: int, ago: str) -> str:
    """A strip per firing alert of the SLO, for the top of its card."""
    return "".join(
        f'<div class="firing {tone(a)}">{escape(_alarm(a, at_us, ago))}</div>' for a in firing(slo)
    )


def loudest(slos: Sequence[SLOStatus]) -> str:
    """`red` while one of the SLOs pages, `amber` while only tickets fire, else empty."""
    tones = {tone(a) for slo in slos for a in slo.alerts if a.active}
    return "red" if "red" in tones else "amber" if tones else ""


def alarms_summary(snapshot: Snapshot) -> str:
    """`firing: 1 page, 1 ticket` (pages first), or `no alert firing`."""
    active = sorted((a for s in snapshot.slos for a in firing(s)), key=lambda a: tone(a) != "red")
    counts = Counter(a.severity for a in active)
    if not counts:
        return "no alert firing"
    return "firing: " + ", ".join(f"{n} {severity}" for severity, n in counts.items())


def header_alarms(snapshot: Snapshot, ago: str, keep: int = HEADER_ALARMS) -> str:
    """The firing alerts for the page header, pages first then oldest first; the first `keep` of them."""
    active = [(slo, a) for slo in snapshot.slos for a in firing(slo)]
    active.sort(key=lambda f: (tone(f[1]) != "red", f[1].intervals[-1].start_us if f[1].intervals else 0))
    items = [
        f'<li class="{tone(a)}">{escape(slo.title)}: {escape(_alarm(a, snapshot.at_us, ago))}</li>'
        for slo, a in active[:keep]
    ]
    if len(active) > keep:
        items.append(f"<li>and {len(active) - keep} more (on the cards below)</li>")
    return f'<ul class="alarms">{"".join(items)}</ul>' if items else ""


def burn_class(value: float | None) -> str:
    if value is None:
        return ""
    return next((name for limit, name in BURN_RAG if value <= limit), "red")


def pill(text: str, css: str) -> str:
    return f'<span class="pill {css}">{escape(text)}</span>'


def status_pill(slo: SLOStatus) -> str:
    return pill(slo.status.replace("_", " "), RAG.get(slo.status, ""))


def headline(slo: SLOStatus) -> str:
    """The SLI against its objective, ✓ when it meets it."""
    if slo.sli is None:
        mark = '<span class="muted">no events</span>'
    else:
        ok = slo.sli >= slo.objective
        mark = f'<span class="{"ok" if ok else "miss"}">{"✓" if ok else "✗"}</span>'
    return (
        f'<div><span class="sli">{escape(current(slo))}</span> {mark}</div>'
        f'<div class="muted">target {escape(target(slo))} over {escape(slo.period)}</div>'
    )


def budget_bar(slo: SLOStatus) -> str:
    """How much of the error budget remains, as a bar and in minutes."""
    remaining = slo.budget.remaining_ratio
    width = 0.0 if remaining is None else min(max(remaining, 0.0), 1.0) * 100
    return (
        f'<div class="bar" role="img" aria-label="budget remaining">'
        f'<span class="{RAG.get(slo.status, "")}" style="width:{width:.1f}%"></span></div>'
        f'<div class="muted">error budget left: {escape(budget_left(slo))}</div>'
    )


def burn_chips(slo: SLOStatus) -> str:
    """Burn rate per window, coloured green/amber/red as seed 000 PART 5 does."""
    chips = "".join(
        f'<span class="{burn_class(w.burn_rate)}">{escape(w.label)} {escape(burn(w.burn_rate))}</span>'
        for w in slo.windows
    )
    return f'<div class="chips">{chips}</div>'


def condition(alert: AlertState) -> str:
    """When an alert fires, in a few words (as its kind says it)."""
    return KINDS[alert.kind].when(alert)


def alert_table(slo: SLOStatus) -> str:
    """Each alert's rule and state."""
    rows = []
    for a in slo.alerts:
        state = pill("FIRING", tone(a)) if a.active else pill("ok", "green")
        rows.append(
            f"<tr><td>{escape(a.name)}</td><td>{escape(a.severity)}</td>"
            f"<td>{escape(condition(a))}</td><td>{state}</td>"
            f"<td>{len(a.intervals)}×</td></tr>"
        )
    if not rows:
        return '<p class="muted">no alerts</p>'
    return (
        '<div class="scroll"><table><tr><th>alert</th><th>severity</th><th>when</th><th>state</th>'
        f"<th>fired</th></tr>{''.join(rows)}</table></div>"
    )


def release_banner(release: Release | None) -> str:
    """The budget policy's release decision, why, and the SLOs that led to it."""
    if release is None:
        return ""
    parts = [release.decision, release.reason, f"rule: {release.rule}" if release.rule else ""]
    if release.slos:
        shown = release.slos[:HEADER_ALARMS]
        more = f" and {len(release.slos) - len(shown)} more" if len(release.slos) > len(shown) else ""
        parts.append(f"met by {', '.join(shown)}{more}")
    css = DECISION_RAG.get(release.decision, "")
    text = " — ".join(p for p in parts if p)
    return f'<div class="decision {css}">Release process: {escape(text)}</div>'


# ---- the backfill report -------------------------------------------------------------------------


def _summary(snapshot: Snapshot, recent: Mapping[str, SLOLookback]) -> str:
    rows = "".join(
        f'<tr><td>{escape(s.title)}</td><td class="opt">{escape(target(s))}</td><td>{escape(current(s))}</td>'
        f"<td>{escape(budget_left(s))}</td><td>{status_pill(s)}</td>"
        f"<td>{escape(recent[s.title].trend.arrow() if s.title in recent else '—')}</td></tr>"
        for s in snapshot.slos
    )
    return (
        '<div class="card wide"><h2>SLO status</h2><div class="scroll"><table><tr><th>SLO</th>'
        '<th class="opt">target</th>'
        f"<th>current</th><th>budget remaining</th><th>status</th><th>trend</th></tr>{rows}</table></div>"
        f'<p class="muted">{escape(overall(snapshot.slos))}. Trend: burn rate over the last week against '
        f"the week before (↑ better, ↓ worse, → steady). {escape(budgeting_note(snapshot.slos))}</p></div>"
    )


def _window_name(label: str, period: str) -> str:
    return f"{label} (period)" if label == period else f"{label} window"


def _charts(slo: SLOStatus, history: SLOHistory) -> str:
    """Error ratio, burn rate per window and budget remaining over the backfill."""
    times = history.times_us.tolist()
    bands = [
        (i.start_us, i.end_us if i.end_us is not None else times[-1]) for a in slo.alerts for i in a.intervals
    ]
    labels = [w.label for w in slo.windows]
    shown = dict.fromkeys([labels[0], slo.period])  # the shortest window and the period (maybe the same)
    ratios = Chart(
        f"{slo.title}: error ratio",
        times,
        [
            Line(_window_name(label, slo.period), history.error_ratios[label].tolist(), color)
            for label, color in zip(shown, (PALETTE[1], PALETTE[0]), strict=False)
        ],
        lambda v: f"{v * 100:.2g}%",
        marks=[(history.budget_ratio, "budget pace (1x)")],
    )
    burns = [
        Line(label, history.burn_rates(label).tolist(), PALETTE[i % len(PALETTE)])
        for i, label in enumerate(labels)
    ]
    marks = (KINDS[a.kind].burn_mark(a) for a in slo.alerts)
    factors = sorted({f for f in marks if f is not None})
    burn_chart = Chart(
        f"{slo.title}: burn rate per window",
        times,
        burns,
        lambda v: f"{v:.3g}x",
        marks=[(f, f"{f:g}x") for f in factors],
        bands=bands,
    )
    budget = Chart(
        f"{slo.title}: error budget remaining",
        times,
        [Line(f"over {slo.period}", history.budget_remaining().tolist(), PALETTE[2])],
        lambda v: f"{v * 100:.0f}%",
        marks=[(0.0, "exhausted")],
    )
    return (
        f'<div class="charts"><div><h3>Error ratio</h3>{line_chart(ratios)}{legend(ratios.lines)}</div>'
        f"<div><h3>Burn rate per window</h3>{line_chart(burn_chart)}{legend(burns)}</div>"
        f"<div><h3>Error budget remaining</h3>{line_chart(budget)}{legend(budget.lines)}</div></div>"
        '<p class="muted">Shaded: an alert of this SLO was firing. Each point is the highest value within '
        "its span of the backfill.</p>"
    )


def _slo_section(slo: SLOStatus, history: SLOHistory | None, at_us: int) -> str:
    charts = _charts(slo, history) if history is not None and len(history.times_us) else ""
    css = f"card wide {loudest([slo])}".rstrip()
    return (
        f'<section class="{css}" id="slo-{escape(slo.title)}"><h2>{escape(slo.title)} {status_pill(slo)}'
        f"</h2>{firing_strips(slo, at_us, REPORT_AGO)}"
        f'<div class="charts"><div>{headline(slo)}{budget_bar(slo)}<h3>Burn rates</h3>{burn_chips(slo)}'
        f"</div><div><h3>Alerts</h3>{alert_table(slo)}</div></div>{charts}</section>"
    )


def _fired(snapshot: Snapshot) -> str:
    rows = "".join(
        f"<tr><td>{escape(slo.title)}</td><td>{escape(a.name)}</td><td>{escape(a.severity)}</td>"
        f"<td>{iso_utc(i.start_us)}</td><td>{escape(until(i))}</td></tr>"
        for slo, a, i in fired(snapshot)
    )
    table = (
        '<div class="scroll"><table><tr><th>SLO</th><th>alert</th><th>severity</th><th>from</th>'
        "<th>to</th></tr>"
        f"{rows}</table></div>"
        if rows
        else '<p class="muted">None.</p>'
    )
    return f'<div class="card wide"><h2>Alerts that fired</h2>{table}</div>'


def _compliance(slos: Sequence[SLOStatus], compliance: History) -> str:
    """The calendar view: a table by month and one by ISO week, a row per SLO and period."""
    tables = []
    for unit in UNITS:
        rows = "".join(
            f"<tr><td>{escape(slo.title)}</td>"
            + "".join(f"<td>{escape(c)}</td>" for c in compliance_cells(slo, row))
            + "</tr>"
            for slo in slos
            for row in compliance.get(slo.title, {}).get(unit, [])
        )
        tables.append(
            f"<h3>By {escape(HEADINGS[unit])}</h3>"
            f'<div class="scroll"><table><tr><th>SLO</th><th>{escape(HEADINGS[unit])}</th><th>SLI</th>'
            "<th>budget spent</th><th>met</th><th>worst day</th><th>alerts fired</th></tr>"
            f"{rows}</table></div>"
        )
    return (
        f'<div class="card wide"><h2>Compliance history</h2>{"".join(tables)}'
        f'<p class="muted">{escape(NOTE)}</p></div>'
    )


def render_html(
    snapshot: Snapshot,
    lines: LineStats,
    recent: Mapping[str, SLOLookback],
    history: Mapping[str, SLOHistory],
    first_event_us: int | None = None,
    compliance: History | None = None,
) -> str:
    """The backfill report: status table, release decision, per-SLO charts over time and the alerts fired."""
    since = f"events from {iso_utc(first_event_us)} · " if first_event_us is not None else ""
    subtitle = (
        f"{since}evaluated at {iso_utc(snapshot.at_us)} · {lines.read} lines read, {lines.parsed} parsed, "
        f"{lines.invalid_total} invalid, {lines.unmatched} unmatched"
    )
    sections: Sequence[str] = [_slo_section(s, history.get(s.title), snapshot.at_us) for s in snapshot.slos]
    calendar = _compliance(snapshot.slos, compliance) if compliance is not None else ""
    body = (
        f"{release_banner(snapshot.release)}<div class='grid'>{_summary(snapshot, recent)}{calendar}"
        f"{_fired(snapshot)}{''.join(sections)}</div>"
    )
    warning = mismatch_warning(lines)
    if warning is not None:  # above everything: the numbers below may be wrong
        body = f'<div class="decision amber">{escape(warning)}</div>{body}'
    alarms = header_alarms(snapshot, REPORT_AGO)
    subtitle += f" · at that time {alarms_summary(snapshot)}"
    css = "red" if loudest(snapshot.slos) == "red" else ""
    return page("slotail SLO report", "slotail SLO report", subtitle, body, alarms=alarms, header_css=css)
