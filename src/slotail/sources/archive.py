"""Archives: a local file, standard input (`-`) or an object-store URL, read once as a stream of batches.

Plain, gzip or zstd by magic bytes, decompressed as a stream (sources/codecs.py): memory holds a
chunk and a batch of lines, whatever the size of the archive.
"""

from __future__ import annotations

import glob
import os
import sys
import zlib
from collections.abc import Generator, Iterator

import zstandard

from slotail.errors import SourceError
from slotail.sources.batch import RawBatch
from slotail.sources.codecs import MAGIC_BYTES, Content, Readable, detect, read_up_to
from slotail.sources.lines import LineSplitter
from slotail.sources.remote import glob_url, is_url, open_url, url_size

CHUNK = 1 << 20
BATCH_LINES = 8192  # lines per batch (numpy costs per batch; larger spill L2); workers cut at the same lines
STDIN = "-"
READ_AHEAD = 2  # an object is fetched this many chunks a request (2 MiB; a peek's 128 KiB)
WILDCARDS = "*?["
DAMAGE = (OSError, EOFError, zlib.error, zstandard.ZstdError)  # what reading a damaged archive raises


def is_local(location: str) -> bool:
    """Whether `location` names a local file (not standard input, not a URL)."""
    return location != STDIN and not is_url(location)


def describe(location: str) -> str:
    """How messages name an archive."""
    return "standard input" if location == STDIN else location


def _open_stored(location: str, chunk: int) -> Readable:
    """The stored bytes of an archive, from their first."""
    if location == STDIN:
        return sys.stdin.buffer
    if is_url(location):
        return open_url(location, READ_AHEAD * chunk)
    try:
        return open(location, "rb")
    except OSError as exc:
        raise SourceError(f"cannot open {location}: {exc.strerror or exc}") from None


def _close(location: str, raw: Readable) -> None:
    if location != STDIN:  # standard input is the process's, not the archive's
        raw.close()  # type: ignore[attr-defined]


class ArchiveSource:
    """One archive, read once: `poll()` gives its next batch of lines, and `done` follows the last."""

    def __init__(
        self,
        location: str,
        max_line: int,
        *,
        skip: int = 0,
        batch_lines: int = BATCH_LINES,
        chunk: int = CHUNK,
    ) -> None:
        """Lines come after `skip` content bytes; a last line may lack its newline."""
        self.location = location
        self._batches = _read(location, max_line, batch_lines, chunk, skip)
        self._done = False

    def batches(self) -> Iterator[RawBatch]:
        """Every batch left, in order (SourceError on damage, after the lines before it)."""
        yield from self._batches
        self._done = True

    def poll(self) -> list[RawBatch]:
        batch = next(self._batches, None)
        self._done = batch is None
        return [] if batch is None else [batch]

    @property
    def done(self) -> bool:
        return self._done

    def close(self) -> None:
        self._batches.close()


def _read(
    location: str, max_line: int, batch_lines: int, chunk: int, skip: int
) -> Generator[RawBatch, None, None]:
    """An archive's batches of lines, after `skip` content bytes."""
    raw = _open_stored(location, chunk)
    try:
        try:
            content = Content(raw)
        except DAMAGE as exc:  # in the first bytes, read to detect the format
            raise SourceError(f"cannot read {describe(location)}: {exc}") from None
        yield from _batches(location, content, LineSplitter(max_line), batch_lines, chunk, skip)
    finally:
        _close(location, raw)


def _batches(
    location: str, content: Content, splitter: LineSplitter, batch_lines: int, chunk: int, skip: int
) -> Iterator[RawBatch]:
    pending: list[bytes] = []
    reported = 0

    def batch(lines: list[bytes]) -> RawBatch:
        nonlocal reported
        too_long, reported = splitter.too_long - reported, splitter.too_long
        return RawBatch(location, lines, too_long, content.offset)

    while True:
        try:
            # read1: a failing read must not discard what it decompressed before the damage.
            data = content.read1(min(chunk, skip) if skip else chunk)
            if skip and data:
                skip -= len(data)
                continue
        except DAMAGE as exc:
            if pending:
                yield batch(pending)  # complete lines only: a cut-off last line is dropped
            raise SourceError(f"cannot read {describe(location)} past byte {content.offset}: {exc}") from None
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


def expand(pattern: str) -> list[str]:
    """The archives a glob names: local files, or objects under a URL (through its file system)."""
    if is_url(pattern):
        return glob_url(pattern) if any(c in pattern for c in WILDCARDS) else [pattern]
    return sorted(glob.glob(pattern))


def stored_format(location: str) -> str:
    """`gzip`, `zstd` or `plain`, from the stored bytes of a local file or URL (`plain` if unreadable)."""
    try:
        raw = _open_stored(location, MAGIC_BYTES)
    except SourceError:
        return "plain"
    try:
        return detect(read_up_to(raw.read, MAGIC_BYTES))
    except OSError:
        return "plain"
    finally:
        _close(location, raw)


def content_head(location: str, size: int) -> bytes:
    """The first `size` bytes of an archive's content (decompressed); empty if unreadable."""
    try:
        raw = _open_stored(location, size)
    except SourceError:
        return b""
    try:
        return read_up_to(Content(raw).read1, size)
    except DAMAGE:
        return b""
    finally:
        _close(location, raw)


def stored_size(location: str) -> int | None:
    """Bytes stored (compressed or not), for progress reporting; None when unknown (standard input)."""
    if location == STDIN:
        return None
    if is_url(location):
        return url_size(location)
    try:
        return os.path.getsize(location)
    except OSError:
        return None
