"""Store laws: window counts equal a brute-force count; merging equals feeding one store both inputs."""

from __future__ import annotations

import struct

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from slotail.classify import Observations
from slotail.store import Layout, Store
from slotail.store.hdr import HdrLayout
from slotail.store.layout import Tier, bucket_for

US = 1_000_000
T0 = 1_771_459_200 * US
WINDOWS = [300, 3600, 7200, 86400, 3 * 86400]
LAYOUT = Layout.for_windows(10, WINDOWS)


def observations(draw_ts, series, outcome, latency):
    return Observations(
        np.array(series, np.int32),
        np.array(draw_ts, np.int64),
        np.array(outcome, np.int8),
        np.array(latency, np.int64),
        0,
    )


events = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=2 * 86400 * US),  # offset from T0
        st.integers(min_value=0, max_value=2),  # series
        st.integers(min_value=0, max_value=2),  # outcome
        st.integers(min_value=-1, max_value=5 * US),  # latency µs (-1: none)
    ),
    max_size=200,
)


def build(rows) -> Observations:
    ts, series, outcome, latency = zip(*rows, strict=True) if rows else ((), (), (), ())
    return observations([T0 + t for t in ts], series, outcome, latency)


def fed(*batches: Observations) -> Store:
    store = Store(LAYOUT, 3, latency_series=[1])
    for batch in batches:
        store.add(batch)
    return store


def brute(obs: Observations, start: int, end: int) -> np.ndarray:
    out = np.zeros((3, 3), np.int64)
    for s, t, o in zip(obs.series, obs.ts_us, obs.outcome, strict=True):
        if start < t <= end:
            out[s, o] += 1
    return out


