"""One tier: a ring of time buckets with good/bad/excluded counters and sparse HDR histograms.

Each slot carries the absolute index of the bucket it holds (its tag). Writing a
newer bucket into a slot clears it; a write older than the slot's bucket is too
old for this tier and is refused. Reads check tags, so a stale slot reads as 0.
"""

from __future__ import annotations

from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

from slotail.store.hdr import Packed, merge_packed, merge_sorted, pack_runs, run_lengths, run_starts, unpack
from slotail.store.layout import Tier

NEVER = np.iinfo(np.int64).min
HDR_BITS = 16  # HDR counts indexes fit in 16 bits (HdrLayout asserts it)
Int64s = npt.NDArray[np.int64]
Keys = npt.NDArray[np.signedinteger[Any]]  # int32 where they fit (half the time to sort), else int64


def distinct(values: Int64s) -> tuple[Int64s, Int64s]:
    """`np.unique(values, return_inverse=True)`, without sorting when the values lie close together
    (bucket numbers of a batch do)."""
    if not len(values):
        return values, values
    low = int(values.min())
    width = int(values.max()) - low + 1
    if width > 4 * len(values) + 4096:
        return np.unique(values, return_inverse=True)
    offset = values - low
    present = np.zeros(width, np.bool_)
    present[offset] = True
    rank = np.cumsum(present) - 1
    return np.flatnonzero(present) + low, rank[offset]


