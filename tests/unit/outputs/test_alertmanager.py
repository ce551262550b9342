"""What the Alertmanager pusher sends: new alerts at once, resends on schedule, resolutions once."""

from __future__ import annotations

import numpy as np

from slotail.classify import Observations
from slotail.config import load_config_text
from slotail.engine import Engine, ManualClock
from slotail.engine.engine import build_store
from slotail.outputs.alertmanager import AlertmanagerPusher
from slotail.timeutil import US, iso_utc

CONFIG = """
slos:
  - name: api
    objective: 99
    sli: {good: {event: ok}, bad: {event: failed}}
    alerts: [{name: fast, severity: page, burn_rate: 10, window: 1m, labels: {team: core}}]
alertmanager: {url: "http://127.0.0.1:9093", resend: 30s, labels: {cluster: test}}
"""
T0 = 1_771_459_200 * US


def test_an_alert_is_sent_when_it_starts_resent_on_schedule_and_resolved_once():
    """Sent at once with labels and an expiry; re-sent only after `resend`; resolved with endsAt now."""
    config = load_config_text(CONFIG)
    store = build_store(config)
    clock = ManualClock(T0)
    engine = Engine(config, store, clock)
    pusher = AlertmanagerPusher(config.alertmanager, "http://127.0.0.1:9464/")

    def at(seconds: int, bad: bool) -> list | None:
        t = T0 + seconds * US
        store.add(
            Observations(
                np.zeros(1, np.int32),
                np.array([t], np.int64),
                np.array([int(bad)], np.int8),
                np.array([-1], np.int64),
                0,
            )
        )
        clock.set(t)
        engine.tick()
        return pusher.payload(engine.plans, engine.snapshot())

    assert at(1, False) is None  # nothing active, nothing to say
    [alert] = at(2, True)
    assert alert["labels"] == {
        "alertname": "SLOErrorBudgetBurn",
        "slo": "api",
        "alert": "fast",
        "severity": "page",
        "team": "core",
        "cluster": "test",
    }
    assert alert["startsAt"] == iso_utc(T0 + 2 * US)
    assert alert["endsAt"] == iso_utc(T0 + (2 + 4 * 30) * US)
    assert set(alert["annotations"]) == {"summary", "description", "runbook"}
    assert at(10, True) is None  # still active, resend not due
    [again] = at(33, True)
    assert again["startsAt"] == alert["startsAt"]
    for second in range(34, 100):
        sent = at(second, False)
        if sent is not None:
            break
    [resolved] = sent
    assert resolved["endsAt"] == iso_utc(T0 + second * US)
    assert at(second + 1, False) is None  # resolved once
