"""Discovery: which files the sources' globs name now, and (with inotify) when to look again.

Polling (`Discovery`) globs at every rescan of the tailer, so a file renamed out of the globs or
deleted before a rescan saw it is never read. `InotifyDiscovery` also watches the directories the
globs read: a name appearing or moving under a glob has the tailer rescan at once, and a file
renamed from a glob's name to one outside the globs (in a watched directory) is followed there,
so the tailer opens it and reads it to its end however soon it left. The tailer's periodic rescan
stays on as the safety net: inotify says nothing of writes made by other hosts on a network file
system, and its queue can overflow.
"""

from __future__ import annotations

import contextlib
import fnmatch
import glob
import logging
import os
from typing import Any, NamedTuple

from slotail.errors import SourceError

logger = logging.getLogger("slotail.sources")

Pattern = tuple[str, str]  # (source name, glob pattern); also (source name, path) of a file found
MODES = ("auto", "inotify", "poll")
WILDCARDS = "*?["


class Changes(NamedTuple):
    """What the watches saw since the last look."""

    rescan: bool  # a name under the globs appeared, moved or went (or the queue overflowed): glob now
    escaped: list[Pattern]  # (source, path) of files renamed from a glob's name to one outside the globs


NO_CHANGES = Changes(False, [])


def base_dir(pattern: str) -> str:
    """The directory a glob's files appear in, before any wildcard: `/var/log/api` for `/var/log/api/*.log`"""
    head = os.path.dirname(pattern)
    while _magic(head):
        head = os.path.dirname(head)
    return head or "."


def _magic(part: str) -> bool:
    return any(c in part for c in WILDCARDS)


def _parts(path: str) -> list[str]:
    return os.path.normpath(path).split(os.sep)


def _part_matches(pattern: str, name: str) -> bool:
    """One path component against one of a glob's, as `glob.glob` matches them (hidden names too)."""
    if not _magic(pattern):
        return pattern == name
    if name.startswith(".") and not pattern.startswith("."):
        return False
    return fnmatch.fnmatchcase(name, pattern)


def glob_matches(pattern: str, path: str) -> bool:
    """Whether `glob.glob(pattern)` would list `path` if it existed."""
    wanted, parts = _parts(pattern), _parts(path)
    return len(wanted) == len(parts) and all(map(_part_matches, wanted, parts))


class Globs:
    """The sources' glob patterns: the files they match now, and which source a path belongs to."""

    def __init__(self, patterns: list[Pattern]) -> None:
        self.patterns = patterns
        self.missing: list[str] = []  # directories of the globs that do not exist (yet), as of the last scan

    def scan(self) -> list[Pattern]:
        """(source, path) of everything the globs match now, pattern by pattern, paths sorted."""
        dirs = dict.fromkeys(base_dir(pattern) for _, pattern in self.patterns)
        self.missing = [d for d in dirs if not os.path.isdir(d)]
        return [(source, path) for source, pattern in self.patterns for path in sorted(glob.glob(pattern))]

    def source_of(self, path: str) -> str | None:
        """The source whose glob matches `path` first, if any."""
        return next((source for source, pattern in self.patterns if glob_matches(pattern, path)), None)

    def directories(self) -> list[str]:
        """Every existing directory in which a file the globs match, or a directory leading to one, may
        appear: each glob's base directory (or its nearest existing parent) and the directories its
        wildcard directory parts match."""
        dirs: dict[str, None] = {}
        for _, pattern in self.patterns:
            base = base_dir(pattern)
            if not os.path.isdir(base):
                dirs[_existing_parent(base)] = None
                continue
            dirs[base] = None
            rest = os.path.relpath(os.path.dirname(pattern) or ".", base).split(os.sep)
            for depth in range(1, len(rest) + 1) if rest != ["."] else ():
                found = glob.glob(os.path.join(base, *rest[:depth]))
                dirs.update(dict.fromkeys(d for d in sorted(found) if os.path.isdir(d)))
        return list(dirs)


def _existing_parent(path: str) -> str:
    """The nearest directory at or above `path` that exists."""
    path = os.path.abspath(path)
    while not os.path.isdir(path) and os.path.dirname(path) != path:
        path = os.path.dirname(path)
    return path


class Discovery:
    """Finds files by globbing only: nothing to watch, the tailer's rescans find every file."""

    mode = "poll"

    def __init__(self, globs: Globs) -> None:
        self.globs = globs

    @property
    def missing(self) -> list[str]:
        return self.globs.missing

    def scan(self) -> list[Pattern]:
        """(source, path) of every file the globs match now."""
        return self.globs.scan()

    def changes(self) -> Changes:
        """What changed under the globs since the last call (polling never knows)."""
        return NO_CHANGES

    def fileno(self) -> int | None:
        """A descriptor that turns readable when `changes()` has something (None: nothing to wait on)."""
        return None

    def close(self) -> None:
        """Release the watches."""


