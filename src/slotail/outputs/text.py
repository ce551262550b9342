"""Human renderings of a snapshot: a rich table for terminals and a markdown weekly review."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from rich import box
from rich.console import Console
from rich.table import Table

from slotail.engine.snapshot import AlertState, Interval, Release, SLOStatus, Snapshot
from slotail.outputs.compliance import HEADINGS, NOTE, UNITS, History, Row, day_label
from slotail.outputs.lookback import STEADY_BURN, SLOLookback
from slotail.pipeline import LineStats
from slotail.timeutil import format_duration, iso_utc

STATUS_STYLE = {"healthy": "green", "warning": "yellow", "critical": "red", "exhausted": "bold red"}
RAG = {"healthy": "green", "warning": "amber", "critical": "red", "exhausted": "red"}  # seed 000 PART 5


def percent(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def burn(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}x"


def budget_left(slo: SLOStatus) -> str:
    b = slo.budget
    if b.remaining_ratio is None or b.remaining_minutes is None:
        return f"— of {b.total_minutes:.1f} min"
    return f"{b.remaining_minutes:.1f} of {b.total_minutes:.1f} min ({b.remaining_ratio * 100:.0f}%)"


def active_alerts(slo: SLOStatus) -> str:
    return ", ".join(a.name for a in slo.alerts if a.active) or "none"


def fired(snapshot: Snapshot) -> list[tuple[SLOStatus, AlertState, Interval]]:
    """Every alert interval of every SLO, oldest first."""
    found = [(i, slo, a) for slo in snapshot.slos for a in slo.alerts for i in a.intervals]
    return [(slo, a, i) for i, slo, a in sorted(found, key=lambda f: f[0].start_us)]


def until(interval: Interval) -> str:
    return iso_utc(interval.end_us) if interval.end_us is not None else "still active"


def mismatch_warning(lines: LineStats) -> str | None:
    """A warning naming the fields the config could not read on events (None when it read them all)."""
    found = [
        f"{slo}: {field} {reason} in {count} events"
        for (slo, field, reason), count in sorted(lines.mismatches.items())
        if count
    ]
    if not found:
        return None
    return (
        "Warning: the config cannot read some fields of its events, so the SLOs that read them may be "
        f"wrong — {'; '.join(found)}. Run `slotail check --config … --logs …` to see why."
    )


def render_table(snapshot: Snapshot, lines: LineStats, console: Console) -> None:
    """The SLO table and burn rates, for a terminal."""
    table = Table(title=f"SLOs at {iso_utc(snapshot.at_us)}", box=box.SIMPLE_HEAVY)
    for column in (
        "SLO",
        "Objective",
        "SLI",
        "Good / bad / excl.",
        "Budget left",
        "Status",
        "Active alerts",
    ):
        table.add_column(column, justify="right" if column in ("Objective", "SLI") else "left")
    for slo in snapshot.slos:
        style = STATUS_STYLE.get(slo.status, "dim")
        table.add_row(
            slo.title,
            percent(slo.objective, 2),
            percent(slo.sli),
            f"{slo.good} / {slo.bad} / {slo.excluded}",
            budget_left(slo),
            f"[{style}]{slo.status}[/]",
            active_alerts(slo),
        )
    console.print(table)
    rates = Table(title="Burn rates by window", box=box.SIMPLE)
    rates.add_column("SLO")
    rates.add_column("Windows")
    for slo in snapshot.slos:
        rates.add_row(slo.title, "  ".join(f"{w.label} {burn(w.burn_rate)}" for w in slo.windows))
    console.print(rates)
    invalid = ", ".join(f"{k} {v}" for k, v in sorted(lines.invalid.items())) or "none"
    console.print(
        f"lines: {lines.read} read, {lines.parsed} parsed, {lines.invalid_total} invalid ({invalid}), "
        f"{lines.unmatched} unmatched"
    )
    warning = mismatch_warning(lines)
    if warning is not None:
        console.print(warning, style="bold yellow", markup=False)


def cell(text: str) -> str:
    """Text for a markdown table cell: no column break, no HTML."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")


def target(slo: SLOStatus) -> str:
    """The objective, with the latency threshold for a latency SLI; of slices for a timeslice SLO
    (`99.00% of 5m slices (95.00% ≤ 300 ms)`)."""
    met = "" if slo.latency_threshold_ms is None else f" ≤ {slo.latency_threshold_ms:g} ms"
    if slo.slices is None:
        return percent(slo.objective, 2) + met
    slices = slo.slices
    return (
        f"{percent(slo.objective, 2)} of {slices.length} slices ({percent(slices.target, 2)}{met or ' good'})"
    )


def current(slo: SLOStatus) -> str:
    """The SLI over the period, with its p95 for a latency SLI."""
    p95 = (slo.percentiles_ms or {}).get(slo.period, {}).get("p95")
    return percent(slo.sli) + ("" if p95 is None else f" (p95 {p95:.0f} ms)")


def budgeting_note(slos: Sequence[SLOStatus]) -> str:
    """How the timeslice SLOs among `slos` count (empty when none does)."""
    sliced = [s for s in slos if s.slices is not None]
    if not sliced:
        return ""
    empty = {s.slices.empty_slices for s in sliced if s.slices is not None}
    how = {"good": "slices without events count as good", "skip": "slices without events are skipped"}
    return (
        f"Budgeting by timeslices ({', '.join(dict.fromkeys(s.name for s in sliced))}): a slice is good when "
        "its share of good events meets the slice target; current is good slices ÷ closed slices in the "
        f"period, burn rates count bad slices; {'; '.join(how[e] for e in sorted(empty))}."
    )


