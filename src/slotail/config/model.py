"""Typed config models: validated once at load, no raw dicts past the loader."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from slotail.config.expr import Expr, ExprParser, Problem
from slotail.timeutil import format_duration, parse_duration

NAME = re.compile(r"[a-z0-9_-]+")


def _name(raw: object) -> str:
    if not isinstance(raw, str) or not NAME.fullmatch(raw):
        raise ValueError(f"expected a name of lowercase letters, digits, - and _; got {raw!r}")
    return raw


Name = Annotated[str, BeforeValidator(_name)]
DEFAULT_PERIOD_S = 30 * 86400
MONTH_NOMINAL_S = 30 * 86400  # a calendar month's length for deriving alert factors


def _duration(raw: object) -> int:
    if isinstance(raw, int) and not isinstance(raw, bool):
        raise ValueError(f"expected a duration with a unit like 5m or 1h; got the number {raw}")
    return parse_duration(raw)  # type: ignore[arg-type]


Duration = Annotated[int, BeforeValidator(_duration)]


@dataclass(frozen=True)
class Period:
    """An SLO period: a rolling duration, or the calendar month (UTC)."""

    seconds: int | None  # None for the calendar month

    @property
    def calendar(self) -> bool:
        return self.seconds is None

    @property
    def label(self) -> str:
        return "month" if self.seconds is None else format_duration(self.seconds)

    @property
    def nominal_seconds(self) -> int:
        return MONTH_NOMINAL_S if self.seconds is None else self.seconds


def _period(raw: object) -> Period:
    if isinstance(raw, Period):
        return raw
    if raw == "month":
        return Period(None)
    try:
        return Period(_duration(raw))
    except ValueError as exc:
        raise ValueError(f"{exc} (or `month` for the calendar month)") from None


PeriodField = Annotated[Period, BeforeValidator(_period)]


def _expr(raw: object) -> Expr | None:
    if raw is None:
        return None
    parser = ExprParser()
    expr = parser.expr(raw)
    if parser.problems:
        raise PydanticCustomError("expr", "invalid match expression", {"problems": parser.problems})
    return expr


ExprField = Annotated[Any, BeforeValidator(_expr)]


class Strict(BaseModel):
    """Unknown keys and wrong types are errors; models are immutable once loaded."""

    # strict: a YAML `true` or "99.5" is a mistake, not a number to coerce.
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, strict=True)


class SourceSpec(Strict):
    """A set of live log files for `slotail run`."""

    name: Name
    paths: list[str] = Field(min_length=1)
    start_at: Literal["end", "beginning"] = "end"
    backfill: list[str] = Field(default_factory=list)  # rotated archives to warm start from


class TimestampSpec(Strict):
    """Where each line's event time is, and how naive times are read."""

    field: str = "timestamp"
    naive: Literal["reject", "utc"] = "reject"


class Defaults(Strict):
    """Values an SLO inherits when it does not say."""

    period: PeriodField = Period(DEFAULT_PERIOD_S)


class StoreSpec(Strict):
    """Time resolution of the store and the line-size cap."""

    bucket: Duration = 10
    max_line_bytes: int = Field(default=1 << 20, ge=256)

    @field_validator("bucket")
    @classmethod
    def _divides_minute(cls, value: int) -> int:
        if 60 % value:
            raise ValueError("expected a bucket that divides one minute: 1s 2s 3s 5s 6s 10s ... 60s")
        return value


class LatencySpec(Strict):
    """A latency SLI: good at or under the threshold, bad above it."""

    field: str
    unit: Literal["ms", "s", "us"] = "ms"
    threshold: float = Field(gt=0)
    percentiles: list[float] = Field(default_factory=lambda: [50.0, 95.0, 99.0])

    @field_validator("percentiles")
    @classmethod
    def _in_range(cls, values: list[float]) -> list[float]:
        for p in values:
            if not 0 < p <= 100:
                raise ValueError(f"expected percentiles in (0, 100]; got {p}")
        return sorted(set(values))

    @property
    def scale_to_us(self) -> float:
        return {"ms": 1e3, "s": 1e6, "us": 1.0}[self.unit]


class SLIKind(enum.Enum):
    RATIO = "ratio"
    EVENT_PAIR = "event_pair"
    LATENCY = "latency"


