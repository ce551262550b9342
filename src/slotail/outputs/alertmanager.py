"""Push the sidecar's active alerts to an Alertmanager (`POST /api/v2/alerts`).

Active alerts are sent when they start and re-sent every `resend`, each with an
`endsAt` a few resends ahead, so Alertmanager resolves them by itself if the
sidecar dies; an alert that stops is sent once more with `endsAt` now (resolved).
Failures are logged and counted, and the next push carries everything again.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp

from slotail.alerts.registry import KINDS
from slotail.config.model import AlertmanagerSpec
from slotail.engine.engine import Plan
from slotail.engine.snapshot import AlertState, SLOStatus, Snapshot
from slotail.outputs.alerttext import alert_name, burn_annotations, burn_labels
from slotail.outputs.prometheus import slo_label_pairs
from slotail.timeutil import US, iso_utc

logger = logging.getLogger("slotail.alertmanager")
EXPIRY_RESENDS = 4  # an unrefreshed alert expires after this many resend intervals


class AlertmanagerPusher:
    """Decides what to send after each tick, and sends it in the background."""

    def __init__(self, spec: AlertmanagerSpec, generator_url: str) -> None:
        self.spec = spec
        self.generator_url = generator_url
        self.errors = 0
        self.sent = 0
        self._active: dict[tuple[Any, ...], dict[str, Any]] = {}
        self._last_push_us = 0
        self._tasks: set[asyncio.Task[None]] = set()

    def payload(self, plans: list[Plan], snapshot: Snapshot) -> list[dict[str, Any]] | None:
        """The alerts to post now, or None when nothing changed and no resend is due."""
        now = snapshot.at_us
        current = self._current(plans, snapshot)
        resolved = [
            {**alert, "endsAt": iso_utc(now)} for key, alert in self._active.items() if key not in current
        ]
        changed = bool(resolved) or any(key not in self._active for key in current)
        if not changed and (not current or now - self._last_push_us < self.spec.resend * US):
            return None
        ends = iso_utc(now + EXPIRY_RESENDS * self.spec.resend * US)
        self._active, self._last_push_us = current, now
        return [{**alert, "endsAt": ends} for alert in current.values()] + resolved

    def _current(self, plans: list[Plan], snapshot: Snapshot) -> dict[tuple[Any, ...], dict[str, Any]]:
        found = {}
        for plan, slo in zip(plans, snapshot.slos, strict=True):
            for rule, state in zip(plan.rules, slo.alerts, strict=True):
                if not state.active or not state.intervals:
                    continue
                groups = dict(slo_label_pairs(slo.name, slo.labels)[1:])
                labels = {
                    "alertname": alert_name(rule),
                    **burn_labels(plan.slo, rule),
                    **groups,
                    **self.spec.labels,
                }
                found[(slo.name, rule.name, *slo.labels)] = {
                    "labels": labels,
                    "annotations": burn_annotations(plan.slo, rule, _observed(slo, state)),
                    "startsAt": iso_utc(state.intervals[-1].start_us),
                    "generatorURL": self.generator_url,
                }
        return found

    def push(self, plans: list[Plan], snapshot: Snapshot) -> None:
        """Post what is due, without waiting (call from within the event loop)."""
        alerts = self.payload(plans, snapshot)
        if alerts is None:
            return
        task = asyncio.get_running_loop().create_task(self._post(alerts))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _post(self, alerts: list[dict[str, Any]]) -> None:
        url = self.spec.url.rstrip("/") + "/api/v2/alerts"
        try:
            timeout = aiohttp.ClientTimeout(total=self.spec.timeout)
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.post(url, json=alerts) as reply,
            ):
                if reply.status >= 300:
                    raise aiohttp.ClientResponseError(
                        reply.request_info, (), status=reply.status, message=(await reply.text())[:200]
                    )
            self.sent += 1
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.errors += 1
            self._last_push_us = 0  # try again at the next tick
            logger.warning("alertmanager push failed", extra={"url": url, "error": str(exc)})

    async def drain(self) -> None:
        """Wait (briefly) for pushes in flight, at shutdown."""
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=self.spec.timeout)


def _observed(slo: SLOStatus, state: AlertState) -> str:
    """What the alert's condition reads now, as text ("?" where the snapshot does not hold it)."""
    return KINDS[state.kind].observed(slo, state)
