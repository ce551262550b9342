"""Store persistence: rows round-trip exactly, incrementally, and into changed layouts by key."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from slotail.classify import Observations
from slotail.store import Layout, Store
from slotail.store.persist import restore_rows, store_meta, store_rows

US = 1_000_000
T0 = 1_771_459_200 * US
LAYOUT = Layout.for_windows(10, [300, 3600, 86400])

batches = st.lists(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=2 * 86400 * US),
            st.integers(min_value=0, max_value=1),
            st.integers(min_value=0, max_value=2),
            st.integers(min_value=-1, max_value=10 * US),
        ),
        max_size=60,
    ),
    max_size=5,
)


def obs(rows) -> Observations:
    if not rows:
        return Observations.empty()
    t, s, o, lat = (np.array(c) for c in zip(*rows, strict=True))
    return Observations(
        s.astype(np.int32), T0 + t.astype(np.int64), o.astype(np.int8), lat.astype(np.int64), 0
    )


def same(a: Store, b: Store) -> None:
    for ra, rb in zip(a.rings, b.rings, strict=True):
        assert (ra.tags == rb.tags).all() and (ra.counts == rb.counts).all()
        for ha, hb in zip(ra.hist, rb.hist, strict=True):
            assert ha == hb  # packed histograms are canonical: equal sums, equal bytes


@given(batches)
@settings(max_examples=80, deadline=None)
def test_incremental_rows_applied_in_order_rebuild_the_store_exactly(history):
    """Saving changed buckets after every batch and replaying the rows gives the very same store."""
    live = Store(LAYOUT, 2, latency_series=[1])
    saved: dict[tuple[int, int], object] = {}
    for batch in history:
        live.add(obs(batch))
        for row in store_rows(live):
            saved[(row.bucket_s, row.slot)] = row  # INSERT OR REPLACE by (tier, slot)
    restored = Store(LAYOUT, 2, latency_series=[1])
    restore_rows(restored, ["a", "b"], store_meta(live, ["a", "b"]), list(saved.values()))
    same(live, restored)


def test_series_are_matched_by_key_and_unknown_ones_dropped():
    """A restored store keeps series whose key it still has, wherever they now sit."""
    live = Store(LAYOUT, 2, latency_series=[1])
    live.add(obs([(60 * US, 0, 1, -1), (61 * US, 1, 0, 5000)]))
    rows, meta = store_rows(live, full=True), store_meta(live, ["gone", "kept"])
    target = Store(LAYOUT, 2, latency_series=[0])
    assert restore_rows(target, ["kept", "new"], meta, rows) == 1
    end = np.array([T0 + 120 * US])
    counts = target.window_counts(0, end - 300 * US, end)[0]
    assert counts.tolist() == [[1, 0, 0], [0, 0, 0]]
    assert target.latency_counts(0, 0, int(end[0]) - 300 * US, int(end[0])).sum() == 1
