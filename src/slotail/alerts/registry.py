"""Every alert kind, found by its `AlertKind`: a new kind is a module and its line here."""

from __future__ import annotations

import enum

from slotail.alerts.budget import BudgetBelow
from slotail.alerts.burn import BurnRate
from slotail.alerts.count import BadCount
from slotail.alerts.exhaustion import ExhaustsWithin
from slotail.alerts.kind import Fields, Kind
from slotail.alerts.percentile import Percentile
from slotail.alerts.sli import SLIBelow


class AlertKind(enum.Enum):
    """What an alert's condition reads: each member is its name (in the JSON document) and its class."""

    _value_: str
    kind: Kind

    BURN = "burn", BurnRate()  # the burn rate over one or two windows
    SLI = "sli", SLIBelow()  # the SLI over one or two windows (a burn rate stated as the SLI it allows)
    COUNT = "count", BadCount()  # more than N bad events in a window
    PERCENTILE = "percentile", Percentile()  # a latency percentile over a window above a threshold
    BUDGET = "budget", BudgetBelow()  # the error budget remaining over the period below a share
    EXHAUSTION = "exhaustion", ExhaustsWithin()  # the budget left runs out soon at a window's burn rate

    def __new__(cls, name: str, kind: Kind) -> AlertKind:
        member = object.__new__(cls)
        # The value is the name alone: an AlertRule's repr (a key of the daemon's checkpoint) stays
        # `kind=<AlertKind.BURN: 'burn'>`.
        member._value_ = name
        member.kind = kind
        return member


KINDS: dict[AlertKind, Kind] = {key: key.kind for key in AlertKind}
# The keys that name an alert's kind, in the order the config error lists them.
TRIGGERS = tuple(key for kind in KINDS.values() for key in kind.triggers)
# Every kind's keys, for config.model.AlertSpec to take.
FIELDS: tuple[type[Fields], ...] = tuple(dict.fromkeys(kind.fields for kind in KINDS.values()))
