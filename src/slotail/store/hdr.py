"""HDR histogram layout (from the hdrhistogram library) with vectorised recording and percentiles."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

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
        # (np.minimum and np.maximum: np.clip's Python wrapper costs more than clipping a flush's latencies)
        values = np.minimum(np.maximum(values_us, 0), HIGHEST_US).astype(np.int64, copy=False)
        # bit length of (v | mask); frexp (on float64) is exact for integers below 2**53.
        bucket = np.frexp(values | self._mask)[1] - (self._unit + self._half_mag + 1)
        sub_bucket = values >> (bucket + self._unit)
        index: npt.NDArray[np.int64] = (bucket.astype(np.int64) << self._half_mag) + (
            sub_bucket + ((1 << self._half_mag) - self._half)
        )
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


def counts_width(top: Any) -> Any:
    """The bytes a count takes where the largest is `top` (an int, or an array of them): 1, 2 or 4,
    the narrowest that holds it."""
    return 1 << (top >= 1 << 8) << (top >= 1 << 16)


def pack(sparse: Sparse) -> Packed:
    """One bytes object for a sparse histogram (it has at least one index)."""
    indexes, counts = sparse
    width = counts_width(int(counts.max()))
    records = np.empty(len(indexes), RECORDS[width])
    records["index"], records["count"] = indexes, counts
    return records.tobytes() + bytes((width,))


def pack_runs(
    indexes: npt.NDArray[np.uint16], counts: npt.NDArray[np.uint32], starts: npt.NDArray[np.int64]
) -> list[Packed]:
    """`pack` of each run of a sparse histogram's arrays: run i is [starts[i], starts[i + 1]) (the last
    one reaches the end), each at least one index long. A batch packs thousands of histograms, so this
    takes one pass a counts width over all of them rather than numpy calls for each."""
    lengths = run_lengths(starts, len(indexes))
    widths = counts_width(np.maximum.reduceat(counts, starts))
    packed: list[Packed] = [b""] * len(starts)
    for width, dtype in RECORDS.items():
        runs = widths == width
        if not runs.any():
            continue
        every = bool(runs.all())  # as is most often so: no need to pick the runs out
        chosen = slice(None) if every else np.repeat(runs, lengths)
        records = np.empty(len(indexes[chosen]), dtype)
        records["index"], records["count"] = indexes[chosen], counts[chosen]
        blob, tail, sizes = records.tobytes(), bytes((width,)), lengths[runs] * dtype.itemsize
        ends = np.cumsum(sizes)
        begins = ends - sizes
        pieces = [blob[begin:end] + tail for begin, end in zip(begins.tolist(), ends.tolist(), strict=True)]
        if every:
            return pieces
        for run, piece in zip(np.flatnonzero(runs).tolist(), pieces, strict=True):
            packed[run] = piece
    return packed


def run_starts(values: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
    """Where each run of equal values begins (the first at 0; `values` is not empty)."""
    return np.flatnonzero(np.concatenate(([True], values[1:] != values[:-1])))


def run_lengths(starts: npt.NDArray[np.int64], total: int) -> npt.NDArray[np.int64]:
    """How long each run is that begins at `starts`, the last one reaching `total` (as
    `np.diff(starts, append=total)`, which costs several times more on arrays this small)."""
    lengths: npt.NDArray[np.int64] = np.concatenate((starts[1:], [total])) - starts
    return lengths


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
    return merge_sorted(*a, *b)


def merge_sorted(
    keys_a: npt.NDArray[Any], counts_a: npt.NDArray[Any], keys_b: npt.NDArray[Any], counts_b: npt.NDArray[Any]
) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    """Sum two histograms given as sorted distinct keys (counts indexes, or anything ordered like
    them) and their counts: every key of either, with its counts added up."""
    keys = np.concatenate((keys_a, keys_b))
    order = np.argsort(keys, kind="stable")  # two sorted runs: a merge
    keys, counts = keys[order], np.concatenate((counts_a, counts_b))[order]
    # A key of both: its second count goes to the first. (Index arrays rather than masks here: masks
    # as irregular as these are several times slower to apply.)
    twice = np.flatnonzero(keys[1:] == keys[:-1])
    counts[twice] += counts[twice + 1]
    once = np.ones(len(keys), np.bool_)
    once[twice + 1] = False
    kept = np.flatnonzero(once)
    return keys[kept], counts[kept]


def sparse_from(indexes: npt.NDArray[np.int64]) -> Sparse:
    """A sparse histogram of individual recordings (counts indexes fit in 16 bits)."""
    unique, counts = np.unique(indexes, return_counts=True)
    return unique.astype(np.uint16), counts.astype(np.uint32)
