"""Archive sources: plain, gzip or zstd files (by magic bytes), read as streams in chunks."""

from __future__ import annotations

import gzip
import io
import os
import zlib
from collections.abc import Iterator

import zstandard

from slotail.errors import SourceError
from slotail.sources.batch import RawBatch
from slotail.sources.lines import LineSplitter

CHUNK = 1 << 20
BATCH_LINES = 8192  # lines per batch (numpy costs per batch; larger spill L2); workers cut at the same lines
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def detect(head: bytes) -> str:
    """`gzip`, `zstd` or `plain`, from a file's first bytes."""
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    return "plain"


def _open(raw: io.BufferedReader) -> io.BufferedIOBase | zstandard.ZstdDecompressionReader:
    kind = detect(raw.read(4))
    raw.seek(0)
    if kind == "gzip":
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if kind == "zstd":
        return zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
    return raw


def read_batches(
    path: str, max_line: int, batch_lines: int = BATCH_LINES, chunk: int = CHUNK, skip: int = 0
) -> Iterator[RawBatch]:
    """Stream an archive's lines in batches, after `skip` content bytes; a last line may lack its newline."""
    try:
        raw = open(path, "rb")  # noqa: SIM115 - closed in finally, across yields
    except OSError as exc:
        raise SourceError(f"cannot open {path}: {exc.strerror or exc}") from None
    try:
        stream = _open(raw)
        splitter = LineSplitter(max_line)
        pending: list[bytes] = []
        reported = 0

        def batch(lines: list[bytes]) -> RawBatch:
            nonlocal reported
            too_long, reported = splitter.too_long - reported, splitter.too_long
            return RawBatch(path, lines, too_long, raw.tell())

        while True:
            try:
                # read1: a failing read must not discard what it decompressed before the damage.
                data = stream.read1(min(chunk, skip) if skip else chunk)
                if skip and data:
                    skip -= len(data)
                    continue
            except (OSError, EOFError, zlib.error, zstandard.ZstdError) as exc:
                if pending:
                    yield batch(pending)
                raise SourceError(f"cannot read {path} past byte {raw.tell()}: {exc}") from None
            if not data and isinstance(stream, zstandard.ZstdDecompressionReader) and not zstd_complete(raw):
                if pending:
                    yield batch(pending)  # complete lines only: the cut-off last line is dropped
                raise SourceError(f"{path} is truncated: its last zstd frame is incomplete")
            pending.extend(splitter.feed(data) if data else splitter.finish())
            start = 0
            while len(pending) - start >= batch_lines:
                yield batch(pending[start : start + batch_lines])
                start += batch_lines
            del pending[:start]
            if not data:
                if pending or splitter.too_long > reported:
                    yield batch(pending)
                return
    finally:
        raw.close()


def _frame_header_size(descriptor: int) -> int:
    """Bytes of a zstd frame header after the magic number, from its descriptor byte."""
    fcs_flag, single_segment, dict_flag = descriptor >> 6, (descriptor >> 5) & 1, descriptor & 3
    fcs_size = (1 if single_segment else 0, 2, 4, 8)[fcs_flag]
    return 1 + (0 if single_segment else 1) + (0, 1, 2, 4)[dict_flag] + fcs_size


def zstd_complete(raw: io.BufferedReader) -> bool:
    """Whether a zstd file ends exactly at the end of a frame (walks frame and block headers only)."""
    fd, size, pos = raw.fileno(), os.fstat(raw.fileno()).st_size, 0
    while pos < size:
        magic = os.pread(fd, 4, pos)
        if len(magic) < 4:
            return False
        number = int.from_bytes(magic, "little")
        if 0x184D2A50 <= number <= 0x184D2A5F:  # a skippable frame
            length = os.pread(fd, 4, pos + 4)
            pos += 8 + int.from_bytes(length, "little") if len(length) == 4 else size + 1
            continue
        if magic != ZSTD_MAGIC or pos + 5 > size:
            return False
        descriptor = os.pread(fd, 1, pos + 4)[0]
        pos = _blocks_end(fd, pos + 4 + _frame_header_size(descriptor), size)
        if pos < 0:
            return False
        pos += 4 if descriptor & 0x04 else 0  # content checksum
    return pos == size


def _blocks_end(fd: int, pos: int, size: int) -> int:
    """The offset after a frame's last block, or -1 if the file ends inside it."""
    while True:
        header = os.pread(fd, 3, pos)
        if len(header) < 3:
            return -1
        value = int.from_bytes(header, "little")
        block_type, block_size = (value >> 1) & 3, value >> 3
        pos += 3 + (1 if block_type == 1 else block_size)  # an RLE block stores one byte
        if pos > size:
            return -1
        if value & 1:
            return pos


def content_head(path: str, size: int) -> bytes:
    """The first `size` bytes of an archive's content (decompressed); empty if unreadable."""
    try:
        with open(path, "rb") as raw:
            stream = _open(raw)
            head = b""
            while len(head) < size:
                data = stream.read1(size - len(head))
                if not data:
                    break
                head += data
            return head
    except (OSError, EOFError, zlib.error, zstandard.ZstdError):
        return b""


def file_size(path: str) -> int:
    """Size on disk, for progress reporting (0 when unknown)."""
    try:
        return os.path.getsize(path)
    except OSError:
        return 0
