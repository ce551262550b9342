"""Sloth's `prometheus/v1` spec as typed models (github.com/slok/sloth, pkg/prometheus/api/v1)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from slotail.interop.openslo_spec import Spec

VERSION = "prometheus/v1"


class Alert(Spec):
    """A page or ticket alert: on unless disabled, with its own labels and annotations."""

    disable: bool = False
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class Alerting(Spec):
    name: str | None = None  # the Prometheus alert name of both alerts
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    page_alert: Alert = Alert()
    ticket_alert: Alert = Alert()


class Events(Spec):
    error_query: str
    total_query: str


class Raw(Spec):
    error_ratio_query: str


class Plugin(Spec):
    id: str
    options: dict[str, Any] = Field(default_factory=dict)


class SLI(Spec):
    events: Events | None = None
    raw: Raw | None = None
    plugin: Plugin | None = None

    @model_validator(mode="after")
    def _shape(self) -> SLI:
        if sum(kind is not None for kind in (self.events, self.raw, self.plugin)) != 1:
            raise ValueError("expected exactly one of `events`, `raw` or `plugin`")
        return self


class PluginRef(Spec):
    id: str
    config: Any = None
    priority: int = 0


class Plugins(Spec):
    overridePrevious: bool = False
    chain: list[PluginRef] = Field(default_factory=list)


class SLO(Spec):
    name: str = Field(min_length=1)
    description: str | None = None
    objective: float = Field(gt=0, le=100)
    plugins: Plugins | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    sli: SLI
    alerting: Alerting = Alerting()


class SlothSpec(Spec):
    version: Literal["prometheus/v1"]
    service: str = Field(min_length=1)
    labels: dict[str, str] = Field(default_factory=dict)
    slo_plugins: Plugins | None = None
    slos: list[SLO] = Field(min_length=1)
