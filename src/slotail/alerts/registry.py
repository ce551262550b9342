"""Every alert kind, found by its `AlertKind`: a new kind is a module and its entry here."""

from __future__ import annotations

import enum

from slotail.alerts.budget import BudgetBelow
from slotail.alerts.burn import BurnRate
from slotail.alerts.count import BadCount
from slotail.alerts.kind import Fields, Kind
from slotail.alerts.percentile import Percentile
from slotail.alerts.sli import SLIBelow


class AlertKind(enum.Enum):
    """What an alert's condition reads (the value names it in the JSON document)."""

    BURN = "burn"  # the burn rate over one or two windows
    SLI = "sli"  # the SLI over one or two windows (a burn rate stated as the SLI it allows)
    COUNT = "count"  # more than N bad events in a window
    PERCENTILE = "percentile"  # a latency percentile over a window above a threshold
    BUDGET = "budget"  # the error budget remaining over the period below a share


KINDS: dict[AlertKind, Kind] = {
    AlertKind.BURN: BurnRate(),
    AlertKind.SLI: SLIBelow(),
    AlertKind.COUNT: BadCount(),
    AlertKind.PERCENTILE: Percentile(),
    AlertKind.BUDGET: BudgetBelow(),
}
# The keys that name an alert's kind, in the order the config error lists them.
TRIGGERS = tuple(key for kind in KINDS.values() for key in kind.triggers)
# Every kind's keys, for config.model.AlertSpec to take.
FIELDS: tuple[type[Fields], ...] = tuple(dict.fromkeys(kind.fields for kind in KINDS.values()))
