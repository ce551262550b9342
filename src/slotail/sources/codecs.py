"""A stored file's content: plain, gzip or zstd (by its first bytes), decompressed as a stream.

Whatever the bytes come from (a local file, a pipe, an object store), they are read in order,
once, and counted; nothing needs to seek, so a pipe is read as a file is.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from typing import Protocol

import zstandard

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
MAGIC_BYTES = 4


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def detect(head: bytes) -> str:
    """`gzip`, `zstd` or `plain`, from a file's first bytes."""
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    return "plain"


def read_up_to(read: Callable[[int], bytes], size: int) -> bytes:
    """The next `size` bytes `read` gives (fewer only at the end), however short its reads are."""
    data = b""
    while len(data) < size:
        more = read(size - len(data))
        if not more:
            break
        data += more
    return data


class _Stored:
    """The stored bytes, as a decompressor reads them: the head read to detect the format first,
    counted (a pipe cannot tell where it is), and walked by a zstd frame check when there is one."""

    def __init__(self, raw: Readable, head: bytes, frames: ZstdFrames | None) -> None:
        self._raw, self._head, self._frames = raw, head, frames
        self._read1 = getattr(raw, "read1", raw.read)  # a pipe's read1 returns what has come
        self.offset = 0

    def read(self, size: int = -1, /) -> bytes:
        if self._head:
            data, self._head = (self._head, b"") if size < 0 else (self._head[:size], self._head[size:])
        else:
            data = self._read1(size if size >= 0 else 1 << 20)
        self.offset += len(data)
        if self._frames is not None:
            self._frames.feed(data)
        return data

    read1 = read


class Content:
    """A stored file's content, decompressed as it is read; `offset` is how far into the stored bytes."""

    def __init__(self, raw: Readable) -> None:
        head = read_up_to(raw.read, MAGIC_BYTES)
        self.kind = detect(head)
        self._frames = ZstdFrames() if self.kind == "zstd" else None
        self._stored = _Stored(raw, head, self._frames)
        self._stream: Readable = self._stored
        if self.kind == "gzip":
            self._stream = gzip.GzipFile(fileobj=self._stored, mode="rb")  # type: ignore[call-overload]
        elif self.kind == "zstd":
            decompressor = zstandard.ZstdDecompressor()
            self._stream = decompressor.stream_reader(self._stored, read_across_frames=True)  # type: ignore[arg-type]

    @property
    def offset(self) -> int:
        return self._stored.offset

    def read1(self, size: int) -> bytes:
        """Up to `size` bytes of content (b"" at its end); a failing read keeps what came before it.

        Raises OSError, EOFError, zlib.error or zstandard.ZstdError on damage, and EOFError when a zstd
        file ends inside a frame (its decompressor would end there quietly).
        """
        data: bytes = self._stream.read1(size)  # type: ignore[attr-defined]
        if not data and self._frames is not None and not self._frames.complete:
            raise EOFError("it ends inside a zstd frame (truncated?)")
        return data


class ZstdFrames:
    """Walks zstd frame and block headers as the stored bytes go by: whether they end at a frame's end."""

    def __init__(self) -> None:
        self._state = "magic"
        self._need = 4  # header bytes the state reads
        self._header = b""
        self._skip = 0  # bytes to pass over before the next header
        self._checksum = False
        self.broken = False

    @property
    def complete(self) -> bool:
        return self._state == "magic" and not self._header and not self._skip and not self.broken

    def feed(self, data: bytes) -> None:
        pos = 0
        while pos < len(data) and not self.broken:
            if self._skip:
                step = min(self._skip, len(data) - pos)
                pos, self._skip = pos + step, self._skip - step
                continue
            take = self._need - len(self._header)
            self._header += data[pos : pos + take]
            pos += take
            if len(self._header) == self._need:
                header, self._header = self._header, b""
                self._read(header)

    def _read(self, header: bytes) -> None:
        value = int.from_bytes(header, "little")
        if self._state == "magic":
            if 0x184D2A50 <= value <= 0x184D2A5F:  # a skippable frame: its length follows
                self._state, self._need = "skippable", 4
            elif header == ZSTD_MAGIC:
                self._state, self._need = "descriptor", 1
            else:
                self.broken = True  # not zstd: the decompressor says so
        elif self._state == "skippable":
            self._state, self._need, self._skip = "magic", 4, value
        elif self._state == "descriptor":
            self._checksum = bool(value & 0x04)
            self._state, self._need = "frame_header", _frame_header_size(value) - 1
        elif self._state == "frame_header":
            self._state, self._need = "block", 3
        else:
            self._block(value)

    def _block(self, value: int) -> None:
        block_type, block_size = (value >> 1) & 3, value >> 3
        self._skip = 1 if block_type == 1 else block_size  # an RLE block stores one byte
        if value & 1:  # the frame's last block; then its checksum, if it has one
            self._skip += 4 if self._checksum else 0
            self._state, self._need = "magic", 4


def _frame_header_size(descriptor: int) -> int:
    """Bytes of a zstd frame header after the magic number, from its descriptor byte."""
    fcs_flag, single_segment, dict_flag = descriptor >> 6, (descriptor >> 5) & 1, descriptor & 3
    fcs_size = (1 if single_segment else 0, 2, 4, 8)[fcs_flag]
    return 1 + (0 if single_segment else 1) + (0, 1, 2, 4)[dict_flag] + fcs_size
