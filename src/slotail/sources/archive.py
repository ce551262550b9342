"""Archive sources: plain, gzip or zstd files (by magic bytes), read as streams in chunks."""

from __future__ import annotations

import gzip
import io
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import zstandard

from slotail.errors import SourceError
from slotail.sources.lines import LineSplitter

CHUNK = 1 << 20
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


@dataclass(frozen=True)
class RawBatch:
    """Lines read from one source, with how far into the (compressed) file reading has got."""

    source: str
    lines: list[bytes]
    too_long: int
    raw_offset: int


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


def read_batches(path: str, max_line: int, batch_lines: int = 4096, chunk: int = CHUNK) -> Iterator[RawBatch]:
    """Stream an archive's lines in batches; a last line without a newline ends at EOF."""
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
                data = stream.read1(chunk)
            except (OSError, EOFError, zlib.error, zstandard.ZstdError) as exc:
                if pending:
                    yield batch(pending)
                raise SourceError(f"cannot read {path} past byte {raw.tell()}: {exc}") from None
            pending.extend(splitter.feed(data) if data else splitter.finish())
            while len(pending) >= batch_lines:
                yield batch(pending[:batch_lines])
                pending = pending[batch_lines:]
            if not data:
                if pending or splitter.too_long > reported:
                    yield batch(pending)
                return
    finally:
        raw.close()


def file_size(path: str) -> int:
    """Size on disk, for progress reporting (0 when unknown)."""
    try:
        return os.path.getsize(path)
    except OSError:
        return 0
