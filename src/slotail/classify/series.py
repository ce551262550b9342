"""Which series is which: an SLO's one series, or one per distinct tuple of its `group_by` values.

Series i < number of SLOs is SLO i's own series: the only one of an SLO without
`group_by`, the overflow series (every label `__overflow__`) of a grouped one.
A grouped SLO's first `max_series` distinct tuples get series of their own,
numbered in the order they are first seen; later tuples fold into its overflow.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from slotail.config.model import SLO, SLIKind
from slotail.parse.lines import field_getter
from slotail.parse.record import MISSING

OVERFLOW = "__overflow__"
Labels = tuple[str, ...]
Int64s = npt.NDArray[np.int64]


def render(value: Any) -> str:
    """A group field's value as a label: strings as they are, missing as "", the rest as JSON text."""
    if type(value) is str:
        return value
    if value is MISSING:
        return ""
    return orjson.dumps(value).decode()


class SeriesRegistry:
    """The series of every SLO: (SLO index, label values) by series id, and back."""

    def __init__(self, slos: Sequence[SLO]) -> None:
        self.slos = list(slos)
        self.slo_of: list[int] = list(range(len(self.slos)))
        self.labels: list[Labels] = [(OVERFLOW,) * len(s.group_by) for s in self.slos]
        self.ids: list[dict[Labels, int]] = [{} for _ in self.slos]
        self.overflow = [0] * len(self.slos)  # observations folded into each SLO's overflow series
        self.grouped = [i for i, s in enumerate(self.slos) if s.group_by]
        self._getters = [[field_getter(p) for p in s.group_paths] for s in self.slos]

    def __len__(self) -> int:
        return len(self.slo_of)

    @property
    def capacity(self) -> int:
        """The most series there can ever be: one per SLO, plus each grouped SLO's cap."""
        return len(self.slos) + sum(self.slos[i].max_series for i in self.grouped)

    def latency(self, sid: int) -> bool:
        """Whether a series keeps latency histograms."""
        return self.slos[self.slo_of[sid]].sli.kind is SLIKind.LATENCY

    def series_id(self, slo: int, labels: Labels) -> int:
        """The series of a tuple of group values: registered when new and under the cap, else overflow."""
        ids = self.ids[slo]
        sid = ids.get(labels)
        if sid is None:
            if len(ids) >= self.slos[slo].max_series:
                return slo
            sid = ids[labels] = len(self.slo_of)
            self.slo_of.append(slo)
            self.labels.append(labels)
        return sid

    def tuples(self, slo: int, events: list[dict[str, Any]], lines: Int64s) -> list[Labels]:
        """The group values of a grouped SLO's observations, from the lines they came from."""
        getters = self._getters[slo]
        return [tuple(render(get(events[i])) for get in getters) for i in lines.tolist()]

    def place(self, slo: int, tuples: list[Labels]) -> Int64s:
        """The series of each tuple, in order (registering new ones); counts those folded into overflow."""
        series_id = self.series_id
        out = np.array([series_id(slo, labels) for labels in tuples], np.int64)
        self.overflow[slo] += int(np.count_nonzero(out == slo))
        return out

    def visible(self, slo: int) -> list[int]:
        """The series an output shows for an SLO: groups by their labels, then overflow once used."""
        if not self.slos[slo].group_by:
            return [slo]
        groups = sorted(self.ids[slo].items())
        return [sid for _, sid in groups] + ([slo] if self.overflow[slo] else [])

    def label_pairs(self, sid: int) -> tuple[tuple[str, str], ...]:
        """(field path, value) of a series' group labels; () for an SLO without `group_by`."""
        return tuple(zip(self.slos[self.slo_of[sid]].group_by, self.labels[sid], strict=True))

    def slo_index(self) -> npt.NDArray[np.int64]:
        """The SLO of every series, as an array indexed by series id."""
        return np.array(self.slo_of, np.int64)

    def overflow_by_slo(self) -> dict[str, int]:
        """Observations folded into overflow, by grouped SLO's name."""
        return {self.slos[i].name: self.overflow[i] for i in self.grouped}

    def state(self) -> list[dict[str, Any]]:
        """Every grouped SLO's registered tuples (in series order) and overflow count, by SLO name."""
        return [
            {
                "slo": self.slos[i].name,
                "groups": [list(labels) for labels in self.ids[i]],
                "overflow": self.overflow[i],
            }
            for i in self.grouped
        ]

    def restore(self, state: list[dict[str, Any]], same: Sequence[str]) -> None:
        """Register saved tuples again (up to the caps) for the SLOs named in `same`, in their old order."""
        index = {self.slos[i].name: i for i in self.grouped}
        for entry in state:
            slo = index.get(entry["slo"])
            if slo is None or entry["slo"] not in same:
                continue
            for labels in entry["groups"]:
                if len(labels) == len(self.slos[slo].group_by):
                    self.series_id(slo, tuple(labels))
            self.overflow[slo] += int(entry.get("overflow", 0))
