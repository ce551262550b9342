"""Standard input as a live source (`slotail run --stdin`): lines as they come down the pipe.

A pipe cannot be reopened or sought, so it has no position to checkpoint: what was read is in the
store's checkpoint, and at the end of input the source is done (the daemon goes on serving).
"""

from __future__ import annotations

import os
import select

from slotail.sources.batch import RawBatch
from slotail.sources.lines import LineSplitter

STDIN_FD = 0


class StdinSource:
    """Lines from a pipe (or any descriptor), read as they come, never waiting for more."""

    def __init__(
        self, max_line: int, *, fd: int = STDIN_FD, name: str = "stdin", read_chunk: int = 1 << 20
    ) -> None:
        self.name, self._fd, self._chunk = name, fd, read_chunk
        self._splitter = LineSplitter(max_line)
        self._reported = 0  # splitter.too_long already put in a batch
        self._poller = select.poll()
        self._poller.register(fd, select.POLLIN)
        self._done = False
        self.bytes_read = 0
        self.error: OSError | None = None  # what ended it, if not the end of input

    @property
    def done(self) -> bool:
        """Whether the input has ended (or failed)."""
        return self._done

    def fileno(self) -> int | None:
        """The descriptor to wait on for more (None once done)."""
        return None if self._done else self._fd

    def poll(self) -> list[RawBatch]:
        """The complete lines that have come (up to about `read_chunk` bytes a call); at the end of
        input, the last line even without its newline."""
        lines: list[bytes] = []
        got = 0
        while not self._done and got < self._chunk and self._poller.poll(0):
            data = self._read()
            got += len(data)
            lines += self._splitter.feed(data) if data else self._splitter.finish()
        too_long, self._reported = self._splitter.too_long - self._reported, self._splitter.too_long
        return [RawBatch(self.name, lines, too_long, self.bytes_read)] if lines or too_long else []

    def _read(self) -> bytes:
        """What the descriptor has (b"" at the end of input, or when reading it fails)."""
        try:
            data = os.read(self._fd, self._chunk)
        except OSError as exc:
            self.error, data = exc, b""
        self._done = not data
        self.bytes_read += len(data)
        return data

    def close(self) -> None:
        """Nothing to release: standard input is the process's."""
        self._poller.unregister(self._fd)
