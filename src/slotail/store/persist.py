"""Store state as bytes, and back into a store whose series or tiers may have changed.

Series are matched by key (an SLO's name and definition), tiers by bucket size;
every live bucket is re-inserted by its absolute index, so rings of another
length restore correctly. State of series or tiers that no longer exist is dropped.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from slotail.store.hdr import merge_sparse
from slotail.store.ring import NEVER, Ring
from slotail.store.store import Store

FORMAT = 1


def _hist_arrays(ring: Ring) -> dict[str, npt.NDArray[Any]]:
    slots, sids, sizes, indexes, counts = [], [], [], [], []
    for slot, by_series in enumerate(ring.hist):
        for sid, (idx, cnt) in by_series.items():
            slots.append(slot)
            sids.append(sid)
            sizes.append(len(idx))
            indexes.append(idx)
            counts.append(cnt)
    return {
        "slots": np.array(slots, np.int64),
        "sids": np.array(sids, np.int64),
        "sizes": np.array(sizes, np.int64),
        "indexes": np.concatenate(indexes) if indexes else np.empty(0, np.int64),
        "counts": np.concatenate(counts) if counts else np.empty(0, np.int64),
    }


def dump_store(store: Store, keys: list[str]) -> bytes:
    """Serialise a store; `keys[i]` names series i so it can be found again."""
    arrays: dict[str, npt.NDArray[Any]] = {}
    for ring in store.rings:
        prefix = f"b{ring.tier.bucket_s}_"
        arrays[prefix + "tags"] = ring.tags
        arrays[prefix + "counts"] = ring.counts
        arrays.update({prefix + "h_" + k: v for k, v in _hist_arrays(ring).items()})
    meta = {
        "format": FORMAT,
        "keys": keys,
        "buckets": [r.tier.bucket_s for r in store.rings],
        "too_old": store.too_old,
    }
    arrays["meta"] = np.frombuffer(orjson.dumps(meta), np.uint8)
    buffer = io.BytesIO()
    savez: Any = np.savez  # numpy's stub confuses **arrays with its allow_pickle keyword
    savez(buffer, **arrays)
    return buffer.getvalue()


def load_into(store: Store, keys: list[str], blob: bytes) -> int:
    """Fold saved state into `store` (series matched by key); returns how many series were restored."""
    with np.load(io.BytesIO(blob), allow_pickle=False) as data:
        meta = orjson.loads(data["meta"].tobytes())
        if meta.get("format") != FORMAT:
            raise ValueError(f"unknown store format {meta.get('format')!r}")
        mapping = {old: keys.index(k) for old, k in enumerate(meta["keys"]) if k in keys}
        if not mapping:
            return 0
        old_ids = np.array(sorted(mapping), np.int64)
        new_ids = np.array([mapping[i] for i in old_ids], np.int64)
        for ring in store.rings:
            prefix = f"b{ring.tier.bucket_s}_"
            if prefix + "tags" in data:
                _absorb(ring, data, prefix, old_ids, new_ids)
        store.too_old += int(meta.get("too_old", 0))
    return len(mapping)


def _absorb(
    ring: Ring, data: Any, prefix: str, old_ids: npt.NDArray[np.int64], new_ids: npt.NDArray[np.int64]
) -> None:
    tags, counts = data[prefix + "tags"], data[prefix + "counts"]
    placed: dict[int, int] = {}  # saved slot -> slot in this ring, for buckets kept
    for saved_slot in np.flatnonzero(tags != NEVER).tolist():
        bucket = int(tags[saved_slot])
        slot = bucket % ring.tier.slots
        if ring.tags[slot] > bucket:
            continue  # this ring already holds newer time in that slot
        if ring.tags[slot] < bucket:
            ring.tags[slot] = bucket
            ring.counts[slot] = 0
            ring.hist[slot] = {}
        ring.counts[slot, new_ids] += counts[saved_slot, old_ids]
        placed[saved_slot] = slot
    _absorb_hist(ring, data, prefix, placed, dict(zip(old_ids.tolist(), new_ids.tolist(), strict=True)))


def _absorb_hist(ring: Ring, data: Any, prefix: str, placed: dict[int, int], ids: dict[int, int]) -> None:
    sizes = data[prefix + "h_sizes"]
    ends = np.cumsum(sizes)
    indexes, counts = data[prefix + "h_indexes"], data[prefix + "h_counts"]
    for i, (saved_slot, sid) in enumerate(
        zip(data[prefix + "h_slots"].tolist(), data[prefix + "h_sids"].tolist(), strict=True)
    ):
        if saved_slot not in placed or sid not in ids:
            continue
        lo, hi = int(ends[i] - sizes[i]), int(ends[i])
        fresh = (indexes[lo:hi].astype(np.int64), counts[lo:hi].astype(np.int64))
        slot, new_sid = placed[saved_slot], ids[sid]
        held = ring.hist[slot].get(new_sid)
        ring.hist[slot][new_sid] = fresh if held is None else merge_sparse(held, fresh)
