"""`Duration`: a config value written as a Prometheus-style duration (`5m`, `1h`), held in seconds.

A module of its own so that alert kinds (imported while the config's models are built) can take
durations too.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator

from slotail.timeutil import parse_duration


def duration_s(raw: object) -> int:
    if isinstance(raw, int) and not isinstance(raw, bool):
        raise ValueError(f"expected a duration with a unit like 5m or 1h; got the number {raw}")
    return parse_duration(raw)  # type: ignore[arg-type]


Duration = Annotated[int, BeforeValidator(duration_s)]
