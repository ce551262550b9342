"""Docker json-file and CRI envelopes: the app's lines come out as if read bare, pieces joined."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slotail.parse import ParsedBatch, Parser
from slotail.parse.envelope import CriEnvelope, DockerEnvelope
from slotail.parse.lines import BAD_ENVELOPE, TOO_LONG

T0 = "2026-02-19T09:00:00.412Z"
CRI_TIME = "2026-02-19T09:00:00.412345678Z"
MAX_LINE = 1 << 20
ENVELOPES = {"docker": DockerEnvelope, "cri": CriEnvelope}


def docker(stream: str, piece: str, last: bool) -> bytes:
    """One json-file entry: a piece of the app's line, with the newline only on the last."""
    return json.dumps({"log": piece + ("\n" if last else ""), "stream": stream, "time": CRI_TIME}).encode()


def cri(stream: str, piece: str, last: bool) -> bytes:
    return f"{CRI_TIME} {stream} {'F' if last else 'P'} {piece}".encode()


WRAP = {"docker": docker, "cri": cri}


def parsed(batches: list[ParsedBatch]) -> tuple[list[str], list[int], Counter[str]]:
    """Events (as JSON text of what the config reads), times and invalid counts of batches, together."""
    invalid: Counter[str] = Counter()
    for batch in batches:
        invalid.update(batch.invalid)
    events = [repr((e.get("timestamp"), e.get("status"), e.get("n"))) for b in batches for e in b.events]
    return events, [t for b in batches for t in b.ts_us.tolist()], invalid


inner_lines = st.one_of(
    st.builds(
        lambda n, s: json.dumps({"timestamp": T0, "n": n, "status": s}), st.integers(0, 99), st.integers()
    ),
    st.builds(lambda n: json.dumps({"timestamp": T0, "n": n, "pad": "x" * 300}), st.integers(0, 99)),
    st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\n\r"), max_size=20),
    st.just(""),
)


@st.composite
def wrapped(draw: Any, kind: str) -> tuple[list[bytes], list[str]]:
    """Raw envelope lines of messages on two streams, each cut into pieces, the streams interleaved;
    and the app's lines in the order their last pieces come."""
    queues: dict[str, list[tuple[str, bool, int]]] = {"stdout": [], "stderr": []}
    messages = draw(st.lists(st.tuples(st.sampled_from(["stdout", "stderr"]), inner_lines), max_size=25))
    for number, (stream, text) in enumerate(messages):
        cuts = (
            sorted(draw(st.sets(st.integers(1, max(len(text) - 1, 1)), max_size=3))) if len(text) > 1 else []
        )
        bounds = [0, *cuts, len(text)]
        for i in range(len(bounds) - 1):
            queues[stream].append((text[bounds[i] : bounds[i + 1]], i == len(bounds) - 2, number))
    raw, done = [], []
    while any(queues.values()):
        stream = draw(st.sampled_from([s for s, q in queues.items() if q]))
        piece, last, number = queues[stream].pop(0)
        raw.append(WRAP[kind](stream, piece, last))
        if last:
            done.append(messages[number][1])
    return raw, done


def feed(parser: Parser, raw: list[bytes], cuts: list[int], source: str = "f") -> list[ParsedBatch]:
    bounds = [0, *sorted(c for c in cuts if c < len(raw)), len(raw)]
    return [parser.parse(raw[a:b], source=source) for a, b in itertools.pairwise(bounds)]


@pytest.mark.parametrize("kind", ["docker", "cri"])
@pytest.mark.parametrize("fields", [None, ["status", "n"]])
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_unwrapped_lines_parse_as_the_bare_lines_would(
    kind: str, fields: list[str] | None, data: Any
) -> None:
    """Any app lines, cut into pieces on interleaved streams and split across batches anywhere: the
    events, times and invalid counts of the bare lines (in the order their last pieces come)."""
    raw, done = data.draw(wrapped(kind))
    cuts = data.draw(st.lists(st.integers(0, max(len(raw), 1)), max_size=4))
    parser = Parser(fields=fields, envelope=ENVELOPES[kind](MAX_LINE))
    got = parsed(feed(parser, raw, cuts))
    assert got == parsed([Parser(fields=fields).parse([line.encode() for line in done])])
    assert not parser.finish("f").parsed


