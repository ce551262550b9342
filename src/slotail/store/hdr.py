"""HDR histogram layout (from the hdrhistogram library) with vectorised recording and percentiles."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt
from hdrh.histogram import HdrHistogram

LOWEST_US = 1
HIGHEST_US = 3600 * 1_000_000  # latencies above one hour are recorded as one hour
SIGNIFICANT_FIGURES = 3

Counts = npt.NDArray[np.int64]


class HdrLayout:
    """Maps latencies (µs) to HDR counts indexes exactly as `hdrh.HdrHistogram` does."""

    def __init__(self) -> None:
        self.reference = HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_FIGURES)
        ref = self.reference
        self.counts_len: int = ref.counts_len
        assert self.counts_len <= 1 << 16  # sparse histograms store indexes as uint16
        self._unit = ref.unit_magnitude
        self._half_mag = ref.sub_bucket_half_count_magnitude
        self._half = ref.sub_bucket_half_count
        self._mask = ref.sub_bucket_mask

    def index(self, values_us: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """Counts-array indexes of latencies, clamped to the trackable range."""
        values = np.clip(values_us, 0, HIGHEST_US).astype(np.int64)
        # bit length of (v | mask); frexp is exact for integers below 2**53.
        bit_length = np.frexp((values | self._mask).astype(np.float64))[1].astype(np.int64)
        bucket = bit_length - self._unit - (self._half_mag + 1)
        sub_bucket = values >> (bucket + self._unit)
        index: npt.NDArray[np.int64] = ((bucket + 1) << self._half_mag) + sub_bucket - self._half
        return index

    def dense(self, indexes: npt.NDArray[np.uint16], weights: npt.NDArray[np.uint32]) -> Counts:
        """A dense counts array from sparse (index, count) pairs."""
        return np.bincount(indexes, weights=weights, minlength=self.counts_len).astype(np.int64)

    def percentiles(self, counts: Counts, percentiles: Iterable[float]) -> dict[float, float | None]:
        """Values (µs) at percentiles, as `HdrHistogram.get_value_at_percentile`; None when empty."""
        total = int(counts.sum())
        wanted = list(percentiles)
        if total == 0:
            return dict.fromkeys(wanted)
        cumulative = np.cumsum(counts)
        ref, result = self.reference, dict[float, float | None]()
        for p in wanted:
            target = max(int(min(p, 100.0) * total / 100 + 0.5), 1)
            index = int(np.searchsorted(cumulative, target, side="left"))
            value = ref.get_value_from_index(index)
            result[p] = float(
                ref.get_highest_equivalent_value(value) if p else ref.get_lowest_equivalent_value(value)
            )
        return result


# Sorted unique counts indexes and their counts (a bucket's count stays under 2**32).
Sparse = tuple[npt.NDArray[np.uint16], npt.NDArray[np.uint32]]

# A sparse histogram as one bytes object: (index, count) records, then a byte giving the counts'
# width (1, 2 or 4: the narrowest that holds the largest count). Rings hold tens of thousands of
# these, so one small object each (not two arrays and a tuple) and 3 bytes a record when counts
# stay under 256, as they do in all but the busiest buckets.
Packed = bytes
RECORDS = {w: np.dtype([("index", "<u2"), ("count", f"<u{w}")]) for w in (1, 2, 4)}


def pack(sparse: Sparse) -> Packed:
    """One bytes object for a sparse histogram (it has at least one index)."""
    indexes, counts = sparse
    top = int(counts.max())
    width = 1 if top < 1 << 8 else 2 if top < 1 << 16 else 4
    records = np.empty(len(indexes), RECORDS[width])
    records["index"], records["count"] = indexes, counts
    return records.tobytes() + bytes((width,))


def unpack(packed: Packed) -> Sparse:
    """The sparse histogram a `pack` made: its indexes and counts (as uint32), read-only."""
    dtype = RECORDS[packed[-1]]
    records = np.frombuffer(packed, dtype, count=(len(packed) - 1) // dtype.itemsize)
    return records["index"], records["count"].astype(np.uint32, copy=False)  # read-only views if it can


def merge_packed(a: Packed, b: Packed) -> Packed:
    """Sum two packed histograms."""
    return pack(merge_sparse(unpack(a), unpack(b)))


def dense_packed(layout: HdrLayout, parts: Iterable[Packed]) -> Counts:
    """A dense counts array summing packed histograms (read a width at a time, in one pass each)."""
    by_width: dict[int, list[memoryview]] = {}
    for part in parts:
        by_width.setdefault(part[-1], []).append(memoryview(part)[:-1])
    counts = np.zeros(layout.counts_len, np.int64)
    for width, views in by_width.items():
        records = np.frombuffer(b"".join(views), RECORDS[width])
        counts += layout.dense(records["index"], records["count"])
    return counts


def merge_sparse(a: Sparse, b: Sparse) -> Sparse:
    """Sum two sparse histograms."""
    indexes = np.concatenate((a[0], b[0]))
    counts = np.concatenate((a[1], b[1]))
    unique, inverse = np.unique(indexes, return_inverse=True)
    return unique, np.bincount(inverse, weights=counts).astype(np.uint32)


def sparse_from(indexes: npt.NDArray[np.int64]) -> Sparse:
    """A sparse histogram of individual recordings (counts indexes fit in 16 bits)."""
    unique, counts = np.unique(indexes, return_counts=True)
    return unique.astype(np.uint16), counts.astype(np.uint32)
