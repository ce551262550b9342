"""Typed config models: validated once at load, no raw dicts past the loader."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import msgspec
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from slotail.alerts.registry import FIELDS, KINDS, TRIGGERS, AlertKind
from slotail.config.expr import Expr, ExprParser, Problem
from slotail.durations import Duration, duration_s
from slotail.paths import Path, label_for, parse_path
from slotail.timeutil import CALENDAR_UNITS, format_duration, parse_instant

NAME = re.compile(r"[a-z0-9_-]+")


def _name(raw: object) -> str:
    if not isinstance(raw, str) or not NAME.fullmatch(raw):
        raise ValueError(f"expected a name of lowercase letters, digits, - and _; got {raw!r}")
    return raw


Name = Annotated[str, BeforeValidator(_name)]
LABEL = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
RESERVED_LABELS = frozenset(
    {"slo", "outcome", "window", "alert", "severity", "percentile", "quantile", "le", "job", "instance"}
    | {"source", "result"}
)


def label_name(path: str) -> str:
    """A group field's Prometheus label name in snake_case (`slotail.paths.label_for`): `user.region`,
    `userRegion` -> `user_region`, `/http.route` -> `http_route`."""
    return label_for(parse_path(path))


def _field_path(raw: str) -> str:
    parse_path(raw)  # a malformed path is an error at its key
    return raw


FieldPath = Annotated[str, AfterValidator(_field_path)]  # dotted, or a JSON Pointer (`/a.b/c`)


DEFAULT_PERIOD_S = 30 * 86400
DAY_S = 86400
# A calendar period's length for deriving alert factors, and in `slotail rules`.
CALENDAR_NOMINAL_S = {"week": 7 * 86400, "month": 30 * 86400, "quarter": 90 * 86400}


@dataclass(frozen=True)
class Period:
    """An SLO period: a rolling duration (`seconds`), or a calendar period (UTC): week, month, quarter."""

    seconds: int | None = None
    calendar: str | None = None  # `timeutil.CALENDAR_UNITS`; then `seconds` is None

    @property
    def label(self) -> str:
        return self.calendar if self.calendar is not None else format_duration(self.nominal_seconds)

    @property
    def nominal_seconds(self) -> int:
        """Its length, a calendar period's taken as 7, 30 or 90 days."""
        if self.calendar is not None:
            return CALENDAR_NOMINAL_S[self.calendar]
        assert self.seconds is not None
        return self.seconds


def _period(raw: object) -> Period:
    if isinstance(raw, Period):
        return raw
    if raw in CALENDAR_UNITS:
        return Period(calendar=str(raw))
    try:
        return Period(duration_s(raw))
    except ValueError as exc:
        raise ValueError(f"{exc} (or a calendar period: {', '.join(CALENDAR_UNITS)})") from None


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


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TIME_OF_DAY = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")


def _instant(raw: object) -> int:
    """An RFC 3339 instant (YAML may hand it over as a datetime) in µs."""
    if isinstance(raw, datetime):
        if raw.tzinfo is None:
            raise ValueError(f"time {raw.isoformat()} has no offset; add Z or +HH:MM")
        return parse_instant(raw.isoformat())
    if not isinstance(raw, str):
        raise ValueError(f"expected an RFC 3339 time like 2026-02-01T02:00:00Z; got {raw!r}")
    return parse_instant(raw)


Instant = Annotated[int, BeforeValidator(_instant)]


def _time_of_day(raw: object) -> int:
    """`"02:00"` -> seconds after midnight UTC."""
    if not isinstance(raw, str) or not TIME_OF_DAY.fullmatch(raw):
        raise ValueError(f'expected a quoted UTC time of day like "02:00"; got {raw!r}')
    hours, minutes = raw.split(":")
    return int(hours) * 3600 + int(minutes) * 60


TimeOfDay = Annotated[int, BeforeValidator(_time_of_day)]