class InotifyDiscovery(Discovery):
    """Globbing, plus inotify watches on the directories the globs read."""

    mode = "inotify"

    def __init__(self, globs: Globs) -> None:
        import inotify_simple

        super().__init__(globs)
        self._flags = inotify_simple.flags
        self._inotify = inotify_simple.INotify(nonblocking=True)
        self._watches: dict[int, str] = {}  # watch descriptor -> directory
        self._moving: dict[int, Pattern] = {}  # rename cookie -> (source, old path): a file leaving a name
        self._escaped: dict[str, str] = {}  # path -> source: renamed out of the globs, not handed over
        self._rewatch = True

    def scan(self) -> list[Pattern]:
        # Watches first: a file appearing between the two is then both globbed and reported.
        if self._rewatch:
            self._watch()
        return super().scan()

    def _watch(self) -> None:
        """Watch the directories the globs read now, and only those."""
        f = self._flags
        mask = f.CREATE | f.MOVED_FROM | f.MOVED_TO | f.DELETE | f.DELETE_SELF | f.MOVE_SELF | f.ONLYDIR
        wanted = self.globs.directories()
        for wd, directory in list(self._watches.items()):
            if directory not in wanted:
                self._unwatch(wd)
        watched = set(self._watches.values())
        for directory in wanted:
            if directory not in watched:
                self._add(directory, mask)
        self._rewatch = False

    def _add(self, directory: str, mask: int) -> None:
        try:
            self._watches[self._inotify.add_watch(directory, mask)] = directory
        except OSError as exc:  # gone since, or out of watches (fs.inotify.max_user_watches): polled only
            logger.warning(
                "cannot watch a log directory; polling it", extra={"directory": directory, "error": str(exc)}
            )

    def _unwatch(self, wd: int) -> None:
        del self._watches[wd]
        with contextlib.suppress(OSError):  # the directory went, and its watch with it
            self._inotify.rm_watch(wd)

    def changes(self) -> Changes:
        carried, self._moving = self._moving, {}  # a rename's two halves come in one read, or the next
        rescan = False
        for event in self._inotify.read(timeout=0):
            rescan |= self._event(event, carried)
        escaped = [(source, path) for path, source in self._escaped.items()]
        self._escaped.clear()
        return Changes(rescan or bool(escaped), escaped)

    def _event(self, event: Any, carried: dict[int, Pattern]) -> bool:
        """Take in one event (`carried`: renames begun in the last read); returns whether to rescan."""
        f = self._flags
        if event.mask & (f.Q_OVERFLOW | f.IGNORED | f.DELETE_SELF | f.MOVE_SELF | f.ISDIR):
            if event.mask & f.IGNORED:
                self._watches.pop(event.wd, None)
            elif event.mask & f.MOVE_SELF and event.wd in self._watches:
                self._unwatch(event.wd)  # it watches the directory under its new name now
            self._rewatch = True
            return True
        directory = self._watches.get(event.wd)
        if directory is None:
            return False
        path = os.path.join(directory, event.name)
        source = self.globs.source_of(path)
        if event.mask & f.MOVED_FROM:
            origin = source or self._escaped.pop(path, None)
            if origin is not None:
                self._moving[event.cookie] = (origin, path)
        elif event.mask & f.MOVED_TO:
            moved = self._moving.pop(event.cookie, None) or carried.pop(event.cookie, None)
            if moved is not None and source is None:
                self._escaped[path] = moved[0]
        elif event.mask & f.DELETE:
            self._escaped.pop(path, None)
        return source is not None

    def fileno(self) -> int | None:
        return int(self._inotify.fileno())

    def close(self) -> None:
        self._inotify.close()


def discovery_for(globs: Globs, mode: str = "auto") -> Discovery:
    """`poll`, `inotify`, or `auto`: inotify where the kernel has it, else polling (with a warning)."""
    if mode == "poll" or not globs.patterns:
        return Discovery(globs)
    try:
        return InotifyDiscovery(globs)
    except (ImportError, OSError, AttributeError) as exc:  # not Linux, or out of inotify instances
        if mode == "inotify":
            raise SourceError(f"inotify is not available: {exc}") from None
        logger.warning("inotify is not available; polling the log directories", extra={"error": str(exc)})
        return Discovery(globs)
