"""A real sidecar pushing its burn-rate alert to a real Alertmanager (Debian's prometheus-alertmanager)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.promstack import Alertmanager, Pod, Traffic, http_get, tail, wait_for
from tests.sidecar import Sidecar, config_text, parse_metrics
from tests.tools import require

pytestmark = pytest.mark.integration

# A 99% SLO with one fast alert: burn 10 (10% errors) over both the last minute and 30 s.
SLO = """
  - name: checkout
    objective: 99
    sli:
      events: {event: req}
      bad: {status: {gte: 500}}
    alerts:
      - {name: fast, severity: page, burn_rate: 10, long_window: 1m, short_window: 30s}
"""
LABELS = {"alertname": "SLOErrorBudgetBurn", "slo": "checkout", "alert": "fast", "severity": "page"}
EXTRA = {"team": "payments"}  # alertmanager.labels, added to every alert pushed
RATE = 20.0  # requests a second
HEALTHY_S = 5.0
INCIDENT_S = 10.0  # at 50% errors
# After the incident both burns fall below 10 within about 15-35 s: each window reads
# (ceil((T - W) / 10 s) * 10 s, T], so the incident leaves it up to one 10 s bucket early.
RESOLVE_TIMEOUT_S = 75.0


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[Alertmanager]:
    """Alertmanager on a free port, clustering off, every alert routed to a null receiver."""
    server = Alertmanager(require("prometheus-alertmanager", "prometheus-alertmanager"), tmp_path)
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture
def pod(tmp_path: Path) -> Iterator[Pod]:
    (tmp_path / "logs").mkdir()
    writer = Pod(tmp_path / "logs" / "api.log", RATE, bad_every=0)
    yield writer
    writer.close()


@pytest.fixture
def sidecar(tmp_path: Path, alertmanager: Alertmanager, pod: Pod) -> Iterator[Sidecar]:
    """A sidecar tailing the pod's log, pushing to the Alertmanager every 2 s while an alert is active."""
    config = tmp_path / "slotail.yaml"
    push = {"url": alertmanager.url, "resend": "2s", "labels": EXTRA}
    config.write_text(config_text(tmp_path / "logs", SLO) + f"alertmanager: {json.dumps(push)}\n")
    daemon = Sidecar(tmp_path, config)
    try:
        yield daemon.start()
    finally:
        daemon.close()


def burn_alerts(alertmanager: Alertmanager) -> list[dict[str, Any]]:
    """The Alertmanager's active, unsilenced, uninhibited alerts with the sidecar's burn labels."""
    alerts = alertmanager.alerts(active="true", silenced="false", inhibited="false")
    return [a for a in alerts if {**LABELS, **EXTRA}.items() <= a["labels"].items()]


def epoch(rfc3339: str) -> float:
    return datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp()


def test_an_incident_in_the_logs_fires_an_alert_in_alertmanager_and_resolves_after(
    alertmanager, sidecar, pod
):
    """50% errors for 10 s make the sidecar push `SLOErrorBudgetBurn{alert="fast"}`; Alertmanager lists
    it active with the SLO's labels and alertmanager.labels; once healthy traffic brings both windows'
    burn below 10, the sidecar posts it resolved and Alertmanager stops listing it."""

    def why() -> str:
        try:
            shown: object = {
                f"{name}{dict(labels)}": v
                for (name, labels), v in sidecar.metrics().items()
                if name in ("slotail_burn_rate", "slotail_alert_active", "slotail_sli_events_total")
            }
        except (OSError, AssertionError) as exc:
            shown = f"unreadable: {exc}"
        return (
            f"sidecar /metrics: {shown}\n{alertmanager.diagnostics()}\n"
            f"--- sidecar stderr (tail):\n{tail(sidecar.stderr_path)}"
        )

    traffic = Traffic([pod])
    traffic.start()
    try:
        wait_for(lambda: traffic.elapsed() >= HEALTHY_S)
        assert not burn_alerts(alertmanager), why()

        incident_start = time.time()
        pod.bad_every = 2
        (alert,) = wait_for(lambda: burn_alerts(alertmanager), describe=why)
        seen = time.time()
        assert alert["status"]["state"] == "active", alert
        assert incident_start - 1 <= epoch(alert["startsAt"]) <= seen, (incident_start, alert, seen)
        assert "checkout" in alert["annotations"]["summary"], alert
        wait_for(lambda: time.time() - incident_start >= INCIDENT_S)
        pod.bad_every = 0
        healthy_again = time.time()

        wait_for(lambda: not burn_alerts(alertmanager), timeout=RESOLVE_TIMEOUT_S, describe=why)
        resolved_after = time.time() - healthy_again
    finally:
        traffic.stop()

    active = sidecar.metrics()[
        ("slotail_alert_active", frozenset({"slo": "checkout", "alert": "fast", "severity": "page"}.items()))
    ]
    assert active == 0, why()
    # Resolved by the sidecar's post (endsAt now), not by the alert's expiry (4 resends ahead).
    status, body = http_get(f"{alertmanager.url}/metrics")
    assert status == 200, body
    received = parse_metrics(body.decode())
    resolved = sum(
        v
        for (name, labels), v in received.items()
        if name == "alertmanager_alerts_received_total" and ("status", "resolved") in labels
    )
    assert resolved >= 1, f"alertmanager received no resolved alert: {received}\n{why()}"
    print(
        f"\nalert active {seen - incident_start:.1f}s after the incident began;"
        f" resolved {resolved_after:.1f}s after healthy traffic resumed"
    )
