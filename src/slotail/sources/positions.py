"""Where a live file has been read to: what a checkpoint keeps of it, enough to resume it exactly."""

from __future__ import annotations

import os
from dataclasses import dataclass

SCAN_BACK = 1 << 16  # block size when looking backwards for the last newline


@dataclass(frozen=True)
class Position:
    """What a checkpoint stores for one file; enough to resume it exactly."""

    source: str
    path: str
    dev: int
    ino: int
    offset: int  # bytes consumed: just after the last newline whose line was returned
    head_len: int  # leading bytes head_hash covers (what has been read, up to HEAD_BYTES)
    head_hash: str
    tail_hash: str  # of the bytes [max(0, offset - HEAD_BYTES), offset)


def after_last_newline(fd: int, size: int) -> int:
    """Offset just after the last newline in the first `size` bytes (0 when there is none)."""
    end = size
    while end > 0:
        start = max(0, end - SCAN_BACK)
        i = os.pread(fd, end - start, start).rfind(b"\n")
        if i >= 0:
            return start + i + 1
        end = start
    return 0
