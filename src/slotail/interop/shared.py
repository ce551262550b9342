"""What import and export share: names, OpenSLO durations, objectives, slotail annotations, YAML out."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import yaml

from slotail.timeutil import format_duration

ANNOTATION = "slotail.dev/"  # annotations under this prefix carry what OpenSLO cannot say
METRIC_SOURCE = "slotail"  # the metricSource `type` whose `spec` holds slotail's matchers
NOT_NAME = re.compile(r"[^a-z0-9_-]+")


def slotail_name(raw: str) -> str:
    """A spec's name as a slotail name: lowercase, each run of other characters one `-`."""
    return NOT_NAME.sub("-", raw.lower()).strip("-_") or "slo"


def dns_label(name: str) -> str:
    """A slotail name as an OpenSLO (RFC 1123) name: `_` becomes `-`, at most 63 characters."""
    return name.replace("_", "-").strip("-")[:63].rstrip("-") or "slo"


class UniqueNames:
    """Names made unique in the order asked: a name taken again gets `-2`, `-3`, …"""

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def take(self, name: str) -> str:
        unique, n = name, 1
        while unique in self.taken:
            n += 1
            unique = f"{name}-{n}"
        self.taken.add(unique)
        return unique


# OpenSLO's duration shorthand: minutes to years; `s` is read too (Prometheus habit), never written.
SHORTHAND = re.compile(r"([1-9][0-9]*)([smhdwMQY])")
FIXED_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
NOMINAL_S = {"M": 30 * 86400, "Q": 90 * 86400, "Y": 365 * 86400}  # calendar units taken as fixed spans
CALENDAR_UNITS = {"w": "week", "M": "month", "Q": "quarter"}  # one of them, as slotail names the period


@dataclass(frozen=True)
class Shorthand:
    """An OpenSLO duration: a count of one unit."""

    count: int
    unit: str

    @property
    def exact(self) -> bool:
        """Whether the unit is a fixed number of seconds (not months, quarters or years)."""
        return self.unit in FIXED_S

    @property
    def seconds(self) -> int:
        """The span in seconds; months, quarters and years at 30, 90 and 365 days."""
        return self.count * (FIXED_S.get(self.unit) or NOMINAL_S[self.unit])

    @property
    def slotail(self) -> str:
        """As a slotail duration (months, quarters and years at their nominal length)."""
        return format_duration(self.seconds)

    def __str__(self) -> str:
        return f"{self.count}{self.unit}"


def parse_shorthand(raw: object) -> Shorthand:
    """`28d` -> Shorthand(28, 'd'); a bare number is minutes (OpenSLO's `timeSliceWindow` reads so)."""
    if isinstance(raw, int) and not isinstance(raw, bool) and raw > 0:
        return Shorthand(raw, "m")
    match = SHORTHAND.fullmatch(raw) if isinstance(raw, str) else None
    if match is None:
        raise ValueError(f"expected a duration like 5m, 1h, 28d, 1M, 1Q or 1Y; got {raw!r}")
    return Shorthand(int(match[1]), match[2])


def openslo_duration(seconds: int) -> str | None:
    """Seconds as OpenSLO shorthand in days, hours or minutes; None when not whole minutes."""
    return format_duration(seconds) if seconds % 60 == 0 else None


def percent(target: float) -> float:
    """An OpenSLO `target` ratio as slotail's percentage, as written: 0.9995 -> 99.95 (not 99.950…01)."""
    return float(Decimal(repr(target)) * 100)


def ratio(percentage: float) -> float:
    """slotail's percentage as an OpenSLO ratio, as written: 99.95 -> 0.9995 (not 0.9994999…)."""
    return float(Decimal(repr(percentage)) / 100)


def annotation(value: object) -> str:
    """A value as an annotation's text (JSON; times as RFC 3339)."""
    return json.dumps(value, default=_json_time, ensure_ascii=False)


def _json_time(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat().replace("+00:00", "Z")
    raise TypeError(f"cannot write {value!r} in an annotation")


def from_annotation(text: str) -> Any:
    """An annotation's value (ValueError when it is not JSON)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"expected JSON ({exc.msg})") from None


class Flow(dict[str, Any]):
    """A mapping written on one line: `{gte: 500}`."""


class _Dumper(yaml.SafeDumper):
    """Block style, keys in the order given; matchers and alerts in flow, multi-line text as `|`."""

    def ignore_aliases(self, data: Any) -> bool:
        return True  # a mapping used twice is written twice, never as &id001 / *id001


def compact(data: dict[str, Any], width: int = 100) -> dict[str, Any]:
    """A mapping on one line when it fits in `width`, else one key a line (its values on one line)."""
    line = yaml.dump(data, Dumper=_Dumper, default_flow_style=True, width=1 << 16, sort_keys=False)
    if len(line.strip()) <= width:
        return Flow(data)
    return {key: Flow(value) if isinstance(value, dict) else value for key, value in data.items()}


def _flow(dumper: yaml.SafeDumper, data: Flow) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True)


def _text(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|" if "\n" in data else None)


def _sequence(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    scalars = all(not isinstance(item, dict | list) for item in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=scalars)


_Dumper.add_representer(Flow, _flow)
_Dumper.add_representer(str, _text)
_Dumper.add_representer(list, _sequence)


def dump_yaml(documents: list[Any], explicit_start: bool = False) -> str:
    """YAML text of one or more documents (a stream with `---` when several, or when asked)."""
    return yaml.dump_all(
        documents,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=110,
        default_flow_style=False,
        explicit_start=explicit_start or len(documents) > 1,
    )
