"""The JSON document of DESIGN.md's contract (backfill --format json, /api/v1/slos)."""

from __future__ import annotations

from typing import Any

import msgspec
import orjson

from slotail.alerts.registry import KINDS
from slotail.engine.snapshot import AlertState, SLOStatus, Snapshot, WindowStats
from slotail.pipeline import LineStats
from slotail.timeutil import iso_utc


def _window(stats: WindowStats) -> dict[str, Any]:
    return {
        "good": stats.good,
        "bad": stats.bad,
        "error_ratio": stats.error_ratio,
        "burn_rate": stats.burn_rate,
        "exhaustion_hours": stats.exhaustion_hours,
    }


def _alert(alert: AlertState) -> dict[str, Any]:
    return {
        "name": alert.name,
        "severity": alert.severity,
        **KINDS[alert.kind].document(alert),  # its burn rate, or its kind and threshold
        "long_window": alert.long_window,
        "short_window": alert.short_window,
        "active": alert.active,
        "intervals": [
            {
                "start": iso_utc(i.start_us),
                "end": iso_utc(i.end_us) if i.end_us is not None else None,
            }
            for i in alert.intervals
        ],
    }


def slo_document(slo: SLOStatus) -> dict[str, Any]:
    """One SLO as the contract's JSON object."""
    doc: dict[str, Any] = {"name": slo.name}
    if slo.labels:
        doc["labels"] = dict(slo.labels)
    doc |= {
        "objective": slo.objective,
        "period": slo.period,
        "budgeting": slo.budgeting,
        "events": {"good": slo.good, "bad": slo.bad, "excluded": slo.excluded},
        "sli": slo.sli,
        "error_budget": {
            "consumed_ratio": slo.budget.consumed_ratio,
            "remaining_ratio": slo.budget.remaining_ratio,
            "total_minutes": slo.budget.total_minutes,
            "remaining_minutes": slo.budget.remaining_minutes,
        },
        "status": slo.status,
        "windows": {w.label: _window(w) for w in slo.windows},
    }
    if slo.slices is not None:
        doc["slices"] = msgspec.to_builtins(slo.slices)
    if slo.percentiles_ms is not None:
        doc["latency"] = {
            "threshold_ms": slo.latency_threshold_ms,
            "percentiles_ms": slo.percentiles_ms,
        }
    doc["alerts"] = [_alert(a) for a in slo.alerts]
    return doc


def document(
    snapshot: Snapshot, lines: LineStats, diagnostics: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The whole report: evaluation time, line counts, every SLO (and diagnostics when given)."""
    doc: dict[str, Any] = {
        "evaluated_at": iso_utc(snapshot.at_us),
        "lines": {
            "read": lines.read,
            "parsed": lines.parsed,
            "invalid": lines.invalid_total,
            "unmatched": lines.unmatched,
        },
        "slos": [slo_document(s) for s in snapshot.slos],
    }
    if snapshot.release is not None:
        release = snapshot.release
        doc["release"] = {
            "decision": release.decision,
            "reason": release.reason,
            "rule": release.rule,
            "slos": list(release.slos),
        }
    if diagnostics is not None:
        doc["diagnostics"] = diagnostics
    return doc


def dumps(doc: dict[str, Any]) -> bytes:
    """Pretty JSON bytes with a trailing newline."""
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n"
