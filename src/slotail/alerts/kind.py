"""What an alert kind is, what it reads from the engine and from `slotail rules`, and what kinds share."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, Protocol

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel

from slotail.timeutil import format_duration

if TYPE_CHECKING:
    from collections.abc import Callable

    from slotail.config.model import SLO, AlertRule, AlertSpec
    from slotail.engine.engine import Plan
    from slotail.engine.snapshot import AlertState, SLOStatus, WindowStats

Bools = npt.NDArray[np.bool_]
Floats = npt.NDArray[np.float64]
Int64s = npt.NDArray[np.int64]

# Burn rates are compared with this relative tolerance, so that 0.072 / 0.005
# (14.399999999999999 in floating point) counts as reaching a factor of 14.4.
TOLERANCE = 1e-9


def reaches(burn: Floats, factor: float) -> Bools:
    """burn ≥ factor, with no data (NaN) never reaching (comparing NaN raises no floating-point error)."""
    return burn >= factor * (1 - TOLERANCE)


class Fields(BaseModel):
    """The YAML keys a kind adds to an alert, each optional: `config.model.AlertSpec` has every kind's
    (and its strictness: unknown keys and wrong types are errors)."""


class Resolved(NamedTuple):
    """An alert's condition in numbers, resolved against its SLO (what `AlertRule` carries)."""

    factor: float = 0.0  # the burn rate a burn-rate condition needs
    threshold: float = 0.0  # what any other condition compares with, in the store's units
    percentile: float | None = None


class Reading(Protocol):
    """What the engine has read for one round of alert evaluation: every series at every time."""

    def counts(self, seconds: int) -> Int64s:
        """Counters over the window ending at each time: (times, series, 3)."""

    def burn(self, seconds: int) -> tuple[Floats, Int64s]:
        """Burn rates (NaN without events) and good + bad events over the window: (times, series) each."""

    def period_burn(self, plan: Plan) -> tuple[Floats, Int64s]:
        """`burn` over the period of the plan's SLO (its budget consumed), for every series."""

    def period_lengths(self, plan: Plan) -> Int64s:
        """The length in seconds of the plan's period at each time (a calendar period's varies)."""

    def percentile(self, plan: Plan, seconds: int, percentile: float) -> Floats:
        """A latency percentile (µs) of one series over the window; NaN without events."""

    def shared(self, key: tuple[Any, ...], compute: Callable[[], Bools]) -> Bools:
        """A condition of every series (times, series), computed once a round for every rule with `key`."""


class PromQL(Protocol):
    """The PromQL `slotail rules` offers a kind for one SLO, summed over every sidecar."""

    def burn(self, seconds: int) -> str:
        """The recorded burn rate over a window."""

    def budget(self) -> str:
        """The recorded error budget remaining over the period."""

    def events(self, outcome: str, seconds: int) -> str:
        """Events of one outcome (good, bad or excluded) in a window (per group of a grouped SLO)."""

    def enough_events(self, rule: AlertRule) -> str:
        """The clause `min_events` adds over the rule's window (empty without one)."""

    def sidecars_active(self, rule: AlertRule) -> str:
        """True while any sidecar has the alert active (per group)."""


class Kind(ABC):
    """An alert kind: its keys, resolution, evaluation, PromQL, words and document fields."""

    fields: ClassVar[type[Fields]]  # the keys it adds to an alert
    triggers: ClassVar[tuple[str, ...]]  # the keys that make an alert this kind (one per alert)
    alertname: ClassVar[str]  # its rules' `alertname` in Prometheus and Alertmanager

    def given(self, spec: AlertSpec) -> bool:
        """Whether the alert is of this kind."""
        return any(getattr(spec, key) is not None for key in self.triggers)

    def check_keys(self, spec: AlertSpec) -> None:
        """Raise ValueError when this kind's keys are given wrongly, whatever kind the alert is:
        by default, its other keys on an alert of another kind."""
        stray = [key for key in self.fields.model_fields if getattr(spec, key) is not None]
        if stray and not self.given(spec):
            raise ValueError(f"`{stray[0]}` goes with {' or '.join(f'`{t}`' for t in self.triggers)}")

    def check(self, spec: AlertSpec) -> None:
        """Raise ValueError when an alert of this kind is shaped wrongly: by default one window."""
        one_window(spec)
        if spec.short_window is not None:
            raise ValueError("only burn-rate alerts take a `short_window`")

    def misfit(self, slo: SLO) -> tuple[str, str] | None:
        """(key, message) when an alert of this kind cannot apply to `slo`."""
        return None

    @abstractmethod
    def resolve(self, spec: AlertSpec, slo: SLO, period_s: int) -> Resolved:
        """The condition's numbers against the SLO (whose period is `period_s` long, nominally)."""

    @abstractmethod
    def condition(self, rule: AlertRule, plan: Plan, reading: Reading) -> Bools:
        """Whether the condition holds for the plan's series at each time of the reading."""

    def windows(self, rule: AlertRule) -> tuple[int, ...]:
        """Windows whose burn rates its PromQL reads from recording rules."""
        return ()

    @abstractmethod
    def promql(self, q: PromQL, rule: AlertRule) -> str:
        """The alerting rule's expression, fleet-wide."""

    def promql_for(self, rule: AlertRule) -> int:
        """The alerting rule's `for` in seconds (0: none)."""
        return rule.for_s

    @abstractmethod
    def describe(self, slo: SLO, rule: AlertRule, value: str) -> tuple[str, str]:
        """(summary, description) of a rule, `value` standing for the observed value."""

    def observed(self, status: SLOStatus, alert: AlertState) -> str:
        """What the condition reads now, as text ("?" where the snapshot does not hold it)."""
        return "?"

    @abstractmethod
    def when(self, alert: AlertState) -> str:
        """When the alert fires, in a few words (status page and report)."""

    def document(self, alert: AlertState) -> dict[str, Any]:
        """Its fields of the alert object of the JSON document (after name and severity)."""
        return {"burn_rate": None, "kind": alert.kind.value, "threshold": alert.threshold}

    def burn_mark(self, alert: AlertState) -> float | None:
        """The burn rate to mark on the report's burn-rate chart, if it fires at one."""
        return None


def one_window(spec: AlertSpec) -> None:
    """Raise ValueError unless the alert gives its window as `long_window` or `window` (not both)."""
    if (spec.long_window is None) == (spec.window is None):
        raise ValueError("expected exactly one of `long_window` or `window`")


def windows_text(rule: AlertRule) -> str:
    """`1h`, or `1h and 5m` for two windows."""
    return format_duration(rule.long_s) + (f" and {format_duration(rule.short_s)}" if rule.short_s else "")


def windows_label(alert: AlertState) -> str:
    """`1h`, or `1h & 5m` for two windows."""
    return alert.long_window + (f" & {alert.short_window}" if alert.short_window else "")


def objective_text(slo: SLO) -> str:
    """`api (objective 99.5%)`."""
    return f"{slo.name} (objective {slo.objective:g}%)"


def long_window(status: SLOStatus, alert: AlertState) -> WindowStats | None:
    """The snapshot's stats of the alert's (long) window."""
    return next((w for w in status.windows if w.label == alert.long_window), None)
