"""Human renderings of a snapshot: a rich table for terminals and a markdown report."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table

from slotail.engine.snapshot import SLOStatus, Snapshot
from slotail.pipeline import LineStats
from slotail.timeutil import iso_utc

STATUS_STYLE = {"healthy": "green", "warning": "yellow", "critical": "red", "exhausted": "bold red"}


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


def fired(slo: SLOStatus) -> list[str]:
    """Every alert interval of an SLO, oldest first, as text."""
    found = []
    for alert in slo.alerts:
        for i in alert.intervals:
            end = iso_utc(i.end_us) if i.end_us is not None else "still active"
            found.append((i.start_us, f"{alert.name} ({alert.severity}): {iso_utc(i.start_us)} → {end}"))
    return [text for _, text in sorted(found)]


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
            slo.name,
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
        rates.add_row(slo.name, "  ".join(f"{w.label} {burn(w.burn_rate)}" for w in slo.windows))
    console.print(rates)
    invalid = ", ".join(f"{k} {v}" for k, v in sorted(lines.invalid.items())) or "none"
    console.print(
        f"lines: {lines.read} read, {lines.parsed} parsed, {lines.invalid_total} invalid ({invalid}), "
        f"{lines.unmatched} unmatched"
    )


def render_markdown(snapshot: Snapshot, lines: LineStats) -> str:
    """A markdown SLO review: status table, burn rates and the alerts that fired."""
    out = [f"## SLO review — {iso_utc(snapshot.at_us)}", "", "### SLO status", ""]
    out += ["| SLO | Target | Current | Budget remaining | Status |", "|---|---|---|---|---|"]
    for slo in snapshot.slos:
        out.append(
            f"| {slo.name} | {percent(slo.objective, 2)} | {percent(slo.sli)} | {budget_left(slo)} "
            f"| {slo.status} |"
        )
    out += ["", "### Burn rates", "", "| SLO | " + " | ".join(["Windows"]) + " |", "|---|---|"]
    for slo in snapshot.slos:
        out.append(
            f"| {slo.name} | " + ", ".join(f"{w.label} {burn(w.burn_rate)}" for w in slo.windows) + " |"
        )
    out += ["", "### Alerts that fired", ""]
    alerts = [f"- **{slo.name}** {text}" for slo in snapshot.slos for text in fired(slo)]
    out += alerts or ["None."]
    out += [
        "",
        f"_Lines: {lines.read} read, {lines.parsed} parsed, {lines.invalid_total} invalid, "
        f"{lines.unmatched} unmatched._",
        "",
    ]
    return "\n".join(out)
