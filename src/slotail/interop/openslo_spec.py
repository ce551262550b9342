"""OpenSLO v1 objects as typed models (the spec's README, github.com/OpenSLO/OpenSLO, v1 section).

Unknown keys and wrong types are errors, as in slotail's own config: a misspelt `objectives` must not
import as an SLO with no objective.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from slotail.interop.shared import Shorthand, parse_shorthand

API_VERSION = "openslo/v1"
Operator = Literal["lte", "gte", "lt", "gt"]
Duration = Annotated[Shorthand, BeforeValidator(parse_shorthand)]


class Spec(BaseModel):
    """Unknown keys and wrong types are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Metadata(Spec):
    name: str = Field(min_length=1)
    displayName: str | None = None
    labels: dict[str, str | list[str]] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class MetricSource(Spec):
    metricSourceRef: str | None = None
    type: str | None = None
    spec: dict[str, Any] = Field(min_length=1)


class Metric(Spec):
    metricSource: MetricSource


class RatioMetric(Spec):
    """good/total, bad/total, or a raw ratio (`rawType` success or failure)."""

    counter: bool | None = None
    good: Metric | None = None
    bad: Metric | None = None
    total: Metric | None = None
    rawType: Literal["success", "failure"] | None = None
    raw: Metric | None = None

    @model_validator(mode="after")
    def _shape(self) -> RatioMetric:
        if self.raw is not None:
            if self.total or self.good or self.bad or self.rawType is None:
                raise ValueError("`raw` takes `rawType` (success or failure) and no good, bad or total")
        elif self.total is None or (self.good is None) == (self.bad is None):
            raise ValueError("expected `total` with one of `good` or `bad`, or `raw` with `rawType`")
        return self

    def metrics(self) -> dict[str, Metric]:
        """The queries given, by role (good, bad, total, raw)."""
        roles = {"good": self.good, "bad": self.bad, "total": self.total, "raw": self.raw}
        return {role: metric for role, metric in roles.items() if metric is not None}


class SLISpec(Spec):
    description: str | None = None
    thresholdMetric: Metric | None = None
    ratioMetric: RatioMetric | None = None

    @model_validator(mode="after")
    def _shape(self) -> SLISpec:
        if (self.thresholdMetric is None) == (self.ratioMetric is None):
            raise ValueError("expected exactly one of `thresholdMetric` or `ratioMetric`")
        return self

    def metrics(self) -> dict[str, Metric]:
        """The queries given, by role (threshold, or those of the ratio)."""
        if self.thresholdMetric is not None:
            return {"threshold": self.thresholdMetric}
        return self.ratioMetric.metrics() if self.ratioMetric is not None else {}


class InlineSLI(Spec):
    metadata: Metadata
    spec: SLISpec


def _clock(raw: object) -> object:
    """`startTime: 2022-01-01 12:00:00` (a YAML timestamp) back to its text."""
    return raw.strftime("%Y-%m-%d %H:%M:%S") if isinstance(raw, datetime) else raw


class Calendar(Spec):
    startTime: Annotated[str, BeforeValidator(_clock)]
    timeZone: str


class TimeWindow(Spec):
    duration: Duration
    isRolling: bool | None = None  # omitted: false when `calendar` is given
    calendar: Calendar | None = None

    @property
    def rolling(self) -> bool:
        return self.isRolling if self.isRolling is not None else self.calendar is None


class Objective(Spec):
    displayName: str | None = None
    op: Operator | None = None
    value: float | None = None
    target: float | None = Field(default=None, ge=0, lt=1)
    targetPercent: float | None = Field(default=None, ge=0, lt=100)
    timeSliceTarget: float | None = Field(default=None, gt=0, le=1)
    timeSliceWindow: Duration | None = None
    indicator: InlineSLI | None = None
    indicatorRef: str | None = None
    compositeWeight: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _shape(self) -> Objective:
        if (self.target is None) == (self.targetPercent is None):
            raise ValueError("expected exactly one of `target` or `targetPercent`")
        if self.indicator is not None and self.indicatorRef is not None:
            raise ValueError("expected one of `indicator` or `indicatorRef`, not both")
        return self


class Condition(Spec):
    kind: str = "burnrate"
    op: Operator
    threshold: float
    lookbackWindow: Duration
    alertAfter: Duration | None = None


class AlertConditionSpec(Spec):
    description: str | None = None
    severity: str = Field(min_length=1)
    condition: Condition


