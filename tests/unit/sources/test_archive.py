"""Archive sources: plain, gzip and zstd files by magic bytes, streamed in bounded batches."""

from __future__ import annotations

import gzip
import re
import zlib
from pathlib import Path

import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slotail.errors import SourceError
from slotail.sources.archive import ArchiveSource
from slotail.sources.batch import RawBatch

MAX_LINE = 1 << 20


def reference_lines(content: bytes) -> list[bytes]:
    """The lines of a whole content: split on LF, the last line kept only if it is not empty."""
    pieces = content.split(b"\n")
    if pieces[-1] == b"":
        pieces.pop()
    return pieces


def sample_log(n: int = 500) -> bytes:
    """Varied JSON lines (hex noise so that compressed files are not tiny)."""
    return b"".join(
        b'{"event":"http_request_completed","i":%d,"noise":"%s"}\n'
        % (i, (i * 2654435761 % 2**64).to_bytes(8).hex().encode() * (i % 7))
        for i in range(n)
    )


def gzip_bytes(content: bytes) -> bytes:
    return gzip.compress(content)


def zstd_bytes(content: bytes) -> bytes:
    return zstandard.ZstdCompressor(write_checksum=True).compress(content)


ENCODERS = {"plain": lambda b: b, "gzip": gzip_bytes, "zstd": zstd_bytes}


def read_all(path: Path, **kwargs: int) -> tuple[list[bytes], list[RawBatch]]:
    batches = list(ArchiveSource(str(path), kwargs.pop("max_line", MAX_LINE), **kwargs).batches())
    return [line for batch in batches for line in batch.lines], batches


# Each format stored under a name that suggests a different one: detection is by content only.
@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("plain", "api.log.gz"),
        ("plain", "api.log.zst"),
        ("gzip", "api.log"),
        ("gzip", "api.log.zst"),
        ("zstd", "api.log"),
        ("zstd", "api.log.gz"),
    ],
)
def test_format_is_detected_by_magic_bytes_not_file_name(tmp_path: Path, kind: str, name: str) -> None:
    """A gzip file called .zst, a zstd file called .log, a plain file called .gz: all read correctly."""
    content = sample_log()
    path = tmp_path / name
    path.write_bytes(ENCODERS[kind](content))
    lines, batches = read_all(path)
    assert lines == reference_lines(content)
    assert batches[-1].raw_offset == path.stat().st_size  # the whole file was read
    assert all(batch.source == str(path) for batch in batches)


@pytest.mark.parametrize("kind", ["plain", "gzip", "zstd"])
def test_a_last_line_without_newline_is_kept(tmp_path: Path, kind: str) -> None:
    """The final line is emitted at end of file even without a trailing newline."""
    path = tmp_path / "log"
    path.write_bytes(ENCODERS[kind](b'{"a":1}\n{"b":2}'))
    assert read_all(path)[0] == [b'{"a":1}', b'{"b":2}']


@pytest.mark.parametrize("kind", ["plain", "gzip", "zstd"])
def test_an_empty_file_yields_no_lines(tmp_path: Path, kind: str) -> None:
    """An empty (or empty-compressed) archive is not an error and has no lines."""
    path = tmp_path / "log"
    path.write_bytes(ENCODERS[kind](b""))
    assert read_all(path)[0] == []


def test_multi_member_gzip_reads_every_member_as_one_stream(tmp_path: Path) -> None:
    """Concatenated gzip members (as `cat a.gz b.gz` makes) read as one stream; a line may span members."""
    parts = [b'{"a":1}\n{"b"', b':2}\n{"c":3}\n', b'{"d":4}']
    path = tmp_path / "multi.gz"
    path.write_bytes(b"".join(gzip.compress(p) for p in parts))
    assert read_all(path, chunk=5)[0] == [b'{"a":1}', b'{"b":2}', b'{"c":3}', b'{"d":4}']


def test_multi_frame_zstd_reads_every_frame_as_one_stream(tmp_path: Path) -> None:
    """Concatenated zstd frames read as one stream; a line may span frames."""
    parts = [b'{"a":1}\n{"b"', b':2}\n{"c":3}\n', b'{"d":4}']
    path = tmp_path / "multi.zst"
    path.write_bytes(b"".join(zstd_bytes(p) for p in parts))
    assert read_all(path, chunk=5)[0] == [b'{"a":1}', b'{"b":2}', b'{"c":3}', b'{"d":4}']


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.sampled_from([b"", b"{}", b"abc", b"x" * 40, b"\xff\xfe", b"\r"]), max_size=60),
    st.booleans(),
    st.sampled_from(["plain", "gzip", "zstd"]),
    st.integers(1, 7),
    st.sampled_from([1, 3, 64, 1 << 20]),
    st.integers(1, 50),
    st.integers(1, 3),
)
def test_batches_never_exceed_batch_lines_and_lose_nothing(
    tmp_path: Path,
    lines: list[bytes],
    trailing_newline: bool,
    kind: str,
    batch_lines: int,
    chunk: int,
    max_line: int,
    members: int,
) -> None:
    """For any lines, format, member count, read size and caps: batches of at most `batch_lines`, every
    line in order, over-long lines counted in `too_long` instead."""
    content = b"\n".join(lines) + (b"\n" if trailing_newline and lines else b"")
    part = len(content) // members + 1
    encoded = b"".join(ENCODERS[kind](content[i : i + part]) for i in range(0, len(content), part))
    path = tmp_path / "log"
    path.write_bytes(encoded)
    got, batches = read_all(path, batch_lines=batch_lines, chunk=chunk, max_line=max_line)
    expected = reference_lines(content) if content else []
    assert all(len(batch.lines) <= batch_lines for batch in batches)
    assert got == [x for x in expected if len(x) <= max_line]
    assert sum(batch.too_long for batch in batches) == sum(1 for x in expected if len(x) > max_line)
    offsets = [batch.raw_offset for batch in batches]
    assert offsets == sorted(offsets)


