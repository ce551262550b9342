"""Container log envelopes: each raw line unwrapped to the app's own line before it is parsed.

Docker's json-file driver writes `{"log":"<the line>\\n","stream":"stdout","time":"..."}`; the CRI
runtimes of Kubernetes write `<RFC 3339 time> <stdout|stderr> <P|F> <the line>`. Both split a long
line (16 KiB) into pieces: docker's partial pieces lack the final newline, CRI's are tagged `P`, up
to a last one (`F`). The pieces of one file and stream are joined into one line, also across
batches. A line whose envelope is malformed is counted as invalid (`bad_envelope`); a joined line
over the line-size cap as `too_long`. Unwrapping runs only when a config names an envelope.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Protocol

import msgspec
import numpy as np
import numpy.typing as npt

from slotail.parse.lines import BAD_ENVELOPE, BOM, TOO_LONG, Int64s
from slotail.sources.lines import LineBlock

Piece = tuple[bytes, bool, bytes]  # (stream, partial, content)
SPACE, DASH, CRI_PARTIAL, CRI_FULL = ord(" "), ord("-"), ord("P"), ord("F")
STREAMS = (b"stdout", b"stderr")
STREAM_KEYS = {stream[3]: stream for stream in STREAMS}  # the 4th byte tells them apart


class Envelope(Protocol):
    def unwrap(self, block: LineBlock, source: str, invalid: Counter[str]) -> LineBlock:
        """The app's lines inside a batch of raw lines from `source` (a file); bad ones counted."""
        ...

    def finish(self, source: str) -> list[bytes]:
        """The pieces of `source` still waiting for their last one, each joined as a line of its own."""
        ...


class Joiner:
    """Partial pieces held per (source, stream) until their last piece comes, in whatever batch."""

    def __init__(self, max_line: int) -> None:
        self.max_line = max_line
        self.pending: dict[tuple[str, bytes], list[bytes]] = {}
        self.dropping: set[tuple[str, bytes]] = set()  # runs already over the cap: skipped to their end

    def holds(self, source: str) -> bool:
        return any(slot[0] == source for slot in (*self.pending, *self.dropping))

    def join(self, source: str, pieces: Iterable[Piece], invalid: Counter[str]) -> list[bytes]:
        """Whole lines, in the order of their last pieces."""
        lines = []
        for stream, partial, content in pieces:
            slot = (source, stream)
            if slot in self.dropping:
                if not partial:
                    self.dropping.discard(slot)
                continue
            held = self.pending.pop(slot, None)
            if held is not None:
                held.append(content)
                if sum(map(len, held)) > self.max_line:
                    invalid[TOO_LONG] += 1
                    if partial:
                        self.dropping.add(slot)
                    continue
                content = b"".join(held)
            if partial:
                self.pending[slot] = [content] if held is None else held
            else:
                lines.append(content)
        return lines

    def finish(self, source: str) -> list[bytes]:
        self.dropping = {slot for slot in self.dropping if slot[0] != source}
        mine = [slot for slot in self.pending if slot[0] == source]
        return [b"".join(self.pending.pop(slot)) for slot in mine]


def _blank(line: bytes) -> bool:
    return not line.removeprefix(BOM).strip()


class _DockerLine(msgspec.Struct, gc=False):
    log: str
    stream: str = ""


class DockerEnvelope:
    """Docker's json-file lines: the app's line is the `log` string."""

    def __init__(self, max_line: int) -> None:
        self.joiner = Joiner(max_line)
        self.decoder = msgspec.json.Decoder(_DockerLine)

    def unwrap(self, block: LineBlock, source: str, invalid: Counter[str]) -> LineBlock:
        if len(block) and not self.joiner.holds(source):
            whole = self._whole(block)
            if whole is not None:
                return whole
        return LineBlock.join(self.joiner.join(source, self._pieces(block, invalid), invalid))

    def _whole(self, block: LineBlock) -> LineBlock | None:
        """A batch of well-formed lines, none partial, unwrapped in a few calls; None otherwise."""
        try:
            logs = [r.log for r in self.decoder.decode_lines(block.buf[block.starts[0] : block.ends[-1]])]
            if len(logs) != len(block) or not all(log.endswith("\n") for log in logs):
                return None
            data = "".join(logs).encode()
        except (msgspec.DecodeError, UnicodeEncodeError, RecursionError):
            return None
        lines, _ = LineBlock.split(data, last=False, max_line=len(data))
        return lines if len(lines) == len(logs) else None  # no newline inside a `log`

    def _pieces(self, block: LineBlock, invalid: Counter[str]) -> list[Piece]:
        pieces = []
        for line in block.lines():
            if _blank(line):
                continue
            try:
                entry = self.decoder.decode(line.removeprefix(BOM))
                content = entry.log.encode()
            except (msgspec.DecodeError, UnicodeEncodeError, RecursionError):
                invalid[BAD_ENVELOPE] += 1
                continue
            partial = not content.endswith(b"\n")
            pieces.append((entry.stream.encode(), partial, content if partial else content[:-1]))
        return pieces

    def finish(self, source: str) -> list[bytes]:
        return self.joiner.finish(source)