class MaintenanceSpec(Strict):
    """Planned maintenance: events in [start, start + duration) count neither way.

    One-off with `start` and `end` (or `duration`), or recurring with `every` (day, week
    or month), `at` (UTC time of day), `duration`, and for week/month a `weekday`
    (month: the `nth` such weekday, 1 to 5, or -1 for the last).
    """

    name: str = ""
    slos: list[str] | None = None  # default: every SLO
    start: Instant | None = None
    end: Instant | None = None
    duration: Duration | None = None
    every: Literal["day", "week", "month"] | None = None
    at: TimeOfDay | None = None
    weekday: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] | None = None
    nth: int | None = Field(default=None, ge=-1, le=5)

    @model_validator(mode="after")
    def _shape(self) -> MaintenanceSpec:
        if self.every is None:
            if self.start is None or (self.end is None) == (self.duration is None):
                raise ValueError("a one-off window takes `start` and one of `end` or `duration`")
            if self.end is not None and self.end <= self.start:
                raise ValueError("expected `end` after `start`")
            return self
        if self.start is not None or self.end is not None or self.at is None or self.duration is None:
            raise ValueError("a recurring window takes `every`, `at` and `duration` (no `start`/`end`)")
        if (self.every == "day") != (self.weekday is None):
            raise ValueError("`every: week` and `every: month` take a `weekday`; `every: day` does not")
        if (self.every == "month") != (self.nth is not None) or self.nth == 0:
            raise ValueError("`every: month` takes `nth` (1 to 5, or -1 for the last); other windows do not")
        return self


class StatusLevel(Strict):
    """A budget status: named while more than `above` percent of the budget remains."""

    status: Name
    above: float | None = Field(default=None, ge=-1000, lt=100)


def _statuses(levels: list[StatusLevel]) -> list[StatusLevel]:
    if not levels or levels[-1].above is not None or any(level.above is None for level in levels[:-1]):
        raise ValueError("expected levels with `above` in decreasing order, the last one without `above`")
    bounds = [level.above for level in levels[:-1] if level.above is not None]
    if bounds != sorted(bounds, reverse=True) or len(set(bounds)) != len(bounds):
        raise ValueError("expected the `above` percentages in strictly decreasing order")
    return levels


StatusLevels = Annotated[list[StatusLevel], AfterValidator(_statuses)]


class ReleaseCondition(Strict):
    """When a release rule matches: every condition given holds for one of its SLOs."""

    slos: list[str] | None = None  # default: every SLO
    budget_minutes_at_most: float | None = None
    budget_percent_at_most: float | None = None
    burn_rate_at_least: float | None = Field(default=None, ge=0)
    sli_below: float | None = Field(default=None, gt=0, le=100)
    window: Duration | None = None  # what burn_rate_at_least and sli_below read

    @model_validator(mode="after")
    def _shape(self) -> ReleaseCondition:
        reads_window = self.burn_rate_at_least is not None or self.sli_below is not None
        if reads_window != (self.window is not None):
            raise ValueError("`burn_rate_at_least` and `sli_below` need a `window`, and only they take one")
        return self


class ReleaseRule(Strict):
    """A release decision, taken when its condition holds (no `when`: always; the last rule)."""

    decision: str = Field(min_length=1)
    when: ReleaseCondition | None = None
    reason: str = ""


class SourceSpec(Strict):
    """A set of live log files for `slotail run`."""

    name: Name
    paths: list[str] = Field(min_length=1)
    start_at: Literal["end", "beginning"] = "end"
    backfill: list[str] = Field(default_factory=list)  # rotated archives to warm start from


class TimestampSpec(Strict):
    """Where each line's event time is, and how it is read: ISO 8601 or epoch numbers (in `unit`, by
    magnitude when not given), or strings in an strptime `format`; naive times rejected or UTC."""

    field: FieldPath = "timestamp"
    naive: Literal["reject", "utc"] = "reject"
    unit: Literal["s", "ms", "us", "ns"] | None = None
    format: str | None = None

    @field_validator("format")
    @classmethod
    def _strptime(cls, fmt: str | None) -> str | None:
        if fmt is not None:
            sample = datetime(2026, 2, 19, 9, 8, 7, 654321, tzinfo=UTC)
            try:
                read = datetime.strptime(sample.strftime(fmt), fmt)
            except ValueError as exc:
                raise ValueError(f"strptime cannot read back what this format writes ({exc})") from None
            if read.date() != sample.date():
                raise ValueError("expected a format with the date (year, month, day): %d/%b/%Y:%H:%M:%S %z")
        return fmt

    @model_validator(mode="after")
    def _naive_format(self) -> TimestampSpec:
        if self.format is not None and self.naive == "reject" and "%z" not in self.format:
            raise ValueError(f"format {self.format!r} has no offset (%z): add one, or set `naive: utc`")
        return self

    @property
    def path(self) -> Path:
        return parse_path(self.field)


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

    field: FieldPath
    unit: Literal["ms", "s", "us", "ns"] = "ms"
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
        return {"ms": 1e3, "s": 1e6, "us": 1.0, "ns": 1e-3}[self.unit]

    @property
    def path(self) -> Path:
        return parse_path(self.field)


