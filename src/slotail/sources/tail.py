"""The live source: tail log files through rename, copytruncate and delete, losing and repeating no line.

Which files (discovery: globs, and inotify where the kernel has it), which file is which (identity:
device, inode and fingerprints) and where each has been read to (positions) are modules of their
own; this one reads the files and follows them.
"""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from slotail.sources.batch import RawBatch
from slotail.sources.discovery import Globs, Pattern, discovery_for
from slotail.sources.identity import COPY_MIN_HEAD, HEAD_BYTES, Key, digest, identify, last_bytes, matches
from slotail.sources.lines import LineSplitter
from slotail.sources.positions import Position, after_last_newline


class Spec(Protocol):
    """What the tailer reads of a config source (config.model.SourceSpec), without importing config/,
    whose models reach every later stage."""

    @property
    def name(self) -> str: ...

    @property
    def paths(self) -> list[str]: ...

    @property
    def start_at(self) -> str: ...


@dataclass
class TailStats:
    """Counters for the daemon's own health metrics."""

    bytes_read: int = 0
    rotations: int = 0
    truncations: int = 0
    files_opened: int = 0
    files_closed: int = 0
    resumed: int = 0
    resume_mismatches: int = 0
    copies: int = 0  # new files found to be copies of open ones
    errors: dict[str, int] = field(default_factory=dict)


_REASONS = {
    errno.ENOENT: "vanished",
    errno.ESTALE: "vanished",
    errno.EACCES: "permission_denied",
    errno.EPERM: "permission_denied",
    errno.EIO: "io_error",
}


def _reason(exc: OSError) -> str:
    """A short label for an OS error, for the `errors` counter."""
    if exc.errno in _REASONS:
        return _REASONS[exc.errno]
    return errno.errorcode.get(exc.errno or 0, "oserror").lower()


def _describe(entry: os.DirEntry[str]) -> tuple[str, int, int] | None:
    """(path, inode, size) of a regular file; None for anything else, or one that just vanished."""
    try:
        if entry.is_file():
            st = entry.stat()
            return (entry.path, st.st_ino, st.st_size)
    except OSError:
        pass
    return None


class _File:
    """One open file: its descriptor, how far it has been read, and its fingerprints."""

    def __init__(self, source: str, path: str, fd: int, key: Key, max_line: int, now: float) -> None:
        self.source, self.path, self.fd, self.key = source, path, fd, key
        self.max_line = max_line
        self.watched = True  # at a path the globs match
        self.undecided = False  # new, and perhaps an open file's copy still being written: not read yet
        self.seen_size = 0  # its size when last looked at, while undecided
        self.active_at = now  # last growth, or when it left the watched paths
        self.at_eof = False
        self.restart(0, b"", b"")

    @property
    def file_key(self) -> str:
        """The file's identity as text (device:inode)."""
        return f"{self.key[0]}:{self.key[1]}"

    def restart(self, base: int, head: bytes, tail: bytes) -> None:
        """Read on from `base`, whose preceding bytes end with `tail`; `head` covers at least them."""
        self.base = base
        self.splitter = LineSplitter(self.max_line)
        self.reported = 0  # splitter.too_long already put in a batch
        self.head = head  # the file's first bytes, covering [0, min(read_pos, HEAD_BYTES)) at least
        self.tail = tail  # the last HEAD_BYTES bytes before offset
        self.recent = tail  # the last HEAD_BYTES bytes before read_pos

    def resume_at(self, pos: Position, tail: bytes) -> None:
        """Read on from `pos.offset` of a file found to be `pos`'s (`tail`: the bytes before it)."""
        self.restart(pos.offset, os.pread(self.fd, max(pos.head_len, min(pos.offset, HEAD_BYTES)), 0), tail)

    @property
    def offset(self) -> int:
        return self.base + self.splitter.consumed

    @property
    def read_pos(self) -> int:
        return self.offset + self.splitter.pending

    def take(self, data: bytes) -> list[bytes]:
        """Complete lines from `data`, the bytes at read_pos; fingerprints follow along."""
        pos, before = self.read_pos, self.offset
        if len(self.head) < HEAD_BYTES:
            self.head += data[len(self.head) - pos : HEAD_BYTES - pos]
        lines = self.splitter.feed(data)
        if self.offset > before:
            self.tail = last_bytes(self.recent, data, self.offset - pos)
        self.recent = last_bytes(self.recent, data, len(data))
        return lines

    def too_long(self) -> int:
        """Over-long lines skipped since the last call."""
        count, self.reported = self.splitter.too_long - self.reported, self.splitter.too_long
        return count

    def position(self) -> Position:
        """A checkpoint of this file covering every line returned so far."""
        dev, ino = self.key
        head, tail = digest(self.head), digest(self.tail)
        return Position(self.source, self.path, dev, ino, self.offset, len(self.head), head, tail)


