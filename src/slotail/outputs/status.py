"""The sidecar's status page at `/`: seed 000's PART 5 dashboard, one card per SLO, refreshing itself."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from slotail.engine.snapshot import SLOStatus, Snapshot
from slotail.outputs.charts import seconds_label, sparkline
from slotail.outputs.html import (
    alarms_summary,
    alert_table,
    budget_bar,
    burn_chips,
    firing_strips,
    header_alarms,
    headline,
    loudest,
    page,
    release_banner,
    stamp,
    status_pill,
)
from slotail.outputs.lookback import SLOLookback
from slotail.outputs.text import burn, overall, percent

REFRESH_S = 60  # seed 000 PART 5: "refresh every 60 seconds"
LINKS = '<footer><a href="/metrics">/metrics</a> · <a href="/api/v1/slos">/api/v1/slos</a></footer>'


def _day(slo: SLOStatus, recent: SLOLookback | None) -> str:
    """The sparkline of the last day's error ratio per slot, with its totals."""
    if recent is None:
        return ""
    slots = recent.day
    hours = (slots.ends_us[-1] - slots.ends_us[0]) / 3.6e9 + slots.slot_s / 3600
    title = f"{slo.title}: error ratio per {seconds_label(slots.slot_s)}, last {hours:.0f} h"
    ratios = [r for r in slots.error_ratios() if r is not None]
    peak = f" · peak {percent(max(ratios), 2)}" if ratios else ""
    return (
        f"<h3>Last {hours:.0f} h</h3>"
        f"{sparkline(slots.error_ratios(), 1 - slo.objective, title)}"
        f'<div class="axis"><span>−{hours:.0f} h</span><span>now</span></div>'
        f'<div class="muted">error ratio per {escape(seconds_label(slots.slot_s))}{peak} · '
        f"{sum(slots.bad)} bad of {sum(slots.good) + sum(slots.bad)} · burn {escape(burn(recent.day_burn()))}"
        " · dashed: budget pace</div>"
    )


def _card(slo: SLOStatus, recent: SLOLookback | None, at_us: int) -> str:
    css = f"card {loudest([slo])}".rstrip()
    return (
        f'<section class="{css}"><h2>{escape(slo.title)} {status_pill(slo)}</h2>'
        f"{firing_strips(slo, at_us, 'ago')}{headline(slo)}"
        f"{budget_bar(slo)}<h3>Burn rates</h3>{burn_chips(slo)}{_day(slo, recent)}"
        f"<h3>Alerts</h3>{alert_table(slo)}</section>"
    )


def status_page(
    snapshot: Snapshot | None, recent: Mapping[str, SLOLookback], refresh_s: int = REFRESH_S
) -> str:
    """Every SLO's SLI, budget, burn rates, alerts and last 24 h; a page that reloads every `refresh_s`."""
    if snapshot is None:
        return page("slotail", "slotail", "starting…", "<p>Loading state; this page refreshes.</p>", 2)
    cards = "".join(_card(s, recent.get(s.title), snapshot.at_us) for s in snapshot.slos)
    budgets = overall(snapshot.slos)
    subtitle = f"last updated {stamp(snapshot.at_us)} · {alarms_summary(snapshot)} · budgets: {budgets}"
    body = f"{release_banner(snapshot.release)}<div class='grid'>{cards}</div>{LINKS}"
    alarms = header_alarms(snapshot, "ago")
    css = "red" if loudest(snapshot.slos) == "red" else ""
    return page("slotail SLO status", "SLO status", subtitle, body, refresh_s, alarms, css)