@given(events, st.sampled_from(WINDOWS), st.integers(min_value=0, max_value=2 * 86400))
@settings(max_examples=150, deadline=None)
def test_window_counts_equal_a_brute_force_count_at_bucket_resolution(rows, window, end_offset_s):
    """A window (T-W, T] counts exactly the events after ceil((T-W)/b)·b and at or before T."""
    obs = build(rows)
    end = T0 + end_offset_s * US
    latest = int(obs.ts_us.max()) if len(obs) else end
    end = max(end, latest)  # evaluated at or after the newest write, as the engine does
    b = bucket_for(window, 10) * US
    start = -(-(end - window * US) // b) * b
    store = fed(obs)
    got = store.window_counts(LAYOUT.tier_index(window), np.array([end - window * US]), np.array([end]))[0]
    expected = brute(obs, start, end)
    assert (got == expected).all()


@given(
    events,
    st.lists(st.sampled_from(WINDOWS), min_size=1, max_size=6),
    st.lists(st.integers(min_value=0, max_value=3 * 86400), min_size=1, max_size=12),
)
@settings(max_examples=100, deadline=None)
def test_windows_read_together_equal_each_read_alone(rows, windows, end_offsets_s):
    """Several windows ending at the same times, read at once (each ring once), count exactly what
    each window reads alone, at any times, in every tier."""
    store = fed(build(rows))
    ends = T0 + np.array(sorted(end_offsets_s), np.int64) * US
    reads = [(LAYOUT.tier_index(w), ends - w * US) for w in windows]
    together = store.windows_counts(reads, ends)
    for (tier, starts), got in zip(reads, together, strict=True):
        alone = np.stack(
            [store.window_counts(tier, starts[i : i + 1], ends[i : i + 1])[0] for i in range(len(ends))]
        )
        assert (got == alone).all()


@given(events, events)
@settings(max_examples=100, deadline=None)
def test_merging_two_stores_equals_one_store_fed_both(rows_a, rows_b):
    """Store(A) merged with Store(B) reads exactly like Store(A then B) in every tier and histogram."""
    a, b = build(rows_a), build(rows_b)
    merged = fed(a)
    merged.merge(fed(b))
    both = fed(a, b)
    for mine, theirs in zip(merged.rings, both.rings, strict=True):
        assert (mine.tags == theirs.tags).all()
        assert (mine.counts == theirs.counts).all()
    end = T0 + 2 * 86400 * US
    for window in WINDOWS:
        tier = LAYOUT.tier_index(window)
        got = merged.latency_counts(tier, 1, end - window * US, end)
        assert (got == both.latency_counts(tier, 1, end - window * US, end)).all()


@given(st.lists(events, max_size=4), events)
@settings(max_examples=60, deadline=None)
def test_store_bytes_kept_as_histograms_change_equal_a_recount(batches, other):
    """nbytes (kept up to date on every write, clear and merge) equals the histograms' bytes counted anew."""
    store = fed(*(build(rows) for rows in batches))
    store.merge(fed(build(other)))
    for ring in store.rings:
        assert ring.hist_bytes == sum(len(h) for slot in ring.hist for h in slot.values())


def test_writes_older_than_the_longest_tier_are_counted_as_too_old():
    """An event whose bucket the longest tier has reused for newer time is dropped and counted."""
    longest = max(LAYOUT.tiers, key=lambda t: t.span_s)
    store = fed(build([(longest.span_s * US, 0, 0, -1)]))
    assert store.add(observations([T0], [0], [1], [-1])).tolist() == [False]
    assert store.too_old == 1
    end = T0 + longest.span_s * US
    counts = store.window_counts(LAYOUT.tier_index(3 * 86400), np.array([T0 - US]), np.array([end]))[0]
    assert counts[0].tolist() == [1, 0, 0]  # the newer event only; nothing wrapped around


GROUPED = """
slos:
  - name: by-region
    objective: 99
    group_by: [region]
    max_series: 2
    sli: {events: {event: req}, bad: {status: {gte: 500}}}
"""


def _grouped_store(regions: list[str], outcomes: list[int]):
    from slotail.config import load_config_text
    from slotail.engine.engine import build_store

    store = build_store(load_config_text(GROUPED))
    assert store.registry is not None
    sids = store.registry.place(0, [(r,) for r in regions])
    ts = T0 + np.arange(len(regions), dtype=np.int64) * 15 * US
    store.add(observations(ts.tolist(), sids.tolist(), outcomes, [-1] * len(regions)))
    return store


def test_merging_grouped_stores_matches_series_by_labels_and_folds_past_the_cap():
    """B's `us` lands on A's `us` series, B's new `ap` is past the cap (overflow, counted): as one store.

    (Exact while B folded nothing into its own overflow that A keeps a series for: a store cannot
    tell which group its overflow counts came from. Parallel backfill never merges stores.)"""
    merged = _grouped_store(["eu", "us"], [0, 1])
    other = _grouped_store(["us", "ap", "us"], [0, 0, 1])
    assert other.registry is not None and merged.registry is not None
    single = _grouped_store(["eu", "us"], [0, 1])
    assert single.registry is not None
    sids = single.registry.place(0, [("us",), ("ap",), ("us",)])
    ts = T0 + np.arange(3, dtype=np.int64) * 15 * US
    single.add(observations(ts.tolist(), sids.tolist(), [0, 0, 1], [-1] * 3))
    merged.merge(other)
    assert merged.registry.labels == single.registry.labels == [("__overflow__",), ("eu",), ("us",)]
    assert merged.registry.overflow == single.registry.overflow == [1]
    end = np.array([T0 + 60 * US])
    n = len(single.registry)
    got = merged.window_counts(0, end - 3600 * US, end)[0][:n]
    assert (got == single.window_counts(0, end - 3600 * US, end)[0][:n]).all()


# Rings short enough that batches run past them: buckets are taken over, and writes refused by one
# ring are still accepted by a longer one.
SMALL = Layout(10, (Tier(10, 7), Tier(60, 5), Tier(600, 4)))
TIMED = [0, 2]  # the latency series
repeated_events = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=5000 * US),  # offset from T0
        st.integers(min_value=0, max_value=2),  # series
        st.integers(min_value=0, max_value=2),  # outcome (2: excluded, so untimed)
        st.sampled_from([-1, 0, 1, 999, 1000, 250_000, 4 * US]),  # latency µs (-1: none)
        st.sampled_from([1, 1, 1, 2, 300]),  # how many times (past 255 a bucket's counts are 2 bytes)
    ),
    max_size=25,
)


