"""Content: stored bytes decompressed as a stream that cannot seek and reads short (a pipe), with
zstd's end checked by walking frame headers as the bytes go by."""

from __future__ import annotations

import gzip
import zlib

import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from slotail.sources.codecs import Content, ZstdFrames

CONTENT = b"".join(b'{"i":%d,"pad":"%s"}\n' % (i, b"z" * (i % 50)) for i in range(3000))


class Pipe:
    """Bytes that come in pieces of at most `piece` bytes, and can be neither sought nor asked where."""

    def __init__(self, data: bytes, piece: int) -> None:
        self._data, self._piece, self._pos = data, piece, 0

    def read(self, size: int = -1, /) -> bytes:
        size = self._piece if size < 0 else min(size, self._piece)
        data = self._data[self._pos : self._pos + size]
        self._pos += len(data)
        return data


def read_all(content: Content, chunk: int = 4096) -> bytes:
    out = []
    while data := content.read1(chunk):
        out.append(data)
    return b"".join(out)


def frames(parts: int, checksum: bool = True, size: bool = True) -> tuple[bytes, set[int]]:
    """CONTENT as `parts` zstd frames (a skippable frame between the first two), and where frames end."""
    compressor = zstandard.ZstdCompressor(write_checksum=checksum, write_content_size=size)
    step = len(CONTENT) // parts + 1
    pieces = [compressor.compress(CONTENT[i : i + step]) for i in range(0, len(CONTENT), step)]
    skippable = (0x184D2A53).to_bytes(4, "little") + (5).to_bytes(4, "little") + b"hello"
    pieces.insert(1, skippable)
    ends, at = set(), 0
    for piece in pieces:
        at += len(piece)
        ends.add(at)
    return b"".join(pieces), ends


@pytest.mark.parametrize("piece", [1, 3, 7, 4096, 1 << 20])
@pytest.mark.parametrize("kind", ["plain", "gzip", "zstd"])
def test_any_format_reads_whole_from_a_pipe_of_any_read_size(kind: str, piece: int) -> None:
    stored = {"plain": CONTENT, "gzip": gzip.compress(CONTENT), "zstd": frames(3)[0]}[kind]
    content = Content(Pipe(stored, piece))
    assert content.kind == kind
    assert read_all(content) == CONTENT
    assert content.offset == len(stored)


@settings(max_examples=200, deadline=None)
@given(st.data(), st.booleans(), st.booleans(), st.integers(1, 9))
def test_zstd_cut_anywhere_is_complete_exactly_at_a_frame_end(
    data, checksum: bool, size: bool, piece: int
) -> None:
    """Whatever the cut, and however the bytes come: the walker calls it complete at frame ends only."""
    whole, ends = frames(3, checksum, size)
    cut = data.draw(st.integers(4, len(whole)))
    walker = ZstdFrames()
    for i in range(0, cut, piece):
        walker.feed(whole[i : min(i + piece, cut)])
    assert walker.complete == (cut in ends)


def test_a_zstd_stream_cut_inside_a_frame_raises_after_what_it_decoded() -> None:
    whole, ends = frames(3)
    cut = sorted(ends)[1] + 40  # inside the second content frame
    content = Content(Pipe(whole[:cut], 1000))
    got = b""
    with pytest.raises(EOFError, match="zstd frame"):
        while data := content.read1(4096):
            got += data
    assert CONTENT.startswith(got) and len(got) >= len(CONTENT) // 3


def test_a_gzip_stream_cut_short_raises_eoferror() -> None:
    stored = gzip.compress(CONTENT)
    with pytest.raises(EOFError):
        read_all(Content(Pipe(stored[: len(stored) // 2], 512)))


def test_a_corrupt_gzip_stream_raises() -> None:
    stored = bytearray(gzip.compress(CONTENT))
    stored[len(stored) // 2] ^= 0xFF
    with pytest.raises((OSError, EOFError, zlib.error)):
        read_all(Content(Pipe(bytes(stored), 512)))


def test_short_stored_bytes_are_plain() -> None:
    for data in (b"", b"{", b"\x1f", b"\x28\xb5\x2f"):
        content = Content(Pipe(data, 1))
        assert content.kind == "plain" and read_all(content) == data
