"""LineSplitter: chunks in, complete lines out, whatever the chunk boundaries; over-long lines never held."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from slotail.sources.lines import LineSplitter

MIB = 1 << 20


def reference_lines(content: bytes) -> list[bytes]:
    """The lines of a whole content: split on LF, the last line kept only if it is not empty."""
    pieces = content.split(b"\n")
    if pieces[-1] == b"":
        pieces.pop()
    return pieces


def feed_all(splitter: LineSplitter, chunks: list[bytes]) -> list[bytes]:
    """Feed every chunk, checking after each that the held partial line stays within the cap."""
    lines: list[bytes] = []
    for chunk in chunks:
        lines.extend(splitter.feed(chunk))
        assert splitter._partial_len <= splitter.max_line
        assert sum(map(len, splitter._partial)) == splitter._partial_len
    return lines


def cut(content: bytes, offsets: list[int]) -> list[bytes]:
    """`content` cut at the given offsets (duplicates give empty chunks)."""
    bounds = [0, *sorted(offsets), len(content)]
    return [content[a:b] for a, b in itertools.pairwise(bounds)]


# Content rich in newlines, empty lines, CRs and long runs, as well as arbitrary bytes.
segments = st.sampled_from([b"\n", b"\n\n", b"a", b"bc", b"\r\n", b"\xff", b"x" * 9, b"y" * 30])
contents = st.one_of(st.binary(max_size=200), st.lists(segments, max_size=40).map(b"".join))


@st.composite
def content_and_chunks(draw: st.DrawFn) -> tuple[bytes, list[bytes]]:
    content = draw(contents)
    offsets = draw(st.lists(st.integers(0, len(content)), max_size=12))
    return content, cut(content, offsets)


@settings(max_examples=200)
@given(content_and_chunks(), st.integers(min_value=0, max_value=40))
def test_any_chunking_emits_the_reference_lines_minus_the_over_long(
    case: tuple[bytes, list[bytes]], max_line: int
) -> None:
    """However the content is cut, the lines are those of the whole; lines over the cap are only counted."""
    content, chunks = case
    expected = reference_lines(content)
    splitter = LineSplitter(max_line)
    lines = feed_all(splitter, chunks)
    lines += splitter.finish()
    assert lines == [x for x in expected if len(x) <= max_line]
    assert splitter.too_long == sum(1 for x in expected if len(x) > max_line)


@settings(max_examples=200)
@given(content_and_chunks(), st.integers(min_value=0, max_value=40))
def test_before_finish_only_complete_lines_are_emitted_and_consumed_ends_at_the_last_newline(
    case: tuple[bytes, list[bytes]], max_line: int
) -> None:
    """After feeding, `consumed` is the offset just after the last LF; the rest is pending, not emitted."""
    content, chunks = case
    splitter = LineSplitter(max_line)
    lines = feed_all(splitter, chunks)
    consumed = content.rfind(b"\n") + 1
    complete = content[:consumed].split(b"\n")[:-1]
    assert splitter.consumed == consumed
    assert splitter.pending == len(content) - consumed
    assert lines == [x for x in complete if len(x) <= max_line]
    assert splitter.too_long == sum(1 for x in complete if len(x) > max_line)


def test_finish_consumes_everything_fed() -> None:
    """At end of input, the last line without a newline is emitted and nothing is pending."""
    splitter = LineSplitter(100)
    assert splitter.feed(b"one\ntw") == [b"one"]
    assert splitter.feed(b"o") == []
    assert splitter.finish() == [b"two"]
    assert (splitter.consumed, splitter.pending) == (7, 0)


def test_a_line_of_exactly_the_cap_is_kept_and_one_byte_more_is_too_long() -> None:
    """`max_line` is inclusive, whether the line arrives whole or byte by byte."""
    content = b"x" * 10 + b"\n" + b"y" * 11 + b"\n" + b"z" * 10
    for chunks in ([content], [bytes([b]) for b in content]):
        splitter = LineSplitter(10)
        lines = feed_all(splitter, chunks) + splitter.finish()
        assert lines == [b"x" * 10, b"z" * 10]
        assert splitter.too_long == 1


def test_a_six_mib_line_fed_in_64_kib_chunks_is_never_held_in_memory() -> None:
    """With a 1 MiB cap, a 6 MiB line is skipped as it streams: at most the cap is ever held."""
    content = b"before\n" + b"x" * (6 * MIB) + b"\nafter\n"
    splitter = LineSplitter(MIB)
    lines = feed_all(splitter, cut(content, list(range(64 * 1024, len(content), 64 * 1024))))
    lines += splitter.finish()
    assert lines == [b"before", b"after"]
    assert splitter.too_long == 1
    assert splitter.consumed == len(content)


def test_an_over_long_last_line_without_newline_is_counted_at_finish() -> None:
    """An over-long unterminated last line is counted once, at the end, and never emitted."""
    splitter = LineSplitter(MIB)
    chunk = b"y" * (64 * 1024)
    lines = feed_all(splitter, [b"ok\n", *([chunk] * 40)])
    assert splitter.pending == 40 * len(chunk)  # skipped bytes still count as pending...
    assert splitter._partial_len == 0  # ...but none of them are held
    assert lines + splitter.finish() == [b"ok"]
    assert splitter.too_long == 1


def test_empty_lines_are_emitted_as_empty_lines() -> None:
    """The splitter does not judge content: blank lines are passed on (the parser skips them)."""
    splitter = LineSplitter(10)
    assert splitter.feed(b"\n\na\n") == [b"", b"", b"a"]
    assert splitter.finish() == []
