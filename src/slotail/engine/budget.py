"""Budget status policy: a name for how much of the error budget remains."""

from __future__ import annotations

import msgspec

NO_DATA = "no_data"


class StatusPolicy(msgspec.Struct, frozen=True):
    """Levels checked in order: the first whose threshold the remaining ratio exceeds names the status."""

    levels: tuple[tuple[str, float], ...]
    otherwise: str

    def status(self, remaining_ratio: float | None) -> str:
        if remaining_ratio is None:
            return NO_DATA
        for name, above in self.levels:
            if remaining_ratio > above:
                return name
        return self.otherwise


# DESIGN.md's default: healthy above 50% remaining, warning above 25%, critical above 0.
DEFAULT_POLICY = StatusPolicy((("healthy", 0.5), ("warning", 0.25), ("critical", 0.0)), "exhausted")
