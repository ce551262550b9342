"""Which file is which: device and inode, and hashes of the bytes around what has been read.

An inode alone is not an identity (a deleted file's inode is reused); the hashes of a file's
first bytes and of the bytes before a checkpointed offset tell a file from its successor, and a
copy (copytruncate's) from its original.
"""

from __future__ import annotations

import hashlib
import os
import stat

from slotail.sources.positions import Position

HEAD_BYTES = 1024  # fingerprint size at both ends of what has been read
COPY_MIN_HEAD = 64  # a file is taken for another's copy only on at least this much shared head
Key = tuple[int, int]  # (st_dev, st_ino)


def digest(data: bytes) -> str:
    """Hex blake2b-128 of `data`."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def last_bytes(prev: bytes, data: bytes, end: int) -> bytes:
    """The last HEAD_BYTES bytes of `prev + data[:end]`, without copying all of `data`."""
    if end >= HEAD_BYTES:
        return data[end - HEAD_BYTES : end]
    return (prev + data[:end])[-HEAD_BYTES:]


def identify(path: str) -> Key | None:
    """The identity of the regular file at `path` (None for anything else); OSError if it cannot be stat'd."""
    st = os.stat(path)
    return (st.st_dev, st.st_ino) if stat.S_ISREG(st.st_mode) else None


def matches(fd: int, pos: Position) -> bytes | None:
    """The bytes before `pos.offset` if the open file hashes as `pos` says, else None."""
    head = os.pread(fd, pos.head_len, 0)
    if len(head) != pos.head_len or digest(head) != pos.head_hash:
        return None
    start = max(0, pos.offset - HEAD_BYTES)
    tail = os.pread(fd, pos.offset - start, start)
    if len(tail) != pos.offset - start or digest(tail) != pos.tail_hash:
        return None
    return tail