def packed_by_hand(indexes: np.ndarray) -> bytes:
    """The Packed bytes of these recordings, built record by record with struct."""
    unique, counts = np.unique(indexes, return_counts=True)
    width = 1 if counts.max() < 256 else 2 if counts.max() < 65536 else 4
    code = {1: "B", 2: "H", 4: "I"}[width]
    records = zip(unique.tolist(), counts.tolist(), strict=True)
    return b"".join(struct.pack(f"<H{code}", i, c) for i, c in records) + bytes((width,))


@given(st.lists(repeated_events, min_size=1, max_size=5))
@settings(max_examples=150, deadline=None)
def test_rings_hold_every_write_of_their_newest_buckets_however_batched(batches):
    """Every ring, fed batch after batch, holds in each slot the newest bucket written to it and in
    it the counters and histograms of all of that bucket's observations, across batches (so merged
    with those held), as a count over the raw observations finds; `add` keeps what the longest ring
    took (its newest bucket in the slot as of that batch), counting the rest as too old, and
    `add_counted` counts the kept ones by series and outcome."""
    obs = [build([(t, s, o, lat) for t, s, o, lat, n in rows for _ in range(n)]) for rows in batches]
    store = Store(SMALL, 3, latency_series=TIMED)
    longest = max(range(len(SMALL.tiers)), key=lambda i: SMALL.tiers[i].span_s)
    tags = np.full(SMALL.tiers[longest].slots, np.iinfo(np.int64).min)
    too_old = 0
    for batch in obs:
        bucket = -(-batch.ts_us // SMALL.tiers[longest].bucket_us)
        slot = bucket % len(tags)
        np.maximum.at(tags, slot, bucket)
        kept, counts = store.add_counted(batch)
        assert kept.tolist() == (bucket == tags[slot]).tolist()
        by_series = np.zeros((3, 3), np.int64)
        np.add.at(by_series, (batch.series[kept], batch.outcome[kept]), 1)
        assert (counts == by_series).all()
        too_old += int(np.count_nonzero(bucket != tags[slot]))
    assert store.too_old == too_old

    every = Observations.concat(obs)
    hdr = HdrLayout()
    for ring in store.rings:
        bucket = -(-every.ts_us // ring.tier.bucket_us)
        slot = bucket % ring.tier.slots
        newest = np.full(ring.tier.slots, np.iinfo(np.int64).min)
        np.maximum.at(newest, slot, bucket)
        assert ring.tags.tolist() == newest.tolist()
        held = bucket == newest[slot]  # the observations of the buckets the ring holds
        counts = np.zeros_like(ring.counts)
        np.add.at(counts, (slot[held], every.series[held], every.outcome[held]), 1)
        assert (ring.counts == counts).all()
        timed = held & np.isin(every.series, TIMED) & (every.latency_us >= 0) & (every.outcome != 2)
        for s in range(ring.tier.slots):
            expected = {}
            for sid in TIMED:
                mine = timed & (slot == s) & (every.series == sid)
                if mine.any():
                    expected[sid] = packed_by_hand(hdr.index(every.latency_us[mine]))
            assert ring.hist[s] == expected
        assert ring.hist_bytes == sum(len(h) for hist in ring.hist for h in hist.values())


def test_a_batch_too_wide_for_int32_keys_lands_as_in_narrow_batches():
    """A batch over more base buckets than int32 histogram keys can number (16,384 here, past 2**13)
    leaves every ring as the same observations fed in time order in small batches do."""
    rng = np.random.default_rng(5)
    n = 30_000
    ts = np.sort(T0 + rng.integers(0, 16_384 * 10 * US, n))
    obs = Observations(
        rng.integers(0, 3, n).astype(np.int32),
        ts,
        rng.integers(0, 3, n).astype(np.int8),
        rng.integers(-1, 5 * US, n),
        0,
    )
    wide = Store(LAYOUT, 3, latency_series=[1, 2])
    wide.add(obs)
    narrow = Store(LAYOUT, 3, latency_series=[1, 2])
    for start in range(0, n, 500):  # 500 observations span far fewer than 2**13 buckets
        narrow.add(obs.select(slice(start, start + 500)))
    for mine, theirs in zip(wide.rings, narrow.rings, strict=True):
        assert (mine.tags == theirs.tags).all()
        assert (mine.counts == theirs.counts).all()
        assert mine.hist == theirs.hist