def overall(slos: Sequence[SLOStatus]) -> str:
    """`3 green, 1 amber, 0 red` (and how many have no data)."""
    tally = Counter(RAG.get(s.status, "no data") for s in slos)
    text = ", ".join(f"{tally[c]} {c}" for c in ("green", "amber", "red"))
    return text + (f", {tally['no data']} no data" if tally["no data"] else "")


def compliance_cells(slo: SLOStatus, row: Row) -> list[str]:
    """A compliance row's cells: period, SLI, budget spent, met, worst day, alerts fired."""
    period = row.period + ("" if row.covered else " (partial)")
    met = "—" if row.met is None else ("✓ met" if row.met else "✗ missed")
    worst = "—" if row.worst_day_us is None else f"{day_label(row.worst_day_us)} ({percent(row.worst_sli)})"
    spent = "—" if row.spent is None else f"{row.spent * 100:.1f}%"
    return [period, percent(row.sli), spent, met, worst, str(row.alerts)]


def compliance_markdown(slos: Sequence[SLOStatus], history: History) -> list[str]:
    """The calendar view: per SLO a row per month, then per ISO week, that the logs covered."""
    out = []
    for unit in UNITS:
        out += ["", f"### Compliance by {HEADINGS[unit]}", ""]
        column = HEADINGS[unit][0].upper() + HEADINGS[unit][1:]
        out += [f"| SLO | {column} | SLI | Budget spent | Met | Worst day | Alerts fired |"]
        out += ["|---|---|---|---|---|---|---|"]
        out += [
            "| " + " | ".join([cell(slo.title), *map(cell, compliance_cells(slo, row))]) + " |"
            for slo in slos
            for row in history.get(slo.title, {}).get(unit, [])
        ]
    return [*out, "", f"_{cell(NOTE)}_"]


def render_markdown(
    snapshot: Snapshot, lines: LineStats, recent: Mapping[str, SLOLookback], history: History | None = None
) -> str:
    """Seed 000's weekly review: SLO status with trend, the release decision, burn rates, alerts fired."""
    out = [f"## SLO weekly review — {iso_utc(snapshot.at_us)}", ""]
    warning = mismatch_warning(lines)
    out += [f"> **{cell(warning)}**", ""] if warning is not None else []
    out += ["### SLO status", ""]
    out += ["| SLO | Target | Current | Budget remaining | Status | Trend |", "|---|---|---|---|---|---|"]
    for slo in snapshot.slos:
        arrow = recent[slo.title].trend.arrow() if slo.title in recent else "—"
        out.append(
            f"| {cell(slo.title)} | {target(slo)} | {current(slo)} | {budget_left(slo)} "
            f"| {slo.status}{f' ({RAG[slo.status]})' if slo.status in RAG else ''} | {arrow} |"
        )
    spans = sorted({format_duration(r.trend.span_s) for r in recent.values()})
    out += [
        "",
        f"**Overall:** {overall(snapshot.slos)}."
        + (f" **Release process: {cell(snapshot.release.decision)}.**" if snapshot.release else ""),
        "",
        "_Current and budget cover each SLO's period up to the evaluation time. Trend: burn rate over "
        f"the last {' / '.join(spans) or '7d'} against the same span before it; ↑ better, ↓ worse, "
        f"→ within {STEADY_BURN}x, — no events in one of them._",
    ]
    note = budgeting_note(snapshot.slos)
    out += ["", f"_{cell(note)}_"] if note else []
    if snapshot.release is not None:
        out += ["", *release_markdown(snapshot.release, snapshot.slos, recent)]
    out += ["", "### Burn rates", "", "| SLO | Windows |", "|---|---|"]
    for slo in snapshot.slos:
        out.append(
            f"| {cell(slo.title)} | "
            + ", ".join(f"{w.label} {burn(w.burn_rate)}" for w in slo.windows)
            + " |"
        )
    if history is not None:
        out += compliance_markdown(snapshot.slos, history)
    out += ["", "### Alerts that fired", ""]
    alerts = [
        f"| {cell(slo.title)} | {cell(a.name)} | {cell(a.severity)} | {iso_utc(i.start_us)} | {until(i)} |"
        for slo, a, i in fired(snapshot)
    ]
    out += (
        ["| SLO | Alert | Severity | From | To |", "|---|---|---|---|---|", *alerts] if alerts else ["None."]
    )
    out += [
        "",
        f"_Lines: {lines.read} read, {lines.parsed} parsed, {lines.invalid_total} invalid, "
        f"{lines.unmatched} unmatched._",
        "",
    ]
    return "\n".join(out)


def release_markdown(
    release: Release, slos: Sequence[SLOStatus], recent: Mapping[str, SLOLookback]
) -> list[str]:
    """The release-freeze section: the budget policy's decision, why, and what each SLO stands at."""
    met = f" ({', '.join(map(cell, release.slos))})" if release.slos else ""
    reason = f" — {cell(release.reason)}" if release.reason else ""
    rule = f"; rule: {cell(release.rule)}" if release.rule else ""
    out = ["### Release freeze", "", f"**Decision: {cell(release.decision)}**{reason}{met}{rule}.", ""]
    out += ["| SLO | Budget remaining | Burn, last 24 h | Decides |", "|---|---|---|---|"]
    for slo in slos:
        day = recent[slo.title].day_burn() if slo.title in recent else None
        decides = "✓" if slo.title in release.slos else ""
        out.append(f"| {cell(slo.title)} | {budget_left(slo)} | {burn(day)} | {decides} |")
    return out
