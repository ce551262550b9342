"""Which bucket sizes the store keeps, and which one each window reads.

Events go to the bucket that ends at or after them: bucket i holds times in
((i-1)·b, i·b], so a window (T-W, T] with T and W on bucket edges is exact.

Every window is read at a bucket b no coarser than 1% of its length, and never
finer than the base bucket. Its start edge is rounded up to a multiple of b (it
moves by less than 1% of the window); its recent end is read from the base tier,
so a window reads exactly the events in (ceil((T-W)/b)·b, T] at base resolution.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from slotail.timeutil import US

LADDER_S = (60, 600, 3600)  # coarser bucket sizes above the base bucket
AHEAD_S = 30 * 60  # how far writes may run ahead of the newest evaluation (skew, lateness, batches)
MONTH_MAX_S = 31 * 86400
MONTH_MIN_S = 28 * 86400


class Tier(msgspec.Struct, frozen=True):
    """One ring of buckets: their size and how many there are."""

    bucket_s: int
    slots: int

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
    def for_windows(base_s: int, windows_s: Iterable[int], month: bool = False) -> Layout:
        """Tiers sized to hold the longest window each serves, plus room for writes ahead.

        The base tier always exists: it also serves the recent end of windows read
        at a coarser tier, so it spans at least the coarsest bucket.
        """
        longest: dict[int, int] = {base_s: 0}
        spans = [(w, w) for w in windows_s]
        if month:
            spans.append((MONTH_MIN_S, MONTH_MAX_S))
        for choose_by, span in spans:
            size = bucket_for(choose_by, base_s)
            longest[size] = max(longest.get(size, 0), span)
        longest[base_s] = max(longest[base_s], max(longest))
        tiers = tuple(Tier(size, -(-(span + AHEAD_S) // size) + 1) for size, span in sorted(longest.items()))
        return Layout(base_s, tiers)

    def tier_index(self, window_s: int) -> int:
        """The tier a window of this length reads."""
        size = bucket_for(window_s, self.base_s)
        for i, tier in enumerate(self.tiers):
            if tier.bucket_s == size:
                return i
        raise KeyError(f"no tier for a {window_s}s window")

    def month_tier_index(self) -> int:
        return self.tier_index(MONTH_MIN_S)
