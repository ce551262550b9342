"""Store state as rows, one per live bucket, and back into a store whose series or tiers may differ.

A checkpoint writes only the buckets that changed since the last one; a full
write replaces them all. Series are matched by key (an SLO's name and
definition), tiers by bucket size (and whether they keep histograms), and each
bucket is re-inserted by its absolute index, so rings of another length restore
correctly. State of series or tiers
that no longer exist is dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from slotail.store.hdr import Packed, pack, unpack
from slotail.store.ring import NEVER
from slotail.store.store import Store

FORMAT = 2


@dataclass(frozen=True)
class SlotRow:
    """One bucket of one tier: its counters (saved series × 3) and sparse histograms."""

    bucket_s: int  # the tier's `key`: its bucket size, negative for a counters-only tier
    slot: int
    tag: int
    counts: bytes
    hist: bytes


def encode_hist(hist: dict[int, Packed]) -> bytes:
    """[n, sids..., sizes...] as int64, then every index (uint16), then every count (int64)."""
    sids = sorted(hist)
    sparse = [unpack(hist[s]) for s in sids]
    header = np.array([len(sids), *sids, *(len(i) for i, _ in sparse)], np.int64).tobytes()
    indexes = b"".join(i.tobytes() for i, _ in sparse)
    return header + indexes + b"".join(c.astype(np.int64).tobytes() for _, c in sparse)


def decode_hist(data: bytes) -> dict[int, Packed]:
    if not data:
        return {}
    n = int(np.frombuffer(data, np.int64, count=1)[0])
    header = np.frombuffer(data, np.int64, count=1 + 2 * n)
    sids, sizes = header[1 : 1 + n].tolist(), header[1 + n :]
    start, total = 8 * (1 + 2 * n), int(sizes.sum())
    indexes = np.frombuffer(data, np.uint16, count=total, offset=start)
    counts = np.frombuffer(data, np.int64, count=total, offset=start + 2 * total).astype(np.uint32)
    ends = np.cumsum(sizes)
    starts, ends = (ends - sizes).tolist(), ends.tolist()
    spans = zip(sids, starts, ends, strict=True)
    return {sid: pack((indexes[a:b], counts[a:b])) for sid, a, b in spans if b > a}


def store_meta(store: Store, keys: list[str]) -> dict[str, Any]:
    """What rows need to be read back: the series keys, in their order, and the group registry."""
    meta: dict[str, Any] = {"format": FORMAT, "keys": keys, "too_old": store.too_old}
    if store.registry is not None and store.registry.grouped:
        meta["groups"] = store.registry.state()
    return meta


def store_rows(store: Store, full: bool = False) -> Iterator[SlotRow]:
    """Rows for the buckets changed since the last call (every live bucket when `full`), made one at a
    time as they are written, so a full checkpoint never holds every bucket's bytes at once."""
    for ring in store.rings:
        slots = np.flatnonzero(ring.tags != NEVER).tolist() if full else sorted(ring.dirty)
        ring.dirty.clear()
        for slot in slots:
            if ring.tags[slot] != NEVER:
                yield SlotRow(
                    ring.tier.key,
                    slot,
                    int(ring.tags[slot]),
                    ring.counts[slot].tobytes(),
                    encode_hist(ring.hist[slot]),
                )


def restore_rows(store: Store, keys: list[str], meta: dict[str, Any], rows: Iterable[SlotRow]) -> int:
    """Fold saved rows into `store` (series matched by key); returns how many series were restored."""
    if meta.get("format") != FORMAT:
        raise ValueError(f"unknown store format {meta.get('format')!r}")
    saved = list(meta["keys"])
    store.reserve(len(keys))
    mapping = {old: keys.index(k) for old, k in enumerate(saved) if k in keys}
    if not mapping:
        return 0
    old_ids = np.array(sorted(mapping), np.int64)
    new_ids = np.array([mapping[i] for i in old_ids.tolist()], np.int64)
    rings = {ring.tier.key: ring for ring in store.rings}
    for row in rows:
        ring = rings.get(row.bucket_s)
        if ring is not None:
            ring.absorb(
                row.tag,
                _counts(row, len(saved), store.n_series, old_ids, new_ids),
                {mapping[s]: h for s, h in decode_hist(row.hist).items() if s in mapping},
            )
    store.too_old += int(meta.get("too_old", 0))
    return len(mapping)


def _counts(
    row: SlotRow, n_saved: int, n_series: int, old_ids: npt.NDArray[np.int64], new_ids: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    # A row holds the series the store had room for when it was written: fewer than the keys
    # (written before a grouped SLO's later groups appeared), or more (room not yet used).
    saved = np.frombuffer(row.counts, np.int64).reshape(-1, 3)
    held = old_ids < min(len(saved), n_saved)
    counts = np.zeros((n_series, 3), np.int64)
    counts[new_ids[held]] = saved[old_ids[held]]
    return counts


def copy_state(source: Store, source_keys: list[str], target: Store, target_keys: list[str]) -> int:
    """Move every bucket of `source` into `target`, matching series by key (config reloads)."""
    rows = store_rows(source, full=True)
    return restore_rows(target, target_keys, store_meta(source, source_keys), rows)
