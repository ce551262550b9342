"""Split bytes into lines: a stream fed in chunks (`LineSplitter`), or a block held whole (`LineBlock`).

Either way a line over the length cap is counted and skipped, and never held in memory whole.
"""

from __future__ import annotations

import mmap

import numpy as np
import numpy.typing as npt

NEWLINE = ord("\n")
Int64s = npt.NDArray[np.int64]
Buffer = bytes | memoryview  # a block's bytes: a worker's view of the file it maps, or joined lines


class LineSplitter:
    """Feed chunks, get complete lines; a line over `max_line` bytes is counted and skipped."""

    def __init__(self, max_line: int) -> None:
        self.max_line = max_line
        self.too_long = 0
        self.consumed = 0  # bytes through the last newline seen
        self._partial: list[bytes] = []
        self._partial_len = 0
        self._skipping = False
        self._fed = 0

    @property
    def pending(self) -> int:
        """Bytes after the last newline (held, or being skipped)."""
        return self._fed - self.consumed

    def feed(self, chunk: bytes) -> list[bytes]:
        """Complete lines in `chunk` (and the partial line before it), without their newline."""
        self._fed += len(chunk)
        pieces = chunk.split(b"\n")
        tail = pieces.pop()
        lines: list[bytes] = []
        if pieces:
            self.consumed = self._fed - len(tail)
            head = self._complete(pieces[0])
            if head is None:
                del pieces[0]
            else:
                pieces[0] = head
            cap = self.max_line
            if max(map(len, pieces), default=0) <= cap:
                lines = pieces  # the usual case: no line is too long
            else:
                for piece in pieces:
                    if len(piece) > cap:
                        self.too_long += 1
                    else:
                        lines.append(piece)
        self._hold(tail)
        return lines

    def finish(self) -> list[bytes]:
        """At end of input: the last line even without a newline."""
        self.consumed = self._fed
        if self._skipping:
            self._skipping = False
            self.too_long += 1
            return []
        line = b"".join(self._partial)
        self._partial, self._partial_len = [], 0
        if not line:
            return []
        if len(line) > self.max_line:
            self.too_long += 1
            return []
        return [line]

    def _complete(self, piece: bytes) -> bytes | None:
        if self._skipping:
            self._skipping = False
            self.too_long += 1
            return None
        if not self._partial:
            return piece
        line = b"".join([*self._partial, piece])
        self._partial, self._partial_len = [], 0
        return line

    def _hold(self, tail: bytes) -> None:
        if self._skipping or not tail:
            return
        self._partial.append(tail)
        self._partial_len += len(tail)
        if self._partial_len > self.max_line:
            self._partial, self._partial_len = [], 0
            self._skipping = True


class LineBlock:
    """Lines held in one buffer, one newline apart: line i is `buf[starts[i]:ends[i]]`.

    A worker maps a block of a file and parses its batches as cuts of one `LineBlock`, so no line
    becomes a bytes object of its own unless it must be decoded on its own.
    """

    def __init__(self, buf: Buffer, starts: Int64s, ends: Int64s) -> None:
        self.buf, self.starts, self.ends = buf, starts, ends

    @staticmethod
    def join(lines: list[bytes]) -> LineBlock:
        """The block of a list of lines."""
        lengths = np.fromiter(map(len, lines), np.int64, len(lines))
        ends = np.cumsum(lengths + 1) - 1
        return LineBlock(b"\n".join(lines), ends - lengths, ends)

    @staticmethod
    def split(data: Buffer, last: bool, max_line: int) -> tuple[LineBlock, int]:
        """The lines of `data` as `data.split(b"\\n")` gives them, but for the piece after the last
        newline (kept only when `last` and not empty) and lines over `max_line` bytes (dropped, and
        counted: the second value)."""
        newlines = np.flatnonzero(np.frombuffer(data, np.uint8) == NEWLINE)
        tail = last and bool(data) and (not len(newlines) or newlines[-1] != len(data) - 1)
        ends = np.append(newlines, len(data)) if tail else newlines
        starts = np.zeros(len(ends), np.int64)
        starts[1:] = ends[:-1] + 1
        long = ends - starts > max_line
        if not long.any():
            return LineBlock(data, starts, ends), 0
        kept = [bytes(data[a:b]) for a, b in zip(starts[~long].tolist(), ends[~long].tolist(), strict=True)]
        return LineBlock.join(kept), int(np.count_nonzero(long))

    @staticmethod
    def count(data: bytes | mmap.mmap, last: bool, max_line: int, start: int = 0, end: int = -1) -> int:
        """How many lines `split` keeps of `data[start:end]` (end -1: to the end), counted without
        finding them where none can be too long."""
        end = len(data) if end < 0 else end
        step = max(max_line // 2, 1)  # then every stretch of `step` bytes holds a newline
        if not all(data.find(b"\n", i, i + step) >= 0 for i in range(start, end - step + 1, step)):
            return len(LineBlock.split(memoryview(data)[start:end], last, max_line)[0])
        tail = last and end > start and data[end - 1 : end] != b"\n"
        view = np.frombuffer(data, np.uint8, count=end - start, offset=start)
        return int(np.count_nonzero(view == NEWLINE)) + tail

    def __len__(self) -> int:
        return len(self.starts)

    def line(self, i: int) -> bytes:
        return bytes(self.buf[self.starts[i] : self.ends[i]])

    def lines(self) -> list[bytes]:
        return [bytes(self.buf[a:b]) for a, b in zip(self.starts.tolist(), self.ends.tolist(), strict=True)]

    def cut(self, first: int, end: int) -> LineBlock:
        """Lines first..end - 1, in the same buffer."""
        return LineBlock(self.buf, self.starts[first:end], self.ends[first:end])
