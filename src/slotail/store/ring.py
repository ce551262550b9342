"""One tier: a ring of time buckets with good/bad/excluded counters and sparse HDR histograms.

Each slot carries the absolute index of the bucket it holds (its tag). Writing a
newer bucket into a slot clears it; a write older than the slot's bucket is too
old for this tier and is refused. Reads check tags, so a stale slot reads as 0.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from slotail.store.hdr import Packed, merge_packed, merge_sparse, pack, unpack
from slotail.store.layout import Tier

NEVER = np.iinfo(np.int64).min
HDR_WIDTH = 1 << 16  # HDR counts indexes fit in 16 bits (HdrLayout asserts it)
# Timed observations of an `add`: which they are (a mask), their series and their HDR indexes.
Latencies = tuple[npt.NDArray[np.bool_], npt.NDArray[np.int32], npt.NDArray[np.int64]]


def distinct(values: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """`np.unique(values, return_inverse=True)`, without sorting when the values lie close together
    (bucket numbers of a batch do)."""
    if not len(values):
        return values, values
    low = int(values.min())
    width = int(values.max()) - low + 1
    if width > 4 * len(values) + 4096:
        return np.unique(values, return_inverse=True)
    present = np.zeros(width, np.bool_)
    present[values - low] = True
    rank = np.cumsum(present) - 1
    return np.flatnonzero(present) + low, rank[values - low]


class Ring:
    """Counters shaped (slots, series, 3) and, for latency series, one packed histogram per slot."""

    def __init__(self, tier: Tier, n_series: int) -> None:
        self.tier = tier
        self.tags = np.full(tier.slots, NEVER, np.int64)
        self.counts = np.zeros((tier.slots, n_series, 3), np.int64)
        self.hist: list[dict[int, Packed]] = [{} for _ in range(tier.slots)]
        self.hist_bytes = 0  # the histograms' bytes, kept as they change
        self.dirty: set[int] = set()  # slots changed since the last checkpoint took them

    def grow(self, n_series: int) -> None:
        """Room for more series: their counters start at 0 in every slot."""
        counts = np.zeros((self.tier.slots, n_series, 3), np.int64)
        counts[:, : self.counts.shape[1]] = self.counts
        self.counts = counts

    def bucket_of(self, ts_us: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """Bucket i holds times in ((i-1)·b, i·b]."""
        return -((-ts_us) // self.tier.bucket_us)

    def bucket(self, ts_us: int) -> int:
        """The bucket of one instant."""
        return -((-ts_us) // self.tier.bucket_us)

    def _claim(self, buckets: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Clear the slots that newer buckets take over; returns the distinct buckets (sorted) and
        where each of `buckets` is among them."""
        unique, inverse = distinct(buckets)
        slots = unique % self.tier.slots
        newer = unique > self.tags[slots]
        fresh = np.unique(slots[newer])
        self.counts[fresh] = 0
        for slot in fresh.tolist():
            self._clear_hist(slot)
        np.maximum.at(self.tags, slots[newer], unique[newer])
        return unique, inverse

    def add(
        self,
        series: npt.NDArray[np.int32],
        ts_us: npt.NDArray[np.int64],
        outcome: npt.NDArray[np.int8],
        latencies: Latencies | None = None,
    ) -> npt.NDArray[np.bool_]:
        """Count observations, and record the latencies of the timed ones into their slots'
        histograms; returns which were accepted (the rest are too old for this ring)."""
        unique, inverse = self._claim(self.bucket_of(ts_us))
        slots = unique % self.tier.slots
        live = self.tags[slots] == unique  # the buckets this ring holds (one per slot)
        accepted: npt.NDArray[np.bool_] = live[inverse]
        n_series = self.counts.shape[1]
        flat = (inverse * n_series + series) * 3 + outcome
        counted = np.bincount(flat[accepted], minlength=len(unique) * n_series * 3)
        self.counts[slots[live]] += counted.reshape(len(unique), n_series, 3)[live]
        self.dirty.update(slots[live].tolist())
        if latencies is not None:
            timed, timed_series, hdr_index = latencies
            where = inverse[timed]  # each timed observation's bucket, as found for the counters
            keep = live[where]
            self._record(slots[where][keep], timed_series[keep], hdr_index[keep])
        return accepted

    def _record(
        self, slots: npt.NDArray[np.int64], series: npt.NDArray[np.int32], hdr_index: npt.NDArray[np.int64]
    ) -> None:
        """Add latencies (as HDR indexes) to the histograms of their slots and series."""
        if not len(slots):
            return
        n_series, width = self.counts.shape[1], HDR_WIDTH
        combined = (slots.astype(np.int64) * n_series + series) * width + hdr_index
        unique, counts = np.unique(combined, return_counts=True)  # sorted by slot, series, then index
        groups, indexes, counts32 = (
            unique // width,
            (unique % width).astype(np.uint16),
            counts.astype(np.uint32),
        )
        starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
        bounds, hist = [*starts.tolist(), len(unique)], self.hist
        slot_ids, sids = (part.tolist() for part in np.divmod(groups[starts], n_series))
        for i, (slot, sid) in enumerate(zip(slot_ids, sids, strict=True)):
            fresh = (indexes[bounds[i] : bounds[i + 1]], counts32[bounds[i] : bounds[i + 1]])
            held = hist[slot].get(sid)
            self._put_hist(slot, sid, pack(fresh if held is None else merge_sparse(unpack(held), fresh)))

    def span(self, first: int, last: int) -> npt.NDArray[np.int64]:
        """Counters of buckets first..last (inclusive), shaped (n, series, 3); stale buckets read 0."""
        buckets = np.arange(first, last + 1, dtype=np.int64)
        slots = buckets % self.tier.slots
        live = self.tags[slots] == buckets
        return np.where(live[:, None, None], self.counts[slots], 0)

    def latency(self, sid: int, first: int, last: int) -> list[Packed]:
        """The packed histograms of one series over buckets first..last (inclusive)."""
        buckets = np.arange(max(first, last - self.tier.slots + 1), last + 1, dtype=np.int64)
        slots = buckets % self.tier.slots
        live = slots[self.tags[slots] == buckets].tolist()
        return [self.hist[slot][sid] for slot in live if sid in self.hist[slot]]

    def absorb(self, bucket: int, counts: npt.NDArray[np.int64], hist: dict[int, Packed]) -> bool:
        """Fold in one bucket from elsewhere; False when this ring holds newer time in its slot."""
        slot = bucket % self.tier.slots
        if self.tags[slot] > bucket:
            return False
        if self.tags[slot] < bucket:
            self.tags[slot] = bucket
            self.counts[slot] = 0
            self._clear_hist(slot)
        self.counts[slot] += counts
        for sid, packed in hist.items():
            held = self.hist[slot].get(sid)
            self._put_hist(slot, sid, packed if held is None else merge_packed(held, packed))
        self.dirty.add(slot)
        return True

    def _put_hist(self, slot: int, sid: int, packed: Packed) -> None:
        held = self.hist[slot].get(sid)
        self.hist_bytes += len(packed) - (len(held) if held is not None else 0)
        self.hist[slot][sid] = packed

    def _clear_hist(self, slot: int) -> None:
        if self.hist[slot]:
            self.hist_bytes -= sum(map(len, self.hist[slot].values()))
            self.hist[slot] = {}

    def merge(self, other: Ring, mapping: npt.NDArray[np.int64] | None = None) -> None:
        """Fold another ring into this one (newer buckets win, equal ones add); `mapping` gives where
        each of its series lands here (several may land on one), else they line up."""
        for slot in np.flatnonzero(other.tags != NEVER).tolist():
            counts, hist = other.counts[slot], other.hist[slot]
            if mapping is not None:
                counts = np.zeros(self.counts.shape[1:], np.int64)
                np.add.at(counts, mapping, other.counts[slot])
                hist = {}
                for sid, packed in other.hist[slot].items():
                    held = hist.get(int(mapping[sid]))
                    hist[int(mapping[sid])] = packed if held is None else merge_packed(held, packed)
            self.absorb(int(other.tags[slot]), counts, hist)