class CriEnvelope:
    """CRI lines (containerd, CRI-O): `<time> <stream> <P|F> <the line>`."""

    def __init__(self, max_line: int) -> None:
        self.joiner = Joiner(max_line)

    def unwrap(self, block: LineBlock, source: str, invalid: Counter[str]) -> LineBlock:
        if not len(block):
            return block
        content, streams, tags, ok = _cri_prefixes(block)
        if not ok.all():
            bad = [i for i in np.flatnonzero(~ok).tolist() if not _blank(block.line(i))]
            if bad:
                invalid[BAD_ENVELOPE] += len(bad)
        buf, starts, ends = block.buf, content[ok].tolist(), block.ends[ok].tolist()
        if not (tags[ok] == CRI_PARTIAL).any() and not self.joiner.holds(source):
            return LineBlock.join([bytes(buf[a:b]) for a, b in zip(starts, ends, strict=True)])
        pieces = [
            (STREAM_KEYS[stream], tag == CRI_PARTIAL, bytes(buf[a:b]))
            for stream, tag, a, b in zip(streams[ok].tolist(), tags[ok].tolist(), starts, ends, strict=True)
        ]
        return LineBlock.join(self.joiner.join(source, pieces, invalid))

    def finish(self, source: str) -> list[bytes]:
        return self.joiner.finish(source)


def _cri_prefixes(block: LineBlock) -> tuple[Int64s, Int64s, Int64s, npt.NDArray[np.bool_]]:
    """Where each line's content starts, its stream (a byte telling them apart), its tag byte, and
    whether its prefix is well formed: a time (a digit, a `-` after the year), `stdout` or `stderr`,
    `P` or `F`, each followed by one space. In numpy, from the first three spaces of each line (one
    scan of the batch for spaces was twice as fast as looking at a window of each line's bytes)."""
    view = np.frombuffer(block.buf, np.uint8)
    starts, ends = block.starts, block.ends
    low, high, top = int(starts[0]), int(ends[-1]), len(view) - 1
    spaces = np.flatnonzero(view[low:high] == SPACE) + low
    spaces = np.append(spaces, [high + 1] * 3)  # past every line: a line without 3 spaces fails
    first = np.searchsorted(spaces, starts)
    time_end, stream_end, tag_end = spaces[first], spaces[first + 1], spaces[first + 2]
    stream = view[np.minimum(time_end[:, None] + 1 + np.arange(6), top)]
    tags = view[np.minimum(stream_end + 1, top)].astype(np.int64)
    lead = view[np.minimum(starts, top)]
    ok = (
        (tag_end < ends)
        & (stream_end - time_end == 7)
        & (tag_end - stream_end == 2)
        & (time_end - starts >= 20)
    )
    ok &= (view[np.minimum(starts + 4, top)] == DASH) & (lead >= ord("0")) & (lead <= ord("9"))
    ok &= np.logical_or.reduce([(stream == np.frombuffer(s, np.uint8)).all(axis=1) for s in STREAMS])
    ok &= (tags == CRI_FULL) | (tags == CRI_PARTIAL)
    return tag_end + 1, stream[:, 3].astype(np.int64), tags, ok


ENVELOPES: dict[str, type[DockerEnvelope | CriEnvelope]] = {"docker": DockerEnvelope, "cri": CriEnvelope}


def envelope_for(name: str | None, max_line: int) -> Envelope | None:
    """The unwrapper of a config's `envelope` (None: lines are the app's own)."""
    return None if name is None else ENVELOPES[name](max_line)