def test_a_truncated_gzip_yields_every_line_before_the_damage_then_raises(tmp_path: Path) -> None:
    """The lines that fully decompress before the cut are all delivered, then SourceError says where."""
    whole = gzip_bytes(sample_log(3000))
    truncated = whole[: len(whole) // 2]
    # What zlib alone recovers from the same bytes; its complete lines are what must come out.
    recoverable = zlib.decompressobj(wbits=31).decompress(truncated)
    expected = recoverable.split(b"\n")[:-1]
    assert len(expected) > 100  # the test is about a real prefix, not an empty one
    path = tmp_path / "api.log.1.gz"
    path.write_bytes(truncated)
    got: list[bytes] = []
    with pytest.raises(SourceError, match=re.escape(str(path))):
        for batch in ArchiveSource(str(path), MAX_LINE, batch_lines=64).batches():
            got.extend(batch.lines)
    assert got == expected


def test_a_corrupt_gzip_raises_source_error_not_a_zlib_error(tmp_path: Path) -> None:
    """Invalid deflate data (zlib's own error, not an OSError) is reported as a SourceError."""
    data = bytearray(gzip_bytes(sample_log(3000)))
    data[10] = 0b111  # the first deflate block header (after gzip's 10-byte header): reserved type 3
    path = tmp_path / "bad.gz"
    path.write_bytes(bytes(data))
    with pytest.raises(SourceError, match="invalid block type"):
        read_all(path)


def test_a_gzip_with_a_wrong_checksum_raises_source_error(tmp_path: Path) -> None:
    """A gzip member whose CRC does not match its data is a SourceError."""
    data = bytearray(gzip_bytes(sample_log(3000)))
    data[-8] ^= 0xFF  # the member's CRC-32 trailer
    path = tmp_path / "bad.gz"
    path.write_bytes(bytes(data))
    with pytest.raises(SourceError, match="CRC"):
        read_all(path)


def test_a_corrupt_zstd_raises_source_error(tmp_path: Path) -> None:
    """A zstd frame whose checksum does not match is a SourceError."""
    data = bytearray(zstd_bytes(sample_log(3000)))
    data[len(data) // 2] ^= 0xFF
    path = tmp_path / "bad.zst"
    path.write_bytes(bytes(data))
    with pytest.raises(SourceError):
        read_all(path)


def test_a_truncated_zstd_raises_source_error(tmp_path: Path) -> None:
    """A .zst cut short (an interrupted copy) must be reported like a truncated .gz, not read as complete."""
    whole = zstd_bytes(sample_log(3000))
    path = tmp_path / "api.log.1.zst"
    path.write_bytes(whole[: len(whole) - 10])
    with pytest.raises(SourceError):
        read_all(path)


def test_a_missing_file_raises_source_error(tmp_path: Path) -> None:
    """A path that does not exist is a SourceError naming it."""
    missing = tmp_path / "nope.log"
    with pytest.raises(SourceError, match=r"nope\.log"):
        read_all(missing)


def test_a_directory_raises_source_error(tmp_path: Path) -> None:
    """A path that is not a readable file is a SourceError too, not a bare OSError."""
    with pytest.raises(SourceError):
        read_all(tmp_path)


@given(st.data())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_zstd_file_cut_anywhere_yields_a_prefix_of_its_lines_then_raises(tmp_path: Path, data) -> None:
    """Cut at any byte (three frames, with checksums): the lines read are a prefix, then SourceError."""
    content = sample_log(1200)
    parts = [
        content[: len(content) // 3],
        content[len(content) // 3 : 2 * len(content) // 3],
        content[2 * len(content) // 3 :],
    ]
    compressor = zstandard.ZstdCompressor(write_checksum=True)
    frames = [compressor.compress(p) for p in parts]
    whole = b"".join(frames)
    ends = {len(frames[0]), len(frames[0]) + len(frames[1])}  # a cut there leaves whole frames: no damage
    cut = data.draw(st.integers(min_value=4, max_value=len(whole) - 1).filter(lambda c: c not in ends))
    path = tmp_path / "api.log.zst"
    path.write_bytes(whole[:cut])
    got: list[bytes] = []
    with pytest.raises(SourceError):
        for batch in ArchiveSource(str(path), max_line=1 << 20).batches():
            got.extend(batch.lines)
    assert got == reference_lines(content)[: len(got)]