class Batch(msgspec.Struct, frozen=True):
    """One `Store.add` batch, with the work for each observation done once for every ring: the
    observations counted by base-tier bucket, and the timed ones keyed and sorted for histograms.

    Each ring takes the batch in at its own buckets, refusing those too old for it. Its bucket size
    is a whole number k of base buckets, and base bucket j lies in its bucket ceil(j / k) (as
    ceil(ceil(t / b) / k) = ceil(t / (k·b))), so it needs only the batch's base buckets, not the
    observations: it sees exactly what it would have had it been given them.
    """

    bucket_s: int  # the base tier's bucket
    buckets: Int64s  # the distinct base buckets, sorted
    counts: Int64s  # shaped (buckets, series, 3): how many observations of each series and outcome
    series_bits: int  # bits that hold a series id in `timed`
    # Each timed observation as (bucket position << series_bits | series) << HDR_BITS | HDR index,
    # its bucket's position being in `buckets`; sorted, so by bucket, series and index; int32 where
    # the bits fit.
    timed: Keys

    @staticmethod
    def of(
        bucket_s: int,
        buckets: Int64s,
        series: npt.NDArray[np.int32],
        outcome: npt.NDArray[np.int8],
        n_series: int,
        timed: Int64s,
        hdr_index: Int64s,
    ) -> tuple[Batch, Int64s]:
        """The batch of observations in base `buckets` (`hdr_index` for the `timed` ones, given by
        their indexes), and where each observation's bucket is among the batch's."""
        unique, inverse = distinct(buckets)
        flat = inverse * (n_series * 3) + (series * 3 + outcome)  # the last in int32, as it fits
        counts = np.bincount(flat, minlength=len(unique) * n_series * 3).reshape(len(unique), n_series, 3)
        bits = max(n_series - 1, 1).bit_length()
        keys = (inverse[timed] << bits | series[timed]) << HDR_BITS | hdr_index
        narrow = (len(unique) - 1).bit_length() + bits + HDR_BITS <= 31  # position, series, index
        sorted_keys = np.sort(keys.astype(np.int32) if narrow else keys)
        return Batch(bucket_s, unique, counts, bits, sorted_keys), inverse

    def coarsen(self, bucket_s: int) -> tuple[Int64s, Int64s, Int64s]:
        """At buckets of `bucket_s` (a multiple of the base): the distinct buckets, sorted, where each
        base bucket is among them, and the counters summed by them."""
        if bucket_s == self.bucket_s:
            return self.buckets, np.arange(len(self.buckets)), self.counts
        coarse = -(-self.buckets // (bucket_s // self.bucket_s))
        starts = run_starts(coarse)
        position = np.repeat(np.arange(len(starts)), run_lengths(starts, len(coarse)))
        return coarse[starts], position, np.add.reduceat(self.counts, starts, axis=0)


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

    def bucket_of(self, ts_us: Int64s) -> Int64s:
        """Bucket i holds times in ((i-1)·b, i·b]."""
        return -((-ts_us) // self.tier.bucket_us)

    def bucket(self, ts_us: int) -> int:
        """The bucket of one instant."""
        return -((-ts_us) // self.tier.bucket_us)

    def _claim(self, buckets: Int64s, slots: Int64s) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
        """Clear the slots that newer buckets take over; returns which of the (distinct) buckets this
        ring now holds (one a slot: the rest are too old for it), and which of those it held already
        (the others' slots were just cleared)."""
        newer = buckets > self.tags[slots]
        fresh = slots[newer]  # a slot twice when the batch spans more than the ring: cleared twice, no harm
        self.counts[fresh] = 0
        self._clear_hists(fresh.tolist())
        np.maximum.at(self.tags, fresh, buckets[newer])
        live: npt.NDArray[np.bool_] = self.tags[slots] == buckets
        return live, live & ~newer

    def add(self, batch: Batch) -> npt.NDArray[np.bool_]:
        """Count a batch and record its latencies into the slots' histograms; returns which of the
        batch's base buckets were accepted (the rest are too old for this ring)."""
        buckets, position, counts = batch.coarsen(self.tier.bucket_s)
        slots = buckets % self.tier.slots
        live, held = self._claim(buckets, slots)
        self.counts[slots[live]] += counts[live]
        self.dirty.update(slots[live].tolist())
        accepted: npt.NDArray[np.bool_] = live[position]
        if self.tier.histograms:
            self._add_latencies(batch, buckets, position, slots, live, held)
        return accepted

    def _add_latencies(
        self,
        batch: Batch,
        buckets: Int64s,
        position: Int64s,
        slots: Int64s,
        live: npt.NDArray[np.bool_],
        held: npt.NDArray[np.bool_],
    ) -> None:
        """Record a batch's latencies into the histograms of the slots that took its buckets."""
        shift = batch.series_bits + HDR_BITS  # of the bucket position in a key
        keys = batch.timed
        if len(buckets) < len(batch.buckets):  # else each base bucket is one here, at the same position
            # how far each base position moves, in the keys' width
            moved = (position - np.arange(len(position))).astype(keys.dtype) << shift
            keys = np.sort(keys + moved[keys >> shift])  # (in sorted runs already, so a quick sort)
        if not live.all():  # leave out the latencies of refused buckets
            keys = keys[live[keys >> shift]]
        if len(keys):
            starts = run_starts(keys)
            self._record(slots, held, batch.series_bits, keys[starts], run_lengths(starts, len(keys)))

    def _record(
        self, slots: Int64s, held: npt.NDArray[np.bool_], series_bits: int, keys: Keys, hits: Int64s
    ) -> None:
        """Add latencies to the histograms of their slots and series, merging them with those held.
        `keys` are distinct and sorted, as a `Batch` has them but with the bucket's position here
        (`slots` has each position's slot, `held` whether it held the bucket before the batch: only
        those slots can hold histograms), and `hits` how many latencies each has."""
        starts = run_starts(keys >> HDR_BITS)
        groups = keys[starts] >> HDR_BITS
        positions = groups >> series_bits
        sids = (groups & ((1 << series_bits) - 1)).tolist()
        group_slots = slots[positions].tolist()
        hist = self.hist
        merging = {}
        for i in np.flatnonzero(held[positions]).tolist():
            old = hist[group_slots[i]].get(sids[i])
            if old is not None:
                merging[i] = old
        if merging:
            keys, hits, starts = self._merge_held(keys, hits, starts, groups, merging)
        packed = pack_runs(keys.astype(np.uint16), hits.astype(np.uint32), starts)  # low 16 bits: the index
        for slot, sid, new in zip(group_slots, sids, packed, strict=True):
            hist[slot][sid] = new
        self.hist_bytes += sum(map(len, packed)) - sum(len(old) for old in merging.values())

    @staticmethod
    def _merge_held(
        keys: Keys, hits: Int64s, starts: Int64s, groups: Keys, held: dict[int, Packed]
    ) -> tuple[Keys, Int64s, Int64s]:
        """`_record`'s keys, hits and group starts with the histograms held (by the group's place in
        `groups`) added in: summed in one go over just those groups, then spliced back among the rest."""
        lengths = run_lengths(starts, len(keys))
        at = list(held)  # ascending
        spans = [(int(starts[i]), int(starts[i] + lengths[i])) for i in at]
        olds = [unpack(packed) for packed in held.values()]
        old_keys = [
            int(groups[i]) << HDR_BITS | indexes.astype(keys.dtype)
            for i, (indexes, _) in zip(at, olds, strict=True)
        ]
        merged_keys, merged_hits = merge_sorted(
            np.concatenate([keys[a:b] for a, b in spans]),
            np.concatenate([hits[a:b] for a, b in spans]),
            np.concatenate(old_keys),
            np.concatenate([counts for _, counts in olds]),
        )
        cuts = [*np.searchsorted(merged_keys, groups[at] << HDR_BITS).tolist(), len(merged_keys)]
        key_parts, hit_parts, taken = [], [], 0
        for (a, b), cut, next_cut in zip(spans, cuts[:-1], cuts[1:], strict=True):
            key_parts += [keys[taken:a], merged_keys[cut:next_cut]]
            hit_parts += [hits[taken:a], merged_hits[cut:next_cut]]
            taken = b
        lengths[at] = np.diff(cuts)
        keys, hits = np.concatenate([*key_parts, keys[taken:]]), np.concatenate([*hit_parts, hits[taken:]])
        return keys, hits, np.cumsum(lengths) - lengths

    def span(self, first: int, last: int) -> npt.NDArray[np.int64]:
        """Counters of buckets first..last (inclusive), shaped (n, series, 3); stale buckets read 0."""
        buckets = np.arange(first, last + 1, dtype=np.int64)
        slots = buckets % self.tier.slots
        data = self.counts[slots]  # a copy, so stale buckets can be zeroed in it
        data[self.tags[slots] != buckets] = 0
        return data

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
            self._clear_hists([slot])
        self.counts[slot] += counts
        for sid, packed in hist.items() if self.tier.histograms else ():
            held = self.hist[slot].get(sid)
            self._put_hist(slot, sid, packed if held is None else merge_packed(held, packed))
        self.dirty.add(slot)
        return True

    def _put_hist(self, slot: int, sid: int, packed: Packed) -> None:
        held = self.hist[slot].get(sid)
        self.hist_bytes += len(packed) - (len(held) if held is not None else 0)
        self.hist[slot][sid] = packed

    def _clear_hists(self, slots: list[int]) -> None:
        """Empty the histograms of these slots."""
        hist = self.hist
        for slot in slots:
            if hist[slot]:
                self.hist_bytes -= sum(map(len, hist[slot].values()))
                hist[slot] = {}

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
