"""HTTP responses stay bounded: /api/v1/slos carries only each alert's most recent intervals."""

from __future__ import annotations

from slotail.outputs.http import API_INTERVALS, recent_intervals


def test_each_alert_keeps_only_its_most_recent_intervals() -> None:
    many = [{"start": f"t{i}", "end": f"t{i + 1}"} for i in range(API_INTERVALS * 3)]
    doc = {"slos": [{"alerts": [{"intervals": list(many)}, {"intervals": many[:2]}]}]}
    alerts = recent_intervals(doc)["slos"][0]["alerts"]
    assert alerts[0]["intervals"] == many[-API_INTERVALS:]
    assert alerts[1]["intervals"] == many[:2]
