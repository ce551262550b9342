"""What content has already been counted, by fingerprint, so a warm start never counts it twice.

An entry says: the content whose first `head_len` bytes hash to `head_hash` has
been counted up to byte `counted`. The tailer adds one for every file it
finishes; a warm start adds one for every archive it reads, and looks here
before reading an archive. Fingerprints cover at least MIN_HEAD bytes, which
in JSON logs include a timestamp.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from slotail.sources.identity import digest

EVERYTHING = 1 << 62
MIN_HEAD = 64
MAX_ENTRIES = 20_000  # the oldest are forgotten first


@dataclass(frozen=True)
class Entry:
    """Content counted up to `counted` bytes."""

    head_len: int
    head_hash: str
    counted: int


class Ledger:
    """A bounded record of counted content."""

    def __init__(self, entries: list[Entry] | None = None) -> None:
        self._entries: OrderedDict[tuple[int, str], int] = OrderedDict()
        for entry in entries or []:
            self.record(entry)

    def record(self, entry: Entry) -> None:
        if entry.head_len < MIN_HEAD:
            return
        key = (entry.head_len, entry.head_hash)
        self._entries[key] = max(self._entries.pop(key, 0), entry.counted)
        while len(self._entries) > MAX_ENTRIES:
            self._entries.popitem(last=False)

    def counted(self, head: bytes) -> int:
        """Bytes already counted of content that starts with `head` (0 if none)."""
        best = 0
        for (head_len, head_hash), counted in self._entries.items():
            if head_len <= len(head) and counted > best and digest(head[:head_len]) == head_hash:
                best = counted
        return best

    def to_json(self) -> list[list[Any]]:
        return [[length, digest_hex, counted] for (length, digest_hex), counted in self._entries.items()]

    @staticmethod
    def from_json(rows: list[list[Any]]) -> Ledger:
        return Ledger([Entry(int(a), str(b), int(c)) for a, b, c in rows])
