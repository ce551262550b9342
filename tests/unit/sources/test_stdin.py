"""Standard input: live (`StdinSource`, for `slotail run --stdin`) and as an archive (`-` in backfill);
and the one protocol every source follows."""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from slotail.config.model import SourceSpec
from slotail.sources.archive import STDIN, ArchiveSource
from slotail.sources.batch import Source
from slotail.sources.stdin import StdinSource
from slotail.sources.tail import TailSource


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    read, write = os.pipe()
    yield read, write
    for fd in (read, write):
        with contextlib.suppress(OSError):  # closed by the test
            os.close(fd)


def lines_of(source: StdinSource) -> list[bytes]:
    return [line for batch in source.poll() for line in batch.lines]


def test_lines_come_as_written_and_a_partial_one_waits_for_its_newline(pipe: tuple[int, int]) -> None:
    read, write = pipe
    source = StdinSource(64, fd=read)
    assert lines_of(source) == []  # nothing yet: no waiting
    os.write(write, b"one\ntw")
    assert lines_of(source) == [b"one"]
    assert lines_of(source) == []
    os.write(write, b"o\nthree")
    [batch] = source.poll()
    assert (batch.source, batch.lines, batch.raw_offset) == ("stdin", [b"two"], 13)  # bytes read so far
    assert not source.done and source.fileno() == read
    os.close(write)
    assert lines_of(source) == [b"three"]  # the end of input ends the last line
    assert source.done and source.fileno() is None
    assert source.poll() == []
    assert source.bytes_read == len(b"one\ntwo\nthree")


def test_over_long_lines_are_counted_and_skipped(pipe: tuple[int, int]) -> None:
    read, write = pipe
    source = StdinSource(8, fd=read)
    os.write(write, b"short\n" + b"x" * 20 + b"\nok\n")
    os.close(write)
    batches = source.poll()
    assert [line for b in batches for line in b.lines] == [b"short", b"ok"]
    assert sum(b.too_long for b in batches) == 1


def test_a_poll_reads_about_read_chunk_bytes_then_returns(pipe: tuple[int, int]) -> None:
    """A writer faster than the reader cannot keep a poll reading for ever."""
    read, write = pipe
    source = StdinSource(64, fd=read, read_chunk=10)
    os.write(write, b"".join(b"line%02d\n" % i for i in range(20)))
    first = lines_of(source)
    assert 1 <= len(first) < 20
    rest = []
    for _ in range(20):
        rest += lines_of(source)
    assert first + rest == [b"line%02d" % i for i in range(20)]


def test_dash_reads_standard_input_as_an_archive_whatever_its_format(monkeypatch: pytest.MonkeyPatch) -> None:
    """`-`: gzip told by its first bytes, as a file's; offsets count the stored bytes read."""
    content = b"".join(b'{"i": %d}\n' % i for i in range(1000))
    stored = gzip.compress(content)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(stored))))
    archive = ArchiveSource(STDIN, 1 << 20, batch_lines=300)
    batches = []
    while not archive.done:
        batches += archive.poll()
    assert [line for b in batches for line in b.lines] == content.splitlines()
    assert [len(b.lines) for b in batches] == [300, 300, 300, 100]
    assert batches[-1].raw_offset == len(stored) and batches[-1].source == STDIN
    assert not sys.stdin.closed  # standard input is the process's: not closed by the archive


def test_every_source_is_a_source(tmp_path: Path, pipe: tuple[int, int]) -> None:
    """The tailer, standard input and an archive all give batches through the one protocol."""
    spec = SourceSpec(name="api", paths=[str(tmp_path / "*.log")], start_at="beginning")
    sources = [TailSource([spec], 64), StdinSource(64, fd=pipe[0]), ArchiveSource(str(tmp_path / "x"), 64)]
    for source in sources:
        assert isinstance(source, Source)
        source.close()