class SLISpec(Strict):
    """Which lines are events of an SLI, and which of them are good, bad or excluded."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    events: ExprField = None
    good: ExprField = None
    bad: ExprField = None
    exclude: ExprField = None
    latency: LatencySpec | None = None

    @model_validator(mode="after")
    def _shape(self) -> SLISpec:
        if self.latency is not None:
            if self.events is None:
                raise ValueError("a latency SLI needs `events` to say which lines carry the latency")
            if self.good is not None or self.bad is not None:
                raise ValueError("a latency SLI takes `events`, `exclude` and `latency` only")
        elif self.events is not None:
            if self.good is None and self.bad is None:
                raise ValueError("an `events` SLI needs `bad` (or `good`) to say which events fail")
        elif self.good is None or self.bad is None:
            raise ValueError(
                "expected `events` with `bad`, `good` with `bad` (an event pair), or `events` with `latency`"
            )
        return self

    @property
    def kind(self) -> SLIKind:
        if self.latency is not None:
            return SLIKind.LATENCY
        return SLIKind.RATIO if self.events is not None else SLIKind.EVENT_PAIR


class AlertSpec(Strict):
    """A burn-rate alert: multi-window when it has a short window, single-window otherwise."""

    name: Name
    severity: str = "page"
    burn_rate: float | None = Field(default=None, gt=0)
    budget_percent: float | None = Field(default=None, gt=0, le=100)
    long_window: Duration | None = None
    window: Duration | None = None
    short_window: Duration | None = None
    for_: Duration | None = Field(default=None, alias="for")
    min_events: int = Field(default=0, ge=0)
    labels: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _shape(self) -> AlertSpec:
        if (self.burn_rate is None) == (self.budget_percent is None):
            raise ValueError("expected exactly one of `burn_rate` or `budget_percent`")
        if (self.long_window is None) == (self.window is None):
            raise ValueError("expected exactly one of `long_window` or `window`")
        if self.short_window is not None and self.short_window >= self.lookback:
            raise ValueError("expected `short_window` shorter than `long_window`")
        return self

    @property
    def lookback(self) -> int:
        return self.long_window if self.long_window is not None else self.window  # type: ignore[return-value]


def _alerts(raw: object, info: ValidationInfo) -> object:
    if isinstance(raw, str):
        from slotail.config.windows import load_window_set

        base = (info.context or {}).get("base_dir")
        return load_window_set(raw, base)
    return raw


def _check_unique(items: list[Any] | None, what: str) -> None:
    """Raise an error located at each repeated `name`, for the loader to report at that key's line."""
    names = [item.name for item in items or []]
    problems: list[Problem] = [
        ((i, "name"), f"{what} name {name!r} is used twice; names must be unique")
        for i, name in enumerate(names)
        if name in names[:i]
    ]
    if problems:
        raise PydanticCustomError("duplicate", "duplicate names", {"problems": problems})


def _unique_alerts(alerts: list[AlertSpec] | None) -> list[AlertSpec] | None:
    _check_unique(alerts, "alert")
    return alerts


AlertsField = Annotated[list[AlertSpec] | None, BeforeValidator(_alerts), AfterValidator(_unique_alerts)]


class SLO(Strict):
    """One service level objective over one SLI."""

    name: Name
    objective: float
    period: PeriodField | None = None
    description: str = ""
    sli: SLISpec
    alerts: AlertsField = None

    @field_validator("objective")
    @classmethod
    def _percent(cls, value: float) -> float:
        if not 0 < value < 100:
            raise ValueError(f"expected a percentage strictly between 0 and 100, e.g. 99.5; got {value}")
        return value

    @property
    def target(self) -> float:
        """The objective as a ratio (99.5 -> 0.995)."""
        return self.objective / 100.0


@dataclass(frozen=True)
class AlertRule:
    """An alert resolved against its SLO: a burn-rate factor and windows in seconds."""

    name: str
    severity: str
    factor: float
    long_s: int
    short_s: int | None
    for_s: int
    min_events: int
    labels: tuple[tuple[str, str], ...]


class AlertmanagerSpec(Strict):
    """Where the sidecar pushes its active alerts (optional; Prometheus rules are the other way)."""

    url: str = Field(pattern=r"^https?://[^/\s]+(/.*)?$")
    resend: Duration = 60
    timeout: Duration = 10
    labels: dict[str, str] = Field(default_factory=dict)


class Config(Strict):
    """The whole config file."""

    sources: list[SourceSpec] = Field(default_factory=list)
    timestamp: TimestampSpec = TimestampSpec()
    defaults: Defaults = Defaults()
    store: StoreSpec = StoreSpec()
    slos: list[SLO] = Field(min_length=1)
    alerts: AlertsField = None
    alertmanager: AlertmanagerSpec | None = None

    @field_validator("slos")
    @classmethod
    def _unique_slos(cls, slos: list[SLO]) -> list[SLO]:
        _check_unique(slos, "SLO")
        return slos

    def period(self, slo: SLO) -> Period:
        return slo.period if slo.period is not None else self.defaults.period

    def alert_specs(self, slo: SLO) -> list[AlertSpec]:
        if slo.alerts is not None:
            return slo.alerts
        return self.alerts if self.alerts is not None else []

    def alert_rules(self, slo: SLO) -> list[AlertRule]:
        """The SLO's alerts with factors derived from its period where given as budget spent."""
        period_s = self.period(slo).nominal_seconds
        rules = []
        for spec in self.alert_specs(slo):
            factor = spec.burn_rate
            if factor is None:
                # budget_percent of the period's budget spent within the long window.
                factor = (spec.budget_percent or 0) / 100 * period_s / spec.lookback
            rules.append(
                AlertRule(
                    name=spec.name,
                    severity=spec.severity,
                    factor=factor,
                    long_s=spec.lookback,
                    short_s=spec.short_window,
                    for_s=spec.for_ or 0,
                    min_events=spec.min_events,
                    labels=tuple(sorted(spec.labels.items())),
                )
            )
        return rules
