"""The vectorised HDR layout agrees with the hdrhistogram library it is built on."""

from __future__ import annotations

import numpy as np
from hdrh.histogram import HdrHistogram
from hypothesis import given, settings
from hypothesis import strategies as st

from slotail.store.hdr import HIGHEST_US, HdrLayout, merge_sparse, sparse_from

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