@pytest.mark.parametrize(
    ("kind", "line"),
    [
        ("docker", b"not json"),
        ("docker", b'{"stream": "stdout"}'),  # no `log`
        ("docker", b'{"log": 5}'),
        ("docker", b'["log"]'),
        ("docker", b'{"log": "\\ud800"}'),  # a lone surrogate: no UTF-8 for it
        ("cri", b'{"timestamp": "2026-02-19T09:00:00.412Z"}'),  # a bare line: no prefix
        ("cri", b"2026-02-19T09:00:00Z stdin F {}"),
        ("cri", b"2026-02-19T09:00:00Z stdout X {}"),
        ("cri", b"2026-02-19T09:00:00Z stdout FP {}"),
        ("cri", b"2026-02-19T09:00:00Z  stdout F {}"),
        ("cri", b"2026-02-19T09:00:00Z stdout F"),  # no space before the content
        ("cri", b"stdout F {}"),
        ("cri", b"2026 stdout F {}"),
    ],
)
def test_a_malformed_envelope_is_counted_as_bad_envelope(kind: str, line: bytes) -> None:
    """A line not in the envelope's shape is invalid with its own reason; the good lines around it parse."""
    good = WRAP[kind]("stdout", json.dumps({"timestamp": T0, "n": 1}), True)
    for fields in (None, ["n"]):
        batch = Parser(fields=fields, envelope=ENVELOPES[kind](MAX_LINE)).parse([good, line, b"", good])
        assert batch.invalid == Counter({BAD_ENVELOPE: 1})
        assert batch.parsed == 2


@pytest.mark.parametrize("kind", ["docker", "cri"])
def test_pieces_joined_beyond_the_line_cap_count_once_as_too_long(kind: str) -> None:
    """A run of pieces longer than `max_line_bytes` is one too-long line; the lines after it parse."""
    parser = Parser(envelope=ENVELOPES[kind](1000))
    pieces = [WRAP[kind]("stdout", "x" * 400, False) for _ in range(5)] + [WRAP[kind]("stdout", "}", True)]
    good = WRAP[kind]("stdout", json.dumps({"timestamp": T0, "n": 1}), True)
    batches = [parser.parse(pieces[:3], source="f"), parser.parse([*pieces[3:], good], source="f")]
    assert parsed(batches)[2] == Counter({TOO_LONG: 1})
    assert sum(b.parsed for b in batches) == 1


@pytest.mark.parametrize("kind", ["docker", "cri"])
def test_pieces_of_different_files_never_join(kind: str) -> None:
    """Each file keeps its own pieces: a file's last piece joins only its own partial ones."""
    parser = Parser(envelope=ENVELOPES[kind](MAX_LINE))
    text = json.dumps({"timestamp": T0, "n": 1})
    parser.parse([WRAP[kind]("stdout", text[:10], False)], source="a")
    other = parser.parse([WRAP[kind]("stdout", text, True)], source="b")
    assert [e["n"] for e in other.events] == [1]
    mine = parser.parse([WRAP[kind]("stdout", text[10:], True)], source="a")
    assert [e["n"] for e in mine.events] == [1]


@pytest.mark.parametrize("kind", ["docker", "cri"])
def test_pieces_still_held_when_a_file_ends_are_parsed_as_its_last_line(kind: str) -> None:
    """A file that ends before a run's last piece: what it holds is parsed as a line, as a last line
    without its newline is."""
    parser = Parser(envelope=ENVELOPES[kind](MAX_LINE))
    text = json.dumps({"timestamp": T0, "n": 1})
    assert not parser.parse(
        [WRAP[kind]("stderr", text[:10], False), WRAP[kind]("stderr", text[10:], False)]
    ).parsed
    assert [e["n"] for e in parser.finish("").events] == [1]
    assert not parser.finish("").parsed


def test_a_cri_time_with_nanoseconds_and_an_offset_is_a_prefix_like_any_other() -> None:
    """The prefix is found by its spaces, whatever the length of the time before them."""
    text = json.dumps({"timestamp": T0, "n": 1})
    lines = [f"2026-02-19T10:00:00.412345678+01:00 stderr F {text}".encode(), cri("stdout", text, True)]
    batch = Parser(envelope=CriEnvelope(MAX_LINE)).parse(lines)
    assert (batch.parsed, batch.invalid) == (2, Counter())
