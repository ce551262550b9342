"""Which bucket sizes the store keeps, and which one each window reads.

Events go to the bucket that ends at or after them: bucket i holds times in
((i-1)·b, i·b], so a window (T-W, T] with T and W on bucket edges is exact.

Every window is read at a bucket b no coarser than 1% of its length, and never
finer than the base bucket. Its start edge is rounded up to a multiple of b (it
moves by less than 1% of the window); its recent end is read from the base tier,
so a window reads exactly the events in (ceil((T-W)/b)·b, T] at base resolution.

A calendar period (week, month, quarter) reads the bucket its shortest length
would, from a tier that holds its longest. A timeslice SLO's slices are the
buckets of a tier of their own size, without histograms, that holds its longest
window.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import msgspec

from slotail.timeutil import CALENDAR_SPAN_S, US

LADDER_S = (60, 600, 3600)  # coarser bucket sizes above the base bucket
AHEAD_S = 30 * 60  # how far writes may run ahead of the newest evaluation (skew, lateness, batches)


class Tier(msgspec.Struct, frozen=True):
    """One ring of buckets: their size, how many there are, and whether they keep latency histograms
    (a tier of timeslices keeps counters only)."""

    bucket_s: int
    slots: int
    histograms: bool = True

    @property
    def key(self) -> int:
        """What names the tier in a checkpoint: its bucket size, negative for a counters-only tier."""
        return self.bucket_s if self.histograms else -self.bucket_s

    @property
    def bucket_us(self) -> int:
        return self.bucket_s * US

    @property
    def span_s(self) -> int:
        return self.bucket_s * self.slots


def bucket_for(window_s: int, base_s: int) -> int:
    """The coarsest bucket size allowed for a window: at most 1% of it, at least the base."""
    best = base_s
    for size in LADDER_S:
        if size > base_s and size * 100 <= window_s:
            best = size
    return best


class Layout(msgspec.Struct, frozen=True):
    """The tiers of a store, derived from every window the config reads."""

    base_s: int
    tiers: tuple[Tier, ...]

    @staticmethod
    def for_windows(
        base_s: int,
        windows_s: Iterable[int],
        calendars: Iterable[str] = (),
        slices: Mapping[int, int] | None = None,
    ) -> Layout:
        """Tiers sized to hold the longest window each serves, plus room for writes ahead; calendar
        periods by their unit, and a counters-only tier per slice size (`slices`: its longest window).

        The base tier always exists: it also serves the recent end of windows read
        at a coarser tier, so it spans at least the coarsest bucket.
        """
        longest: dict[int, int] = {base_s: 0}
        spans = [(w, w) for w in windows_s] + [CALENDAR_SPAN_S[unit] for unit in calendars]
        for choose_by, span in spans:
            size = bucket_for(choose_by, base_s)
            longest[size] = max(longest.get(size, 0), span)
        longest[base_s] = max(longest[base_s], max(longest))
        tiers = [_tier(size, span) for size, span in longest.items()]
        tiers += [_tier(size, span, histograms=False) for size, span in (slices or {}).items()]
        return Layout(base_s, tuple(sorted(tiers, key=lambda t: (t.bucket_s, not t.histograms))))

    def tier_index(self, window_s: int) -> int:
        """The tier a window of this length reads."""
        size = bucket_for(window_s, self.base_s)
        for i, tier in enumerate(self.tiers):
            if tier.bucket_s == size and tier.histograms:
                return i
        raise KeyError(f"no tier for a {window_s}s window")

    def calendar_tier_index(self, unit: str) -> int:
        """The tier a calendar period reads: the one its shortest length would."""
        return self.tier_index(CALENDAR_SPAN_S[unit][0])

    def slice_tier_index(self, slice_s: int) -> int:
        """The counters-only tier of slices of this length."""
        for i, tier in enumerate(self.tiers):
            if tier.bucket_s == slice_s and not tier.histograms:
                return i
        raise KeyError(f"no tier for {slice_s}s slices")


def _tier(size: int, span: int, histograms: bool = True) -> Tier:
    return Tier(size, -(-(span + AHEAD_S) // size) + 1, histograms)
