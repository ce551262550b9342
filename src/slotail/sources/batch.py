"""What every source gives the pipeline: batches of raw lines, each with how far reading has got."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import msgspec

from slotail.sources.lines import LineBlock


class RawBatch(msgspec.Struct, frozen=True):
    """Lines read from one source, with how far into the (compressed) file reading has got."""

    source: str  # the config source's name (live), or the archive's location (backfill)
    lines: list[bytes] | LineBlock  # a worker's batches are slices of the block it read
    too_long: int  # lines over the length cap, skipped
    raw_offset: int  # bytes of the file (as stored: compressed or not) read through this batch
    file: str = ""  # the file, when `source` names several (a live source): an envelope's pieces stay in it


@runtime_checkable
class Source(Protocol):
    """Where raw lines come from: a live file set, a pipe, or an archive read once."""

    def poll(self) -> list[RawBatch]:
        """The batches that can be read now, without waiting for more ([] when none have come)."""
        ...

    @property
    def done(self) -> bool:
        """Whether nothing more will ever come (an archive read to its end, a closed pipe)."""
        ...

    def close(self) -> None:
        """Release what the source holds open."""
        ...