class SLIKind(enum.Enum):
    RATIO = "ratio"
    EVENT_PAIR = "event_pair"
    LATENCY = "latency"


PLACEHOLDER_MESSAGE = (
    "imported SLI placeholder: replace with events/bad matchers (events and latency for a latency SLI); "
    "`placeholder` holds the query it was imported from"
)


class SLISpec(Strict):
    """Which lines are events of an SLI, and which of them are good, bad or excluded."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    events: ExprField = None
    good: ExprField = None
    bad: ExprField = None
    exclude: ExprField = None
    latency: LatencySpec | None = None

    @model_validator(mode="before")
    @classmethod
    def _not_a_placeholder(cls, raw: object) -> object:
        """`slotail import` writes `placeholder:` where a query could not become log matchers."""
        if isinstance(raw, dict) and "placeholder" in raw:
            problem: Problem = (("placeholder",), PLACEHOLDER_MESSAGE)
            raise PydanticCustomError("placeholder", "imported SLI placeholder", {"problems": [problem]})
        return raw

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
            if self.good is not None and self.bad is not None:
                raise ValueError(
                    "an `events` SLI takes `bad` (the rest are good) or `good` (the rest are bad), not both; "
                    "for an event pair (a good line and a bad line) drop `events`"
                )
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


class AlertSpec(Strict, *FIELDS):  # type: ignore[misc]  # (mypy cannot follow bases made at run time)
    """An alert: its kind's condition (exactly one kind's key), its window(s), and how it holds.

    Each kind (alerts/) adds its keys: `burn_rate` or `budget_percent` over one or two windows,
    `sli_below`, `bad_count`, `percentile` + `above`, `budget_below` (over the SLO's period),
    `exhausts_within` (the budget left runs out that soon at the window's burn rate).
    """

    name: Name
    severity: str = "page"
    long_window: Duration | None = None
    window: Duration | None = None
    short_window: Duration | None = None
    for_: Duration | None = Field(default=None, alias="for")
    min_events: int = Field(default=0, ge=0)
    labels: dict[str, str] = Field(default_factory=dict)
    summary: str = ""
    runbook: str = ""

    @model_validator(mode="after")
    def _shape(self) -> AlertSpec:
        given = [key for key in TRIGGERS if getattr(self, key) is not None]
        if len(given) != 1:
            raise ValueError(f"expected exactly one of {', '.join(f'`{k}`' for k in TRIGGERS)}")
        for kind in KINDS.values():
            kind.check_keys(self)
        KINDS[self.kind].check(self)
        return self

    @property
    def kind(self) -> AlertKind:
        return next(key for key, kind in KINDS.items() if kind.given(self))

    @property
    def lookback(self) -> int:
        """The (long) window in seconds; 0 for alerts that read the period."""
        return self.long_window or self.window or 0


def _raw_names(items: object) -> list[object]:
    """The `name` of each item of a list not validated yet (None where an item is no mapping)."""
    if not isinstance(items, list):
        return []
    return [item.get("name") if isinstance(item, dict) else None for item in items]


def _duplicates(names: list[object], what: str) -> list[Problem]:
    """A problem located at each repeated name (`(i, "name")`), for the loader to report at its line."""
    seen: set[str] = set()
    problems: list[Problem] = []
    for i, name in enumerate(names):
        if not isinstance(name, str):
            continue
        if name in seen:
            problems.append(((i, "name"), f"{what} name {name!r} is used twice; names must be unique"))
        seen.add(name)
    return problems


def _check_unique(items: list[Any] | None, what: str) -> None:
    """Raise an error located at each repeated `name`."""
    problems = _duplicates([item.name for item in items or []], what)
    if problems:
        raise PydanticCustomError("duplicate", "duplicate names", {"problems": problems})


def _unique_alerts(alerts: list[AlertSpec] | None) -> list[AlertSpec] | None:
    _check_unique(alerts, "alert")
    return alerts


AlertsField = Annotated[list[AlertSpec] | None, AfterValidator(_unique_alerts)]


class Slicing(msgspec.Struct, frozen=True):
    """How a timeslice SLO counts: slices of `seconds`, aligned to the epoch, each good when at least
    `target` of its events are good; a slice without events counts as good, or is skipped."""

    seconds: int
    target: float  # as a ratio
    empty_good: bool

    @property
    def label(self) -> str:
        return format_duration(self.seconds)


class SLO(Strict):
    """One service level objective over one SLI."""

    name: Name
    objective: float
    period: PeriodField | None = None
    description: str = ""
    sli: SLISpec
    alerts: AlertsField = None
    budget_policy: StatusLevels | None = None
    group_by: list[FieldPath] = Field(default_factory=list)  # a series per distinct tuple of values
    max_series: int = Field(default=1000, ge=1)  # distinct tuples kept; later ones fold into overflow
    budgeting: Literal["occurrences", "timeslices"] = "occurrences"
    slice: Duration | None = None  # timeslices: the length of a slice
    slice_target: float | None = Field(default=None, gt=0, le=100)  # timeslices: % of a slice's events good
    empty_slices: Literal["good", "skip"] | None = None  # timeslices: a slice without events (default good)

    @model_validator(mode="after")
    def _budgeting(self) -> SLO:
        keys = [k for k in ("slice", "slice_target", "empty_slices") if getattr(self, k) is not None]
        if self.budgeting == "occurrences" and keys:
            raise ValueError(f"`{keys[0]}` goes with `budgeting: timeslices`")
        if self.budgeting == "timeslices":
            if self.slice is None or self.slice_target is None:
                raise ValueError(
                    "`budgeting: timeslices` takes a `slice` (like 1m or 5m) and a `slice_target`"
                )
            if DAY_S % self.slice:
                raise ValueError(
                    f"expected a `slice` that divides a day (1m, 5m, 10m, 1h, ...); got {self.slice}s"
                )
        return self

    @property
    def slicing(self) -> Slicing | None:
        """How a timeslice SLO counts its slices (None for an SLO that counts events)."""
        if self.slice is None or self.slice_target is None:
            return None
        return Slicing(self.slice, self.slice_target / 100, self.empty_slices != "skip")

    @field_validator("group_by")
    @classmethod
    def _group_fields(cls, paths: list[str]) -> list[str]:
        labels = [label_name(p) for p in paths]
        for path, label in zip(paths, labels, strict=True):
            if not LABEL.fullmatch(label) or label.startswith("__"):
                raise ValueError(f"{path!r} would be the label {label!r}, not a Prometheus label name")
            if label in RESERVED_LABELS:
                raise ValueError(f"{path!r} would be the label {label!r}, which slotail's metrics use")
        if len(set(labels)) != len(labels):
            raise ValueError(f"expected distinct fields (as labels: {labels}); got {paths}")
        return paths

    @property
    def group_labels(self) -> tuple[str, ...]:
        """The Prometheus label name of each `group_by` field (dots become _)."""
        return tuple(label_name(p) for p in self.group_by)

    @property
    def group_paths(self) -> tuple[Path, ...]:
        """The keys of each `group_by` field."""
        return tuple(parse_path(p) for p in self.group_by)

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


class AlertRule(msgspec.Struct, frozen=True):
    """An alert resolved against its SLO: its kind's numbers (`alerts.kind.Resolved`) and windows in seconds.

    `factor` is the burn rate a burn-rate (or SLI) alert needs; `threshold` is the bad-event
    count a count alert must exceed, the latency (µs) a percentile alert's `percentile` must
    exceed, or the remaining budget ratio a budget alert must fall below.
    """

    name: str
    severity: str
    factor: float
    long_s: int
    short_s: int | None
    for_s: int
    min_events: int
    labels: tuple[tuple[str, str], ...]
    kind: AlertKind = AlertKind.BURN
    threshold: float = 0.0
    percentile: float | None = None
    summary: str = ""
    runbook: str = ""


class AlertmanagerSpec(Strict):
    """Where the sidecar pushes its active alerts (optional; Prometheus rules are the other way)."""

    url: str = Field(pattern=r"^https?://[^/\s]+(/.*)?$")
    resend: Duration = 60
    timeout: Duration = 10
    labels: dict[str, str] = Field(default_factory=dict)


class Config(Strict):
    """The whole config file."""

    sources: list[SourceSpec] = Field(default_factory=list)
    envelope: Literal["docker", "cri"] | None = None  # each raw line unwrapped first (container logs)
    timestamp: TimestampSpec = TimestampSpec()
    fields: dict[FieldPath, Literal["number"]] = Field(default_factory=dict)  # how to read fields
    defaults: Defaults = Defaults()
    store: StoreSpec = StoreSpec()
    slos: list[SLO] = Field(min_length=1)
    alerts: AlertsField = None
    alertmanager: AlertmanagerSpec | None = None
    maintenance: list[MaintenanceSpec] = Field(default_factory=list)
    budget_policy: StatusLevels | None = None
    release_policy: list[ReleaseRule] | None = None
    severities: list[Name] | None = Field(default=None, min_length=1)  # when given, the only ones allowed

    @model_validator(mode="wrap")
    @classmethod
    def _unique_slos(cls, raw: Any, handler: ModelWrapValidatorHandler[Config]) -> Config:
        """Two SLOs with one name, reported together with whatever else is wrong (SLOs that fail
        validation still have their names compared)."""
        names = _raw_names(raw.get("slos") if isinstance(raw, dict) else None)
        problems = [(("slos", *where), message) for where, message in _duplicates(names, "SLO")]
        duplicate = PydanticCustomError("duplicate", "duplicate names", {"problems": problems})
        try:
            config = handler(raw)
        except ValidationError as exc:
            if not problems:
                raise
            raise _with_error(exc, duplicate, raw) from None
        if problems:
            raise duplicate
        return config

    @model_validator(mode="after")
    def _known_severities(self) -> Config:
        if self.severities is None:
            return self
        allowed = ", ".join(self.severities)
        lists: list[tuple[tuple[str | int, ...], list[AlertSpec] | None]] = [(("alerts",), self.alerts)]
        lists += [(("slos", i, "alerts"), slo.alerts) for i, slo in enumerate(self.slos)]
        problems: list[Problem] = [
            ((*where, j, "severity"), f"unknown severity {spec.severity!r}; `severities` lists {allowed}")
            for where, specs in lists
            for j, spec in enumerate(specs or [])
            if spec.severity not in self.severities
        ]
        if problems:
            raise PydanticCustomError("severity", "unknown severities", {"problems": problems})
        return self

    @model_validator(mode="after")
    def _alerts_fit_their_slos(self) -> Config:
        problems: list[Problem] = []
        for i, slo in enumerate(self.slos):
            where: tuple[str | int, ...] = ("slos", i, "alerts") if slo.alerts is not None else ("alerts",)
            for j, spec in enumerate(self.alert_specs(slo)):
                misfit = KINDS[spec.kind].misfit(slo)  # e.g. a percentile alert on a ratio SLI
                if misfit is not None:
                    problems.append(((*where, j, misfit[0]), misfit[1]))
        if problems:
            raise PydanticCustomError("misfit", "alerts that do not fit their SLO", {"problems": problems})
        return self

    @model_validator(mode="after")
    def _slices_fit(self) -> Config:
        """A timeslice SLO's slices are whole store buckets, and its period and alert windows whole slices."""
        problems: list[Problem] = []
        for i, slo in enumerate(self.slos):
            slicing = slo.slicing
            if slicing is None:
                continue
            size = format_duration(slicing.seconds)
            if slicing.seconds % self.store.bucket:
                bucket = format_duration(self.store.bucket)
                problems.append(
                    (("slos", i, "slice"), f"a {size} slice is not a whole number of {bucket} buckets")
                )
            period = self.period(slo)
            if period.seconds is not None and period.seconds % slicing.seconds:
                where = ("slos", i, "period") if slo.period is not None else ("defaults", "period")
                problems.append(
                    (
                        where,
                        f"the {period.label} period of {slo.name!r} is not a whole number of {size} slices",
                    )
                )
            alerts: tuple[str | int, ...] = ("slos", i, "alerts") if slo.alerts is not None else ("alerts",)
            for j, spec in enumerate(self.alert_specs(slo)):
                for key in ("long_window", "window", "short_window"):
                    seconds = getattr(spec, key)
                    if seconds is not None and seconds % slicing.seconds:
                        message = f"{slo.name!r} counts {size} slices: expected a whole number of them"
                        problems.append(((*alerts, j, key), message))
                held = spec.lookback // slicing.seconds
                if slicing.empty_good and spec.lookback and spec.min_events > held:
                    # min_events counts the window's slices, all of which count when empty ones are good
                    message = f"the window holds {held} slices of {size}: `min_events` can never be met"
                    problems.append(((*alerts, j, "min_events"), message))
        if problems:
            raise PydanticCustomError("slices", "windows that are not whole slices", {"problems": problems})
        return self

    @model_validator(mode="after")
    def _known_slo_names(self) -> Config:
        names = {slo.name for slo in self.slos}
        problems: list[Problem] = []
        for i, spec in enumerate(self.maintenance):
            problems += [
                (("maintenance", i, "slos", j), f"no SLO is named {name!r}")
                for j, name in enumerate(spec.slos or [])
                if name not in names
            ]
        for i, rule in enumerate(self.release_policy or []):
            chosen = rule.when.slos if rule.when is not None else None
            problems += [
                (("release_policy", i, "when", "slos", j), f"no SLO is named {name!r}")
                for j, name in enumerate(chosen or [])
                if name not in names
            ]
        if self.release_policy is not None and (not self.release_policy or self.release_policy[-1].when):
            last = "expected a last rule without `when` (the default decision)"
            problems.append((("release_policy",), last))
        if problems:
            raise PydanticCustomError("names", "unknown SLO names", {"problems": problems})
        return self

    @property
    def number_paths(self) -> tuple[Path, ...]:
        """Fields declared `number`: their numeric strings are read as numbers."""
        return tuple(parse_path(p) for p, kind in self.fields.items() if kind == "number")

    def maintenance_for(self, slo: SLO) -> list[MaintenanceSpec]:
        """The maintenance windows that apply to an SLO."""
        return [m for m in self.maintenance if m.slos is None or slo.name in m.slos]

    def status_levels(self, slo: SLO) -> list[StatusLevel] | None:
        """The SLO's budget status levels (its own, else the config's; None: DESIGN.md's default)."""
        return slo.budget_policy if slo.budget_policy is not None else self.budget_policy

    def period(self, slo: SLO) -> Period:
        return slo.period if slo.period is not None else self.defaults.period

    def alert_specs(self, slo: SLO) -> list[AlertSpec]:
        if slo.alerts is not None:
            return slo.alerts
        return self.alerts if self.alerts is not None else []

    def alert_rules(self, slo: SLO) -> list[AlertRule]:
        """The SLO's alerts, resolved: burn-rate factors derived from budget spent or the SLI allowed."""
        period_s = self.period(slo).nominal_seconds
        return [_resolve(spec, slo, period_s) for spec in self.alert_specs(slo)]


def _with_error(exc: ValidationError, error: PydanticCustomError, raw: Any) -> ValidationError:
    """`exc`'s errors and one more, at the model's top."""
    details: list[Any] = [
        {"type": PydanticCustomError(e["type"], e["msg"], e.get("ctx")), "loc": e["loc"], "input": e["input"]}
        for e in exc.errors()
    ]
    details.append({"type": error, "loc": (), "input": raw})
    return ValidationError.from_exception_data(exc.title, details)


def _resolve(spec: AlertSpec, slo: SLO, period_s: int) -> AlertRule:
    kind = spec.kind
    factor, threshold, percentile = KINDS[kind].resolve(spec, slo, period_s)
    return AlertRule(
        name=spec.name,
        severity=spec.severity,
        factor=factor,
        long_s=spec.lookback,
        short_s=spec.short_window,
        for_s=spec.for_ or 0,
        min_events=spec.min_events,
        labels=tuple(sorted(spec.labels.items())),
        kind=kind,
        threshold=threshold,
        percentile=percentile,
        summary=spec.summary,
        runbook=spec.runbook,
    )
