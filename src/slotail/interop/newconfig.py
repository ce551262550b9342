"""The slotail config an import writes: its SLOs, in the keys and order slotail's README documents."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from pydantic import ValidationError

from slotail.config.model import Defaults
from slotail.interop.documents import Where
from slotail.interop.shared import Flow, compact

Keys = tuple[str, ...]
TOP_KEYS: Keys = ("sources", "envelope", "timestamp", "fields", "defaults", "store", "slos", "alerts")
TOP_KEYS += ("alertmanager",)
TOP_KEYS += ("maintenance", "budget_policy", "release_policy")
SLO_KEYS: Keys = ("name", "objective", "period", "description", "sli", "alerts", "budget_policy")
SLO_KEYS += ("group_by", "max_series", "budgeting", "slice", "slice_target", "empty_slices")
SLI_KEYS: Keys = ("placeholder", "events", "good", "bad", "exclude", "latency")
ALERT_KEYS: Keys = ("name", "severity", "burn_rate", "budget_percent", "sli_below", "bad_count")
ALERT_KEYS += ("percentile", "above", "budget_below", "long_window", "window", "short_window", "for")
ALERT_KEYS += ("min_events", "labels", "summary", "runbook")
THRESHOLD_KEYS = ("budget_percent", "sli_below")  # burn rates stated another way, kept as written


@dataclass
class NewSLO:
    """One SLO of the config being imported, and the spec object it comes from."""

    name: str
    objective: float
    where: Where
    period: str | None = None
    description: str = ""
    sli: dict[str, Any] = field(default_factory=dict)
    alerts: list[dict[str, Any]] | None = None
    extra: dict[str, Any] = field(
        default_factory=dict
    )  # its budgeting, and keys from slotail.dev/ annotations

    @property
    def placeholder(self) -> bool:
        return "placeholder" in self.sli

    def data(self) -> dict[str, Any]:
        """The SLO as config YAML data: matchers and alerts in flow style, the rest in block style."""
        slo: dict[str, Any] = {"name": self.name, "objective": number(self.objective)}
        if self.period is not None:
            slo["period"] = self.period
        if self.description:
            slo["description"] = self.description
        slo["sli"] = ordered(
            {k: v if k == "placeholder" else styled(v) for k, v in self.sli.items()}, SLI_KEYS
        )
        if self.alerts is not None:
            slo["alerts"] = [compact(ordered(alert, ALERT_KEYS)) for alert in self.alerts]
        slo |= {key: styled(value) for key, value in self.extra.items()}
        return ordered(slo, SLO_KEYS)


def number(value: float) -> float | int:
    """300.0 as 300: a YAML number as people write it."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def ordered(data: dict[str, Any], keys: Keys) -> dict[str, Any]:
    """`data` with `keys` first, in that order, then any other key as it came."""
    return {k: data[k] for k in keys if k in data} | {k: v for k, v in data.items() if k not in keys}


def styled(value: Any) -> Any:
    """A mapping on one line, a list of mappings one per line."""
    if isinstance(value, dict):
        return Flow(value)
    if isinstance(value, list):
        return [Flow(item) if isinstance(item, dict) else item for item in value]
    return value


def config_data(top: dict[str, Any], slos: list[NewSLO]) -> dict[str, Any]:
    """The whole config: the top-level keys carried over, and the SLOs."""
    data = {key: styled(value) for key, value in top.items()} | {"slos": [slo.data() for slo in slos]}
    return ordered(data, TOP_KEYS)


@cache
def period_supported(label: str) -> bool:
    """Whether slotail's config takes this calendar period (`month`; `week`, `quarter` where they exist)."""
    try:
        Defaults.model_validate({"period": label})
    except ValidationError:
        return False
    return True
