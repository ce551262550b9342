"""SLI alerts: a burn-rate alert stated as the SLI it allows over its window(s)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from pydantic import Field

from slotail.alerts.burn import BurnRate
from slotail.alerts.kind import Fields, Resolved

if TYPE_CHECKING:
    from slotail.config.model import SLO, AlertSpec


class SLIFields(Fields):
    sli_below: float | None = Field(default=None, gt=0, lt=100)


class SLIBelow(BurnRate):
    """Active while the SLI is at or below `sli_below` percent: objective 99.5 and sli_below 95 is a
    burn rate of 10, evaluated, written and worded as any burn-rate alert."""

    fields = SLIFields
    triggers = ("sli_below",)

    def resolve(self, spec: AlertSpec, slo: SLO, period_s: int) -> Resolved:
        sli_below = cast(SLIFields, spec).sli_below or 0.0
        return Resolved(
            factor=(1 - sli_below / 100) / (1 - slo.target)
        )  # the error ratio allowed, in budgets
