"""Hand-made engine snapshots for renderer tests."""

from __future__ import annotations

from typing import Any

from msgspec.structs import replace

from slotail.engine.snapshot import Budget, SLOStatus

BLANK = SLOStatus(
    name="slo",
    objective=0.995,
    period="30d",
    good=0,
    bad=0,
    excluded=0,
    sli=None,
    budget=Budget(None, None, 216.0, None),
    status="no_data",
    windows=(),
    latency_threshold_ms=None,
    percentiles_ms=None,
    alerts=(),
)


def slo_status(**fields: Any) -> SLOStatus:
    """An SLO with no events and no alerts, but for `fields`."""
    return replace(BLANK, **fields)
