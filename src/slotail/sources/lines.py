"""Split a byte stream into lines, with a length cap that never holds an over-long line in memory."""

from __future__ import annotations


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
