"""Tiers follow DESIGN.md's 1% edge rule and keep a 30-day series in fixed, small memory."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from slotail.store import Layout, Store
from slotail.store.layout import AHEAD_S, bucket_for

GOOGLE_WINDOWS = [300, 1800, 3600, 7200, 21600, 86400, 259200, 2592000]


@given(st.integers(min_value=1, max_value=400 * 86400))
def test_a_window_reads_buckets_of_at_most_one_percent_of_it_or_the_base(window_s):
    """The bucket for a window is the base bucket, or no more than 1% of the window."""
    size = bucket_for(window_s, 10)
    assert size == 10 or size * 100 <= window_s
    assert window_s < 6000 or size >= 60  # and it does get coarser when it may


def test_every_tier_spans_its_longest_window_plus_the_write_ahead():
    """Each window can be read whole from its tier, even with writes up to AHEAD_S in the future."""
    layout = Layout.for_windows(10, GOOGLE_WINDOWS)
    for window in GOOGLE_WINDOWS:
        tier = layout.tiers[layout.tier_index(window)]
        assert tier.span_s >= window + AHEAD_S
    coarsest = max(t.bucket_s for t in layout.tiers)
    assert layout.tiers[0].bucket_s == 10 and layout.tiers[0].span_s >= coarsest + AHEAD_S


def test_a_thirty_day_counter_series_costs_well_under_one_mebibyte():
    """README's figure: counters of one series over a 30-day period with Google's windows."""
    store = Store(Layout.for_windows(10, GOOGLE_WINDOWS), n_series=1)
    size = sum(r.counts.nbytes + r.tags.nbytes for r in store.rings)
    assert size <= 1 << 20
    assert size == sum(t.slots * (3 * 8 + 8) for t in store.layout.tiers)


def test_a_calendar_period_reads_the_bucket_of_its_shortest_length_from_a_tier_holding_its_longest():
    """A quarter (90 to 92 days), a month (28 to 31) and a week read 1 h buckets, held for their longest."""
    layout = Layout.for_windows(10, [300], calendars=["week", "month", "quarter"])
    for unit, longest_days in (("week", 7), ("month", 31), ("quarter", 92)):
        tier = layout.tiers[layout.calendar_tier_index(unit)]
        assert tier.bucket_s == 3600 and tier.histograms
        assert tier.span_s >= longest_days * 86400 + AHEAD_S


def test_slices_get_a_counters_only_tier_of_their_own_even_beside_a_window_tier_of_that_size():
    """1 m slices over 30 days: a tier of 1 m buckets without histograms, apart from the 1 m tier a
    6 h window reads (which keeps its histograms and its short span); checkpoints tell them apart."""
    layout = Layout.for_windows(10, [21600, 2592000], slices={60: 2592000})
    window = layout.tiers[layout.tier_index(21600)]
    sliced = layout.tiers[layout.slice_tier_index(60)]
    assert window.bucket_s == sliced.bucket_s == 60
    assert window.histograms and not sliced.histograms
    assert sliced.span_s >= 2592000 + AHEAD_S > window.span_s
    assert len({t.key for t in layout.tiers}) == len(layout.tiers)
    assert layout.tiers[0].bucket_s == 10 and layout.tiers[0].histograms
