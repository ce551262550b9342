"""Discovery: globs match as `glob.glob` does, and inotify has the tailer open files that appeared and
left the globs between two polls (a clock stepped by hand: no rescan is ever due unless told)."""

from __future__ import annotations

import glob
import os
import select
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slotail.config.model import SourceSpec
from slotail.errors import SourceError
from slotail.sources import discovery
from slotail.sources.discovery import Discovery, Globs, InotifyDiscovery, discovery_for, glob_matches
from slotail.sources.tail import TailSource

MAX_LINE = 4096
NAMES = st.text("ab.x", min_size=1, max_size=4).filter(lambda n: n not in {".", ".."})
PATTERNS = st.text("ab.x*?[]!", min_size=1, max_size=5).filter(lambda p: p not in {".", ".."})


@settings(max_examples=300, deadline=None)
@given(st.sets(NAMES, min_size=1, max_size=6), PATTERNS, PATTERNS)
def test_a_path_matches_a_glob_exactly_when_glob_glob_lists_it(names: set[str], top: str, leaf: str) -> None:
    """Over real directories: hidden names, brackets and wildcards in the directory part alike."""
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            (Path(tmp) / name).mkdir()
            for inner in names:
                (Path(tmp) / name / inner).touch()
        pattern = os.path.join(tmp, top, leaf)
        listed = set(glob.glob(pattern))
        for name in names:
            for inner in names:
                path = os.path.join(tmp, name, inner)
                assert glob_matches(pattern, path) == (path in listed), (pattern, path)


def test_the_watched_directories_cover_wildcard_directory_parts(tmp_path: Path) -> None:
    """`pods/*/*/*.log`: the base, and every directory each wildcard level matches now."""
    for pod in ("a", "b"):
        (tmp_path / "pods" / pod / "app").mkdir(parents=True)
    (tmp_path / "pods" / "a" / "stray.log").touch()  # a file is no directory to watch
    globs = Globs([("api", str(tmp_path / "pods" / "*" / "*" / "*.log"))])
    expected = ["pods", "pods/a", "pods/b", "pods/a/app", "pods/b/app"]
    assert globs.directories() == [str(tmp_path / d) for d in expected]


def test_a_missing_directory_is_watched_through_its_nearest_parent(tmp_path: Path) -> None:
    globs = Globs([("api", str(tmp_path / "later" / "deeper" / "*.log"))])
    assert globs.directories() == [str(tmp_path)]


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def tailer(pattern: Path, clock: FakeClock, mode: str = "inotify") -> TailSource:
    spec = SourceSpec(name="api", paths=[str(pattern)], start_at="beginning")
    # No rescan is due in these tests (rescan_s is huge): whatever is found, inotify found.
    return TailSource([spec], MAX_LINE, resume=[], clock=clock, rescan_s=1e9, grace_s=5.0, discovery=mode)


def drain(source: TailSource, clock: FakeClock, polls: int = 4) -> list[bytes]:
    got: list[bytes] = []
    for _ in range(polls):
        clock.now += 3.0  # past the grace period by the last poll: rotated files are closed
        got += [line for batch in source.poll() for line in batch.lines]
    return got


def write(path: Path, lines: list[bytes]) -> None:
    with open(path, "ab") as f:
        f.write(b"".join(line + b"\n" for line in lines))


def lines(tag: str, n: int) -> list[bytes]:
    return [f"{tag}{i:05d}".encode() for i in range(n)]


@pytest.mark.parametrize("pattern", ["api.log", "*.log"])
def test_a_file_renamed_out_of_the_globs_before_a_poll_is_read_to_its_end_once(
    tmp_path: Path, pattern: str
) -> None:
    clock = FakeClock()
    source = tailer(tmp_path / pattern, clock)
    assert source.discovery == "inotify"
    write(tmp_path / "api.log", lines("a", 100))
    os.rename(tmp_path / "api.log", tmp_path / "api.log.1")
    write(tmp_path / "api.log.1", lines("late", 5))  # after the rename, through its new name
    assert drain(source, clock) == lines("a", 100) + lines("late", 5)
    assert source.stats.rotations == 1
    assert source.tracked() == set()  # closed after the grace period
    assert source.stats.errors == {}
    source.close()


