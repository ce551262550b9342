"""The store: one ring per tier over every SLO series, fed observations in batches."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from slotail.classify.classifier import Observations
from slotail.classify.series import SeriesRegistry
from slotail.outcomes import EXCLUDED
from slotail.store.hdr import Counts, HdrLayout, dense_packed
from slotail.store.layout import Layout
from slotail.store.ring import Batch, Ring

Int64s = npt.NDArray[np.int64]
Verdict = Callable[[Int64s], Int64s]  # counters of buckets (n, series, 3) -> something to sum, shaped alike


class Store:
    """Time-bucketed counters and latency histograms; memory is bounded by the layout and series caps."""

    def __init__(
        self,
        layout: Layout,
        n_series: int,
        latency_series: Sequence[int] = (),
        registry: SeriesRegistry | None = None,
    ) -> None:
        self.layout = layout
        self.n_series = n_series  # series the arrays hold room for (grows with `registry`)
        self.registry = registry
        self.rings = [Ring(tier, n_series) for tier in layout.tiers]
        self.hdr = HdrLayout()
        self.has_latency = np.zeros(n_series, bool)
        self.has_latency[list(latency_series)] = True
        self._flagged = n_series  # series whose `has_latency` is known
        self.too_old = 0
        self._longest = max(range(len(self.rings)), key=lambda i: layout.tiers[i].span_s)
        if any(tier.bucket_s % layout.tiers[0].bucket_s for tier in layout.tiers):
            raise ValueError("every tier's bucket must be a whole number of base buckets")  # see Batch

    def add(self, obs: Observations) -> npt.NDArray[np.bool_]:
        """Count a batch of observations; returns which were kept (the rest are too old to hold)."""
        return self.add_counted(obs)[0]

    def add_counted(self, obs: Observations) -> tuple[npt.NDArray[np.bool_], Int64s]:
        """`add`, also returning how many were kept by series and outcome, shaped (series, 3): summed
        from the batch's counters of the buckets kept, rather than from each observation again."""
        if not len(obs):
            return np.ones(0, bool), np.zeros((self.n_series, 3), np.int64)
        self.reserve(int(obs.series.max()) + 1)
        timed = np.flatnonzero(latency_mask(obs, self.has_latency))  # indexes: faster to take than a mask
        base = self.rings[0]
        batch, where = Batch.of(
            base.tier.bucket_s,
            base.bucket_of(obs.ts_us),
            obs.series,
            obs.outcome,
            self.n_series,
            timed,
            self.hdr.index(obs.latency_us[timed]),
        )
        accepted = [ring.add(batch) for ring in self.rings]  # by base bucket
        longest = accepted[self._longest]
        kept: npt.NDArray[np.bool_] = longest[where]
        self.too_old += int(len(kept) - np.count_nonzero(kept))
        return kept, batch.counts[longest].sum(axis=0)

    def reserve(self, n_series: int) -> None:
        """Make room for series ids below `n_series` and every series the registry holds (groups it
        registered after the observations at hand), doubling up to the registry's capacity."""
        if self.registry is not None:
            n_series = max(n_series, len(self.registry))
        if n_series > self.n_series:
            self._grow(n_series)
        self._flag_latency()

    def _grow(self, n_series: int) -> None:
        if self.registry is None:
            raise ValueError(f"series {n_series - 1} is beyond this store's {self.n_series}")
        grown = min(max(n_series, 2 * self.n_series), max(self.registry.capacity, n_series))
        for ring in self.rings:
            ring.grow(grown)
        has_latency = np.zeros(grown, bool)
        has_latency[: self.n_series] = self.has_latency
        self.has_latency, self.n_series = has_latency, grown

    def _flag_latency(self) -> None:
        """Mark the registry's series registered since the last batch that keep histograms."""
        registry = self.registry
        if registry is not None and self._flagged < len(registry):
            for sid in range(self._flagged, len(registry)):
                self.has_latency[sid] = registry.latency(sid)
            self._flagged = len(registry)

    def window_counts(self, tier: int, starts_us: Int64s, ends_us: Int64s) -> Int64s:
        """Counters summed over windows (start, end], one per pair: shape (n, series, 3)."""
        return self.windows_counts([(tier, starts_us)], ends_us)[0]

    def windows_counts(self, windows: Sequence[tuple[int, Int64s]], ends_us: Int64s) -> list[Int64s]:
        """`window_counts` of several windows, given as (tier, starts), that end at the same times.

        Each ring is read once for all of them: the windows a tier reads share their last buckets
        there, and the recent end of every window of a coarse tier is the same span of base buckets.
        """
        base = self.rings[0]
        lasts = {0: base.bucket_of(ends_us)}
        firsts: dict[int, list[Int64s]] = {0: []}  # by tier: the first bucket of each span read there
        tails: dict[int, int] = {}  # a coarse tier's recent end: its span among the base tier's
        rows = []  # each window's span among its tier's
        for tier, starts_us in windows:
            ring = self.rings[tier]
            if tier not in lasts:
                lasts[tier] = ends_us // ring.tier.bucket_us  # the last whole coarse bucket
                firsts[tier] = []
                tails[tier] = len(firsts[0])
                firsts[0].append(lasts[tier] * (ring.tier.bucket_s // base.tier.bucket_s))
            rows.append(len(firsts[tier]))
            firsts[tier].append(ring.bucket_of(starts_us))
        sums = {
            tier: self._sum(self.rings[tier], np.stack(f), lasts[tier]) for tier, f in firsts.items() if f
        }
        return [
            sums[tier][row] + sums[0][tails[tier]] if tier else sums[0][row]
            for (tier, _), row in zip(windows, rows, strict=True)
        ]

    def slice_counts(self, tier: int, firsts: Int64s, lasts: Int64s, verdict: Verdict) -> Int64s:
        """What `verdict` makes of each bucket of a tier (from its counters, as (good, bad, empty)
        slices), summed over buckets (first, last]: for each row of `firsts` (shaped (k, n)) and each
        of the n pairs it makes with `lasts`, shape (k, n, series, 3)."""
        return self._sum(self.rings[tier], firsts, lasts, verdict)

    def _sum(self, ring: Ring, firsts: Int64s, last: Int64s, verdict: Verdict | None = None) -> Int64s:
        """Counters over buckets (first, last] for each row of `firsts` (shaped (k, n)) and each of
        the n pairs it makes with `last`: shape (k, n, series, 3). Read in chunks the ring can hold;
        with a `verdict`, what it makes of each bucket's counters is summed instead."""
        out = np.zeros((*firsts.shape, self.n_series, 3), np.int64)
        limit = ring.tier.slots
        i = 0
        while i < len(last):
            j = max(int(np.searchsorted(last, last[i] + limit, side="right")), i + 1)
            hi = int(last[i:j].max())
            lo = max(int(firsts[:, i:j].min()) + 1, hi - 2 * limit)  # older buckets are not held
            if hi >= lo:
                data = ring.span(lo, hi)
                if verdict is not None:
                    data = verdict(data)
                cumulative = np.zeros((len(data) + 1, *data.shape[1:]), np.int64)
                np.cumsum(data, 0, out=cumulative[1:])
                # (first, last] as cumulative indexes, clipped to the span (np.clip costs more)
                upper = np.minimum(np.maximum(last[i:j] - lo + 1, 0), len(data))
                lower = np.minimum(np.maximum(firsts[:, i:j] - lo + 1, 0), len(data))
                out[:, i:j] = cumulative[np.maximum(upper, lower)] - cumulative[lower]
            i = j
        return out

    def latency_counts(self, tier: int, sid: int, start_us: int, end_us: int) -> Counts:
        """A dense HDR counts array for one series over the window (start, end], read like counters."""
        ring, base = self.rings[tier], self.rings[0]
        if ring is base:
            parts = base.latency(sid, base.bucket(start_us) + 1, base.bucket(end_us))
        else:
            cut = end_us // ring.tier.bucket_us
            ratio = ring.tier.bucket_s // base.tier.bucket_s
            parts = ring.latency(sid, ring.bucket(start_us) + 1, cut)
            parts += base.latency(sid, cut * ratio + 1, base.bucket(end_us))
        return dense_packed(self.hdr, parts)

    def nbytes(self) -> int:
        """Bytes the store's arrays hold (counters, tags and histograms; Python object overhead aside)."""
        return sum(ring.counts.nbytes + ring.tags.nbytes + ring.hist_bytes for ring in self.rings)

    def merge(self, other: Store) -> None:
        """Fold a store of the same layout into this one; grouped series are matched by (SLO, labels),
        and a group new here is registered (or folded into overflow past the cap)."""
        if other.layout != self.layout:
            raise ValueError("cannot merge stores of different layouts")
        mapping = self._mapping(other)
        for mine, theirs in zip(self.rings, other.rings, strict=True):
            mine.merge(theirs, mapping)
        self.too_old += other.too_old

    def _mapping(self, other: Store) -> npt.NDArray[np.int64] | None:
        """Where each of `other`'s series lands here (None when the series line up one to one)."""
        mine, theirs = self.registry, other.registry
        if mine is None or theirs is None or not mine.grouped:
            if other.n_series != self.n_series:
                raise ValueError("cannot merge stores of different series")
            return None
        mapping = np.arange(other.n_series, dtype=np.int64)
        longest = other.rings[other._longest].counts
        for sid in range(len(mine.slos), len(theirs)):
            slo = theirs.slo_of[sid]
            mapping[sid] = mine.series_id(slo, theirs.labels[sid])
            if mapping[sid] == slo:  # a group of theirs past our cap: its events fold into overflow
                mine.overflow[slo] += int(longest[:, sid].sum())
        for slo in mine.grouped:
            mine.overflow[slo] += theirs.overflow[slo]
        self.reserve(len(mine))
        return mapping


def latency_mask(obs: Observations, has_latency: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """Observations that carry a latency for a latency series (excluded events carry none)."""
    # np.take: a third of the time of has_latency[obs.series] with int32 indexes
    mask: npt.NDArray[np.bool_] = (
        np.take(has_latency, obs.series) & (obs.latency_us >= 0) & (obs.outcome != EXCLUDED)
    )
    return mask