class TargetSpec(Spec):
    target: str
    description: str | None = None


def _ref_or_inline(item: Spec, ref: str, kind: str) -> None:
    """An item that names an object (`ref`), or is one inline (`kind`, `metadata`, `spec`)."""
    inline = [getattr(item, key) is not None for key in ("kind", "metadata", "spec")]
    if getattr(item, ref) is not None:
        if any(inline):
            raise ValueError(f"expected `{ref}` alone, or an inline {kind} without `{ref}`")
    elif not all(inline):
        raise ValueError(f"expected `{ref}`, or an inline {kind} with `kind`, `metadata` and `spec`")


class ConditionItem(Spec):
    conditionRef: str | None = None
    kind: Literal["AlertCondition"] | None = None
    metadata: Metadata | None = None
    spec: AlertConditionSpec | None = None

    @model_validator(mode="after")
    def _shape(self) -> ConditionItem:
        _ref_or_inline(self, "conditionRef", "AlertCondition")
        return self


class TargetItem(Spec):
    targetRef: str | None = None
    kind: Literal["AlertNotificationTarget"] | None = None
    metadata: Metadata | None = None
    spec: TargetSpec | None = None

    @model_validator(mode="after")
    def _shape(self) -> TargetItem:
        _ref_or_inline(self, "targetRef", "AlertNotificationTarget")
        return self


class AlertPolicySpec(Spec):
    description: str | None = None
    alertWhenNoData: bool | None = None
    alertWhenResolved: bool | None = None
    alertWhenBreaching: bool | None = None
    conditions: list[ConditionItem] = Field(min_length=1, max_length=1)  # the spec allows one, for now
    notificationTargets: list[TargetItem] = Field(default_factory=list)


class PolicyItem(Spec):
    alertPolicyRef: str | None = None
    kind: Literal["AlertPolicy"] | None = None
    metadata: Metadata | None = None
    spec: AlertPolicySpec | None = None

    @model_validator(mode="after")
    def _shape(self) -> PolicyItem:
        _ref_or_inline(self, "alertPolicyRef", "AlertPolicy")
        return self


class SLOSpec(Spec):
    description: str | None = None
    service: str | None = None
    indicator: InlineSLI | None = None
    indicatorRef: str | None = None
    timeWindow: list[TimeWindow] = Field(default_factory=list, max_length=1)
    budgetingMethod: Literal["Occurrences", "Timeslices", "RatioTimeslices"]
    objectives: list[Objective] = Field(min_length=1)
    alertPolicies: list[PolicyItem] = Field(default_factory=list)

    @model_validator(mode="after")
    def _shape(self) -> SLOSpec:
        own = self.indicator is not None or self.indicatorRef is not None
        composite = [o.indicator is not None or o.indicatorRef is not None for o in self.objectives]
        if self.indicator is not None and self.indicatorRef is not None:
            raise ValueError("expected one of `indicator` or `indicatorRef`, not both")
        if not own and not all(composite):
            raise ValueError(
                "expected `indicator` or `indicatorRef` (or one in every objective, a composite SLO)"
            )
        if own and any(composite):
            raise ValueError("expected the SLI in `indicator`/`indicatorRef` or in the objectives, not both")
        return self


class ServiceSpec(Spec):
    description: str | None = None


class DataSourceSpec(Spec):
    description: str | None = None
    type: str
    connectionDetails: Any = None


class Object(Spec):
    """Any OpenSLO v1 object: `apiVersion`, `kind`, `metadata`, `spec`."""

    apiVersion: Literal["openslo/v1"]
    metadata: Metadata


class SLO(Object):
    kind: Literal["SLO"]
    spec: SLOSpec


class SLI(Object):
    kind: Literal["SLI"]
    spec: SLISpec


class AlertPolicy(Object):
    kind: Literal["AlertPolicy"]
    spec: AlertPolicySpec


class AlertCondition(Object):
    kind: Literal["AlertCondition"]
    spec: AlertConditionSpec


class AlertNotificationTarget(Object):
    kind: Literal["AlertNotificationTarget"]
    spec: TargetSpec


class Service(Object):
    kind: Literal["Service"]
    spec: ServiceSpec = ServiceSpec()


class DataSource(Object):
    kind: Literal["DataSource"]
    spec: DataSourceSpec


KINDS: dict[str, type[Object]] = {
    model.__name__: model
    for model in (SLO, SLI, AlertPolicy, AlertCondition, AlertNotificationTarget, Service, DataSource)
}