def test_a_rename_chain_is_followed_and_a_file_deleted_before_a_poll_is_no_error(tmp_path: Path) -> None:
    """api.log -> api.log.1 -> api.log.1.old, all before the poll: read once, from its last name;
    a second api.log deleted before the poll is gone, and is not a source error."""
    clock = FakeClock()
    source = tailer(tmp_path / "api.log", clock)
    write(tmp_path / "api.log", lines("a", 10))
    os.rename(tmp_path / "api.log", tmp_path / "api.log.1")
    os.rename(tmp_path / "api.log.1", tmp_path / "api.log.1.old")
    write(tmp_path / "api.log", lines("b", 10))
    os.rename(tmp_path / "api.log", tmp_path / "api.log.2")
    os.unlink(tmp_path / "api.log.2")
    assert drain(source, clock) == lines("a", 10)
    assert source.stats.errors == {}
    source.close()


def test_a_file_that_never_matched_is_never_read(tmp_path: Path) -> None:
    clock = FakeClock()
    source = tailer(tmp_path / "*.log", clock)
    write(tmp_path / "api.txt", lines("x", 3))
    os.rename(tmp_path / "api.txt", tmp_path / "api.txt.1")
    assert drain(source, clock) == []
    source.close()


def test_polling_does_not_see_what_inotify_does(tmp_path: Path) -> None:
    """The same quick rotation, no rescan due: polling never reads it (the README's limit)."""
    clock = FakeClock()
    source = tailer(tmp_path / "api.log", clock, mode="poll")
    assert source.discovery == "poll" and source.fileno() is None
    write(tmp_path / "api.log", lines("a", 10))
    os.rename(tmp_path / "api.log", tmp_path / "api.log.1")
    assert drain(source, clock) == []
    source.close()


def test_a_directory_created_later_is_watched_once_it_appears(tmp_path: Path) -> None:
    """The glob's directory does not exist at start: its parent is watched; once it appears (and a
    poll has taken that in), a file created and renamed away in it is read."""
    clock = FakeClock()
    source = tailer(tmp_path / "later" / "*" / "api.log", clock)
    assert source.missing == [str(tmp_path / "later")]
    (tmp_path / "later" / "pod").mkdir(parents=True)
    assert drain(source, clock, polls=2) == []
    assert source.missing == []
    write(tmp_path / "later" / "pod" / "api.log", lines("a", 7))
    os.rename(tmp_path / "later" / "pod" / "api.log", tmp_path / "later" / "pod" / "api.log.1")
    assert drain(source, clock) == lines("a", 7)
    source.close()


def test_its_descriptor_turns_readable_when_a_file_appears(tmp_path: Path) -> None:
    clock = FakeClock()
    source = tailer(tmp_path / "*.log", clock)
    fd = source.fileno()
    assert fd is not None
    assert select.select([fd], [], [], 0)[0] == []
    (tmp_path / "api.log").touch()
    assert select.select([fd], [], [], 1.0)[0] == [fd]
    source.poll()
    assert select.select([fd], [], [], 0)[0] == []
    source.close()


def test_without_inotify_auto_polls_and_inotify_refuses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Out of inotify instances (or not on Linux): `auto` falls back to polling, `inotify` says why."""

    def no_inotify(self: InotifyDiscovery, globs: Globs) -> None:
        raise OSError(24, "Too many open files")

    monkeypatch.setattr(InotifyDiscovery, "__init__", no_inotify)
    globs = Globs([("api", str(tmp_path / "*.log"))])
    assert type(discovery_for(globs, "auto")) is Discovery
    with pytest.raises(SourceError, match=r"inotify is not available: .*Too many open files"):
        discovery_for(globs, "inotify")
    assert discovery.MODES == ("auto", "inotify", "poll")
