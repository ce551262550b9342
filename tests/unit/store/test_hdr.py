"""The vectorised HDR layout agrees with the hdrhistogram library it is built on."""

from __future__ import annotations

import numpy as np
from hdrh.histogram import HdrHistogram
from hypothesis import given, settings
from hypothesis import strategies as st

from slotail.store.hdr import (
    HIGHEST_US,
    HdrLayout,
    dense_packed,
    merge_packed,
    merge_sparse,
    pack,
    pack_runs,
    sparse_from,
    unpack,
)

LAYOUT = HdrLayout()
latencies = st.lists(st.integers(min_value=0, max_value=HIGHEST_US), min_size=1, max_size=300)


@given(latencies)
@settings(max_examples=200, deadline=None)
def test_index_matches_the_library_for_any_latency(values):
    """Every latency lands in the counts index hdrhistogram itself would use."""
    got = LAYOUT.index(np.array(values, np.int64))
    assert got.tolist() == [LAYOUT.reference._counts_index_for(v) for v in values]


def test_latencies_above_the_range_are_clamped_to_one_hour():
    """Values past one hour are recorded as one hour rather than lost."""
    got = LAYOUT.index(np.array([HIGHEST_US * 10], np.int64))
    assert got[0] == LAYOUT.reference._counts_index_for(HIGHEST_US)


@given(latencies, st.lists(st.floats(min_value=0.1, max_value=100.0), min_size=1, max_size=5))
@settings(max_examples=150, deadline=None)
def test_percentiles_match_the_library_histogram(values, percentiles):
    """Percentiles from merged sparse counts equal HdrHistogram.get_value_at_percentile."""
    library = HdrHistogram(1, HIGHEST_US, 3)
    for v in values:
        library.record_value(v)
    half = len(values) // 2
    merged = merge_sparse(
        sparse_from(LAYOUT.index(np.array(values[:half], np.int64))),
        sparse_from(LAYOUT.index(np.array(values[half:], np.int64))),
    )
    got = LAYOUT.percentiles(LAYOUT.dense(*merged), percentiles)
    for p in percentiles:
        assert got[p] == library.get_value_at_percentile(p)


def test_an_empty_histogram_has_no_percentiles():
    """No recorded latency means null percentiles, never 0."""
    assert LAYOUT.percentiles(np.zeros(LAYOUT.counts_len, np.int64), [50, 99]) == {50: None, 99: None}


sparse_histograms = st.dictionaries(
    st.integers(min_value=0, max_value=LAYOUT.counts_len - 1),
    st.one_of(
        st.integers(min_value=1, max_value=255),
        st.integers(min_value=1, max_value=70_000),
        st.integers(min_value=1, max_value=2**32 - 1),
    ),
    min_size=1,
    max_size=40,
).map(lambda d: (np.array(sorted(d), np.uint16), np.array([d[k] for k in sorted(d)], np.uint32)))


@given(sparse_histograms)
@settings(max_examples=200, deadline=None)
def test_a_packed_histogram_unpacks_to_the_same_indexes_and_counts(sparse):
    """pack then unpack gives back the very indexes and counts, whatever width the counts need."""
    indexes, counts = unpack(pack(sparse))
    assert indexes.dtype == np.uint16 and counts.dtype == np.uint32
    assert indexes.tolist() == sparse[0].tolist() and counts.tolist() == sparse[1].tolist()


@given(sparse_histograms, sparse_histograms)
@settings(max_examples=200, deadline=None)
def test_merging_packed_histograms_equals_merging_their_arrays(a, b):
    """merge_packed is merge_sparse on the unpacked arrays (counts summing past 255 or 65535 widen)."""
    if int(a[1].astype(np.int64).max()) + int(b[1].astype(np.int64).max()) >= 2**32:
        return  # a bucket's count stays under 2**32
    assert unpack(merge_packed(pack(a), pack(b)))[1].tolist() == merge_sparse(a, b)[1].tolist()
    assert merge_packed(pack(a), pack(b)) == pack(merge_sparse(a, b))


@given(st.lists(sparse_histograms, max_size=6))
@settings(max_examples=150, deadline=None)
def test_dense_counts_of_packed_parts_equal_numpy_over_their_arrays(parts):
    """Summing packed parts of mixed widths into a dense array equals np.add.at over their arrays."""
    expected = np.zeros(LAYOUT.counts_len, np.int64)
    for indexes, counts in parts:
        np.add.at(expected, indexes.astype(np.int64), counts.astype(np.int64))
    got = dense_packed(LAYOUT, [pack(p) for p in parts])
    assert got.dtype == np.int64 and (got == expected).all()


def test_counts_under_256_take_three_bytes_a_record():
    """The common case (a bucket's latencies mostly distinct) costs 3 bytes an index plus one."""
    sparse = (np.arange(100, dtype=np.uint16), np.ones(100, np.uint32))
    assert len(pack(sparse)) == 3 * 100 + 1


@given(st.lists(sparse_histograms, min_size=1, max_size=8))
@settings(max_examples=150, deadline=None)
def test_packing_runs_at_once_equals_packing_each(parts):
    """pack_runs over histograms laid end to end gives each one's own `pack`, whatever their widths."""
    indexes = np.concatenate([i for i, _ in parts])
    counts = np.concatenate([c for _, c in parts])
    starts = np.cumsum([0] + [len(i) for i, _ in parts[:-1]])
    assert pack_runs(indexes, counts, starts) == [pack(p) for p in parts]