class TailSource:
    """The live files a config's sources name; each `poll()` returns the complete lines that arrived."""

    def __init__(
        self,
        sources: Sequence[Spec],
        max_line: int,
        *,
        resume: list[Position] | None = None,
        read_chunk: int = 1 << 20,
        rescan_s: float = 1.0,
        grace_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        discovery: str = "poll",
    ) -> None:
        """`discovery`: `poll` (glob every `rescan_s`), `inotify` (and glob when a directory changes,
        and every `rescan_s` still), or `auto` (inotify where the kernel has it)."""
        patterns = [(spec.name, pattern) for spec in sources for pattern in spec.paths]
        self._discovery = discovery_for(Globs(patterns), discovery)
        self._max_line, self._chunk = max_line, read_chunk
        self._rescan_s, self._grace_s, self._clock = rescan_s, grace_s, clock
        self._files: dict[Key, _File] = {}
        self.stats = TailStats()
        self.finished: list[Position] = []  # files read to their end and closed, until taken
        self._scanned_at = now = clock()
        found = self._glob()
        # Content-verified claims first, so an empty checkpoint cannot take a file by a reused inode.
        for pos in sorted(resume or [], key=lambda p: -p.head_len):
            self._resume(pos, found, now)
        # start_at applies only on the very first start; with a checkpoint every other file is new.
        at_end = {s.name for s in sources if s.start_at == "end"} if resume is None else set()
        self._admit(found, now, at_end)
        self._follow(self._discovery.changes().escaped, now, at_end)

    @property
    def discovery(self) -> str:
        """How files are found: `inotify` or `poll`."""
        return self._discovery.mode

    @property
    def missing(self) -> list[str]:
        """Directories of the globs that do not exist (yet), as of the last scan."""
        return self._discovery.missing

    @property
    def done(self) -> bool:
        """Never: live files may always grow, and new ones appear."""
        return False

    def fileno(self) -> int | None:
        """A descriptor that turns readable when a file appears or moves (None when polling only)."""
        return self._discovery.fileno()

    def poll(self) -> list[RawBatch]:
        """One round: rescan the globs when due (or told to), read each open file once, close idle ones."""
        now = self._clock()
        changes = self._discovery.changes()
        if changes.rescan or now - self._scanned_at >= self._rescan_s:
            self._rescan(now)
        self._follow(changes.escaped, now, set())
        batches = [self._read(f, now) for f in list(self._files.values())]
        batches += self._reap(now)
        return [batch for batch in batches if batch is not None]

    def positions(self) -> list[Position]:
        """Where every open file is, consistent with all the lines returned so far."""
        # A deleted file is left out: no restart could find it, and its inode may be reused.
        return [f.position() for f in self._files.values() if self._links(f) > 0]

    def tracked(self) -> set[Key]:
        """Identities of the files open now (a warm start leaves these to the tailer)."""
        return set(self._files)

    def close(self) -> None:
        """Close every descriptor, and the watches."""
        for key in list(self._files):
            self._close(key)
        self._discovery.close()

    # -- finding files

    def _glob(self) -> dict[Key, Pattern]:
        """The regular files the globs match now: identity -> (source, path)."""
        found: dict[Key, Pattern] = {}
        for source, path in self._discovery.scan():
            key = self._identify(path)
            if key is not None:
                found.setdefault(key, (source, path))
        return found

    def _identify(self, path: str) -> Key | None:
        try:
            return identify(path)
        except OSError as exc:
            self._error(exc)
            return None

    def _follow(self, escaped: list[Pattern], now: float, at_end: set[str]) -> None:
        """Open the files renamed out of the globs before a rescan saw them, to read them to their end."""
        for source, path in escaped:
            try:
                key = identify(path)
            except OSError:
                continue  # renamed again or deleted since: its lines went with it
            if key is None or key in self._files:
                continue
            f = self._open(source, path, now, source in at_end)
            if f is not None:
                f.watched = False
                self.stats.rotations += 1

    def _rescan(self, now: float) -> None:
        self._scanned_at = now
        found = self._glob()
        owners = {path: key for key, (_, path) in found.items()}
        for key, f in self._files.items():
            self._relocate(f, found.get(key), owners, now)
        self._admit(found, now, set())

    def _relocate(self, f: _File, where: Pattern | None, owners: dict[str, Key], now: float) -> None:
        """Follow a file to its watched path, or note that it left them (renamed or deleted)."""
        if where is not None:
            if f.watched and where[1] != f.path:
                self.stats.rotations += 1  # renamed to another watched name
            f.path, f.watched = where[1], True
            return
        if not f.watched:
            return
        f.watched, f.active_at = False, now
        if owners.get(f.path, f.key) != f.key or self._links(f) > 0:
            self.stats.rotations += 1

    def _links(self, f: _File) -> int:
        try:
            return os.fstat(f.fd).st_nlink
        except OSError as exc:
            self._error(exc)
            return 0

    def _admit(self, found: dict[Key, Pattern], now: float, at_end: set[str]) -> None:
        """Open the watched files not yet open."""
        for key, (source, path) in found.items():
            if key not in self._files:
                self._open(source, path, now, source in at_end)

    def _open(self, source: str, path: str, now: float, at_end: bool) -> _File | None:
        """Open and track a file; None when it cannot be opened or is open already."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as exc:
            self._error(exc)
            return None
        try:
            st = os.fstat(fd)
            f = _File(source, path, fd, (st.st_dev, st.st_ino), self._max_line, now)
            if at_end:
                self._skip_to_end(f, st.st_size)
            else:
                f.undecided = True  # where to start is decided when its first bytes tell
        except OSError as exc:
            self._error(exc)
            os.close(fd)
            return None
        return f if self._track(f) else None

    def _decide(self, f: _File, now: float) -> bool:
        """Whether a new file can be read yet, and from where.

        While its bytes so far are the start of an open file that has been read further, it may be
        that file's copy (copytruncate's) being written: it waits until it holds what was read (then
        `_start_copy` starts it there), its bytes part ways (a new file: from 0), or it stops growing
        for the grace period (an older copy, all counted: from its end)."""
        size = os.fstat(f.fd).st_size
        if size != f.seen_size:
            f.seen_size, f.active_at = size, now
        copying = [g for g in self._files.values() if g is not f and self._copying(f, g, size)]
        if copying and now - f.active_at < self._grace_s:
            return False
        f.undecided = False
        if copying:
            self._skip_to_end(f, size)
            self.stats.copies += 1
        else:
            self._start_copy(f, size)
        return True

    def _copying(self, f: _File, g: _File, size: int) -> bool:
        """Whether `f`'s `size` bytes are the start of `g`, which has been read further."""
        if len(g.head) < COPY_MIN_HEAD or size >= g.offset:
            return False
        if os.pread(f.fd, min(size, HEAD_BYTES), 0) != g.head[:size]:
            return False
        start = max(0, size - HEAD_BYTES)
        return size <= HEAD_BYTES or os.pread(f.fd, size - start, start) == os.pread(
            g.fd, size - start, start
        )

    def _start_copy(self, f: _File, size: int) -> None:
        """A new file holding an open file's content (copytruncate's copy under the glob) starts where
        that file has been read to, or at its end if it is an older snapshot: never at 0."""
        for g in list(self._files.values()):
            if len(g.head) < COPY_MIN_HEAD or g.key == f.key:
                continue
            pos = g.position()
            tail = matches(f.fd, pos)
            if tail is not None:
                f.resume_at(pos, tail)
            elif size < pos.offset and os.pread(f.fd, len(g.head), 0) == g.head:
                self._skip_to_end(f, size)
            else:
                continue
            self.stats.copies += 1
            return

    def _skip_to_end(self, f: _File, size: int) -> None:
        """Start just after the last newline, so a partial last line is still read once completed."""
        base = after_last_newline(f.fd, size)
        start = max(0, base - HEAD_BYTES)
        f.restart(base, os.pread(f.fd, HEAD_BYTES, 0), os.pread(f.fd, base - start, start))

    def _track(self, f: _File) -> bool:
        if f.key in self._files:  # the path was replaced by a file already open
            os.close(f.fd)
            return False
        self._files[f.key] = f
        self.stats.files_opened += 1
        return True

    # -- resuming from a checkpoint, and finding copytruncate's copy

    def _resume(self, pos: Position, found: dict[Key, Pattern], now: float) -> None:
        f = self._locate(pos, self._candidates(pos, found), now)
        if f is None:
            self.stats.resume_mismatches += 1
            return
        where = found.get(f.key)
        f.watched = where is not None
        if where is not None:
            f.source = where[0]
        self._track(f)
        self.stats.resumed += 1

    def _candidates(self, pos: Position, found: dict[Key, Pattern]) -> list[str]:
        """Paths that may hold `pos`'s file: its inode first, then (by content) its directory."""
        same = [path for key, (_, path) in found.items() if key == (pos.dev, pos.ino)]
        entries = self._entries(os.path.dirname(pos.path) or ".")
        same += [path for path, ino, _ in entries if ino == pos.ino]
        # A checkpoint with no head says nothing about content; only its own inode can be it.
        others = [path for path, ino, size in entries if ino != pos.ino and size >= pos.offset]
        return list(dict.fromkeys(same + (others if pos.head_len else [])))

    def _entries(self, directory: str) -> list[tuple[str, int, int]]:
        """(path, inode, size) of the regular files in `directory`."""
        try:
            with os.scandir(directory) as it:
                entries = list(it)
        except OSError as exc:
            self._error(exc)
            return []
        return sorted(row for entry in entries if (row := _describe(entry)) is not None)

    def _locate(self, pos: Position, paths: list[str], now: float) -> _File | None:
        """The first of `paths` whose content is `pos`'s file, opened at `pos.offset`."""
        for path in paths:
            f = self._probe(path, pos, now)
            if f is not None:
                return f
        return None

    def _probe(self, path: str, pos: Position, now: float) -> _File | None:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as exc:
            self._error(exc)
            return None
        try:
            f = self._verified(fd, path, pos, now)
        except OSError as exc:
            self._error(exc)
            f = None
        if f is None:
            os.close(fd)
        return f

    def _verified(self, fd: int, path: str, pos: Position, now: float) -> _File | None:
        st = os.fstat(fd)
        key = (st.st_dev, st.st_ino)
        tail = None if key in self._files else matches(fd, pos)
        if tail is None:
            return None
        f = _File(pos.source, path, fd, key, self._max_line, now)
        f.resume_at(pos, tail)
        f.undecided = not pos.offset  # nothing of it was read: still new
        return f

    def _truncated(self, f: _File, now: float) -> None:
        """Restart a truncated file from 0, first adopting its copy (copytruncate) to finish the old lines."""
        self.stats.truncations += 1
        pos = f.position()
        if pos.head_len and not self._adopt_undecided(pos):
            copy = self._locate(pos, self._candidates(pos, {}), now)
            if copy is not None:
                copy.watched = False
                self._track(copy)
                self._scanned_at = -float("inf")  # learn at once whether the copy is watched
        f.restart(0, b"", b"")

    def _adopt_undecided(self, pos: Position) -> bool:
        """Whether a new file not read yet is the copy of the file `pos` describes (found while it was
        being written), now started where that file had been read to."""
        for g in self._files.values():
            tail = matches(g.fd, pos) if g.undecided else None
            if tail is not None:
                g.resume_at(pos, tail)
                g.undecided = False
                self.stats.copies += 1
                return True
        return False

    # -- reading

    def _read(self, f: _File, now: float) -> RawBatch | None:
        """At most one chunk from `f`, as a batch when it completes a line."""
        try:
            if f.undecided and not self._decide(f, now):
                f.at_eof = True
                return None
            data = self._fetch(f, now)
        except OSError as exc:
            self._error(exc)
            f.at_eof = True
            return None
        f.at_eof = len(data) < self._chunk
        if not data:
            return None
        f.active_at = now
        self.stats.bytes_read += len(data)
        lines = f.take(data)
        too_long = f.too_long()
        if not lines and not too_long:
            return None
        return RawBatch(f.source, lines, too_long, f.offset, f.file_key)

    def _fetch(self, f: _File, now: float) -> bytes:
        """The next chunk at read_pos, after checking (before and after reading) for a truncation."""
        size = os.fstat(f.fd).st_size
        if size < f.read_pos:
            self._truncated(f, now)
        data = os.pread(f.fd, min(self._chunk, size - f.read_pos), f.read_pos)
        # Checked after the read: a truncate and refill racing it then discards the chunk.
        if f.head and os.pread(f.fd, len(f.head), 0) != f.head:
            self._truncated(f, now)
            data = os.pread(f.fd, self._chunk, 0)
        return data

    def _reap(self, now: float) -> list[RawBatch | None]:
        """Close files that left the watched paths and idled at EOF for the grace period.

        Nothing will complete their last line now, so it ends at EOF, as in an archive.
        """
        batches: list[RawBatch | None] = []
        for key, f in list(self._files.items()):
            if not f.watched and f.at_eof and now - f.active_at >= self._grace_s:
                lines, too_long = f.splitter.finish(), f.too_long()
                if lines or too_long:
                    batches.append(RawBatch(f.source, lines, too_long, f.offset, f.file_key))
                self.finished.append(f.position())
                self._close(key)
        return batches

    def _close(self, key: Key) -> None:
        f = self._files.pop(key)
        try:
            os.close(f.fd)
        except OSError as exc:
            self._error(exc)
        self.stats.files_closed += 1

    def _error(self, exc: OSError) -> None:
        reason = _reason(exc)
        self.stats.errors[reason] = self.stats.errors.get(reason, 0) + 1
