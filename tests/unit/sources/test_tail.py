"""The live tailer: real files, real rename/truncate/unlink, a clock stepped by hand."""

from __future__ import annotations

import errno
import glob
import hashlib
import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slotail.config.model import SourceSpec
from slotail.sources import identity, positions
from slotail.sources.batch import RawBatch
from slotail.sources.positions import Position
from slotail.sources.tail import TailSource

MAX_LINE = 4096


class FakeClock:
    """Monotonic seconds that move only when a test says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Writer:
    """An application logging whole lines through one O_APPEND descriptor, as a logger does."""

    def __init__(self, path: Path, tag: str = "L") -> None:
        self.path, self.tag = path, tag
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.written: list[bytes] = []

    def write(self, n: int) -> None:
        lines = [f"{self.tag}{len(self.written) + i:06d} payload".encode() for i in range(n)]
        os.write(self.fd, b"".join(line + b"\n" for line in lines))
        self.written += lines

    def raw(self, data: bytes) -> None:
        os.write(self.fd, data)

    def close(self) -> None:
        os.close(self.fd)


def source(root: Path, pattern: str = "*.log", start_at: str = "beginning", name: str = "api") -> SourceSpec:
    return SourceSpec(name=name, paths=[str(root / pattern)], start_at=start_at)  # type: ignore[arg-type]


def tailer_for(root: Path, clock: FakeClock, **kwargs: object) -> TailSource:
    start_at = str(kwargs.pop("start_at", "beginning"))
    kwargs.setdefault("resume", [])
    return TailSource([source(root, start_at=start_at)], MAX_LINE, clock=clock, **kwargs)  # type: ignore[arg-type]


def lines_of(batches: list[RawBatch]) -> list[bytes]:
    return [line for batch in batches for line in batch.lines]


def tick(tailer: TailSource, clock: FakeClock, step: float = 1.0) -> list[bytes]:
    """Advance the clock by `step`, then poll once."""
    clock.now += step
    return lines_of(tailer.poll())


def drain(tailer: TailSource, clock: FakeClock, step: float = 1.0, quiet: int = 3) -> list[bytes]:
    """Poll until `quiet` polls in a row return nothing."""
    got: list[bytes] = []
    idle = 0
    for _ in range(10_000):
        batch = tick(tailer, clock, step)
        got += batch
        idle = 0 if batch else idle + 1
        if idle >= quiet:
            return got
    raise AssertionError("the tailer never went quiet")


# -- basics


def test_existing_and_appended_lines_are_read_once(tmp_path: Path) -> None:
    """A file is read from the start, and lines appended later arrive exactly once."""
    app, clock = Writer(tmp_path / "api.log"), FakeClock()
    app.write(5)
    tailer = tailer_for(tmp_path, clock)
    got = drain(tailer, clock)
    app.write(3)
    got += drain(tailer, clock)
    assert got == app.written
    assert tailer.stats.bytes_read == os.path.getsize(app.path)


def test_batches_carry_source_name_file_and_offset(tmp_path: Path) -> None:
    """Each batch names its config source, its file (device:inode) and the byte offset after its last line."""
    (tmp_path / "api.log").write_bytes(b"a\nbb\nccc")
    clock = FakeClock()
    tailer = TailSource([source(tmp_path, name="web")], MAX_LINE, resume=[], clock=clock)
    [batch] = tailer.poll()
    st = os.stat(tmp_path / "api.log")
    assert batch == RawBatch("web", [b"a", b"bb"], 0, 5, f"{st.st_dev}:{st.st_ino}")


def test_new_files_wait_for_the_rescan_interval(tmp_path: Path) -> None:
    """Globs are rescanned every rescan_s of the injected clock, not on every poll."""
    clock = FakeClock()
    tailer = tailer_for(tmp_path, clock, rescan_s=1.0)
    (tmp_path / "new.log").write_bytes(b"hello\n")
    assert tick(tailer, clock, 0.5) == []
    assert tick(tailer, clock, 0.5) == [b"hello"]


def test_missing_directory_matches_nothing_until_it_appears(tmp_path: Path) -> None:
    """A glob under a directory that does not exist yet is no error, and is retried at each rescan."""
    clock = FakeClock()
    tailer = TailSource([source(tmp_path / "later")], MAX_LINE, resume=[], clock=clock)
    assert tick(tailer, clock) == []
    (tmp_path / "later").mkdir()
    (tmp_path / "later" / "api.log").write_bytes(b"x\n")
    assert tick(tailer, clock) == [b"x"]
    assert tailer.stats.errors == {}


# -- start_at


def test_start_at_end_skips_existing_lines_but_reads_the_partial_last_one(tmp_path: Path) -> None:
    """On the very first start, `end` starts after the last newline; a trailing partial line is kept."""
    app, clock = Writer(tmp_path / "api.log"), FakeClock()
    app.write(3)
    app.raw(b"part")
    tailer = tailer_for(tmp_path, clock, start_at="end", resume=None)
    assert tick(tailer, clock) == []
    app.raw(b"ial\n")
    app.write(1)
    assert drain(tailer, clock) == [b"partial", app.written[-1]]


def test_start_at_end_finds_the_last_newline_far_back(tmp_path: Path) -> None:
    """The backwards search for the last newline crosses block boundaries."""
    path = tmp_path / "api.log"
    path.write_bytes(b"old\n" + b"x" * (3 * positions.SCAN_BACK))
    clock = FakeClock()
    tailer = TailSource([source(tmp_path, start_at="end")], 4 * positions.SCAN_BACK, clock=clock)
    with path.open("ab") as f:
        f.write(b"y\n")
    assert drain(tailer, clock) == [b"x" * (3 * positions.SCAN_BACK) + b"y"]


def test_start_at_beginning_reads_everything_on_first_start(tmp_path: Path) -> None:
    app, clock = Writer(tmp_path / "api.log"), FakeClock()
    app.write(3)
    tailer = tailer_for(tmp_path, clock, start_at="beginning", resume=None)
    assert drain(tailer, clock) == app.written


def test_start_at_end_does_not_apply_with_a_checkpoint(tmp_path: Path) -> None:
    """With a checkpoint (even an empty one) every file not resumed is new and read from byte 0."""
    app, clock = Writer(tmp_path / "api.log"), FakeClock()
    app.write(3)
    tailer = tailer_for(tmp_path, clock, start_at="end", resume=[])
    assert drain(tailer, clock) == app.written


def test_files_appearing_after_the_first_scan_are_read_from_zero(tmp_path: Path) -> None:
    clock = FakeClock()
    tailer = tailer_for(tmp_path, clock, start_at="end", resume=None)
    app = Writer(tmp_path / "api.log")
    app.write(4)
    assert drain(tailer, clock) == app.written


# -- partial lines and the line cap


def test_partial_line_is_held_until_its_newline_and_returned_once(tmp_path: Path) -> None:
    """Bytes after the last newline are never returned at EOF, and never counted in the offset."""
    app, clock = Writer(tmp_path / "api.log"), FakeClock()
    app.raw(b"first\nsec")
    tailer = tailer_for(tmp_path, clock)
    assert tick(tailer, clock) == [b"first"]
    assert [p.offset for p in tailer.positions()] == [6]
    assert tick(tailer, clock) == []
    app.raw(b"ond\nthi")
    assert tick(tailer, clock) == [b"second"]
    assert [p.offset for p in tailer.positions()] == [13]
    assert drain(tailer, clock) == []


def test_over_long_lines_are_counted_and_skipped(tmp_path: Path) -> None:
    """A line over max_line is counted as too long, even when it spans many reads, and skipped."""
    path, clock = tmp_path / "api.log", FakeClock()
    path.write_bytes(b"short\n" + b"x" * 1000)
    tailer = TailSource([source(tmp_path)], 100, resume=[], read_chunk=64, clock=clock)
    batches = [b for _ in range(30) for b in tailer.poll()]
    with path.open("ab") as f:
        f.write(b"x" * 1000 + b"\nafter\n" + b"y" * 101 + b"\n")
    batches += [b for _ in range(60) for b in tailer.poll()]
    assert lines_of(batches) == [b"short", b"after"]
    assert sum(b.too_long for b in batches) == 2


def test_read_chunk_caps_bytes_per_file_per_poll(tmp_path: Path) -> None:
    app, clock = Writer(tmp_path / "api.log"), FakeClock()
    app.write(100)
    tailer = tailer_for(tmp_path, clock, read_chunk=250)
    got = lines_of(tailer.poll())
    assert (tailer.stats.bytes_read, len(got)) == (250, 250 // 16)
    assert got + drain(tailer, clock) == app.written


def test_a_busy_file_does_not_starve_a_small_one(tmp_path: Path) -> None:
    """With a 50 MiB file and a small file, both make progress in the first poll."""
    line = b"B" * 99 + b"\n"
    (tmp_path / "big.log").write_bytes(line * (50 * (1 << 20) // len(line)))
    (tmp_path / "small.log").write_bytes(b"s1\ns2\n")
    clock = FakeClock()
    tailer = tailer_for(tmp_path, clock)
    got = lines_of(tailer.poll())
    assert got.count(b"B" * 99) == (1 << 20) // len(line)
    assert got.count(b"s1") == got.count(b"s2") == 1
    assert tailer.stats.bytes_read == (1 << 20) + 6
    got = lines_of(tailer.poll())
    assert len(got) == (2 << 20) // len(line) - (1 << 20) // len(line)


# -- rotation


def test_rename_and_create_loses_and_repeats_no_line(tmp_path: Path) -> None:
    """rename + create: the old file is read to its end, including lines written after the rename."""
    log, clock = tmp_path / "api.log", FakeClock()
    old = Writer(log, "O")
    old.write(10)
    tailer = tailer_for(tmp_path, clock)
    got = drain(tailer, clock)
    os.rename(log, tmp_path / "api.log.1")
    old.write(5)
    new = Writer(log, "N")
    new.write(5)
    got += tick(tailer, clock)
    old.write(5)  # the application has not reopened yet
    new.write(5)
    got += drain(tailer, clock)
    assert Counter(got) == Counter(old.written + new.written)
    assert tailer.stats.rotations == 1


def test_rotated_file_stays_open_until_idle_for_the_grace_period(tmp_path: Path) -> None:
    """The old descriptor is closed only after grace_s at EOF without growth, then forgotten."""
    log, clock = tmp_path / "api.log", FakeClock()
    old = Writer(log, "O")
    old.write(2)
    tailer = tailer_for(tmp_path, clock, grace_s=5.0)
    got = tick(tailer, clock)
    os.rename(log, tmp_path / "api.log.1")
    Writer(log, "N")
    got += tick(tailer, clock)  # t=2: rescan sees the rotation
    got += tick(tailer, clock, 4.9)
    assert len(tailer.positions()) == 2
    old.write(1)
    got += tick(tailer, clock, 4.9)  # growth restarts the grace period
    assert len(tailer.positions()) == 2
    got += tick(tailer, clock, 5.0)
    assert [p.path for p in tailer.positions()] == [str(log)]
    assert tailer.stats.files_closed == 1
    assert got == old.written


def test_rename_within_the_glob_follows_the_file(tmp_path: Path) -> None:
    """A file renamed to another watched name is the same file: nothing is read twice."""
    log, clock = tmp_path / "api.log", FakeClock()
    old = Writer(log, "O")
    old.write(3)
    tailer = TailSource([source(tmp_path, "api.log*")], MAX_LINE, resume=[], clock=clock)
    got = drain(tailer, clock)
    os.rename(log, tmp_path / "api.log.1")
    new = Writer(log, "N")
    old.write(2)
    new.write(2)
    got += drain(tailer, clock)
    assert Counter(got) == Counter(old.written + new.written)
    assert sorted(p.path for p in tailer.positions()) == [str(log), str(tmp_path / "api.log.1")]


def test_copytruncate_then_refill_past_the_old_size(tmp_path: Path) -> None:
    """copytruncate: lines only in the copy are read from it; the refilled file is read from 0."""
    log, clock = tmp_path / "api.log", FakeClock()
    app = Writer(log)
    app.write(10)
    tailer = tailer_for(tmp_path, clock)
    got = drain(tailer, clock)
    app.write(3)  # not read before the rotation: they survive only in the copy
    old_size = log.stat().st_size
    shutil.copyfile(log, tmp_path / "api.log.1")
    os.truncate(log, 0)
    app.write(30)
    assert log.stat().st_size > old_size
    got += drain(tailer, clock)
    assert Counter(got) == Counter(app.written)
    assert tailer.stats.truncations == 1


@pytest.mark.parametrize("discovery", ["poll", "inotify"])
def test_a_copy_under_the_glob_seen_before_it_is_written_is_not_read_again(
    tmp_path: Path, discovery: str
) -> None:
    """copytruncate's copy to a name the glob matches, found while still empty (inotify finds it as it
    is created; a rescan may too) and then filled: its lines are not read a second time."""
    log, clock = tmp_path / "api.log", FakeClock()
    app = Writer(log)
    app.write(20)
    tailer = TailSource([source(tmp_path)], MAX_LINE, resume=[], clock=clock, discovery=discovery)
    got = drain(tailer, clock)
    copy = tmp_path / "api-1.log"
    copy.touch()
    got += tick(tailer, clock)  # the empty copy is open now
    assert tailer.stats.files_opened == 2
    copy.write_bytes(log.read_bytes())
    os.truncate(log, 0)
    app.write(5)
    got += drain(tailer, clock)
    assert Counter(got) == Counter(app.written)
    tailer.close()


@pytest.mark.parametrize("discovery", ["poll", "inotify"])
def test_a_copy_written_in_pieces_starts_where_its_original_was_read(tmp_path: Path, discovery: str) -> None:
    """copytruncate copying in small writes (as logrotate does) to a glob name, seen half written:
    it waits until it holds what was read of the original, then reads only what follows."""
    log, clock = tmp_path / "api.log", FakeClock()
    app = Writer(log)
    app.write(100)
    tailer = TailSource([source(tmp_path)], MAX_LINE, resume=[], clock=clock, discovery=discovery)
    got = drain(tailer, clock)
    app.write(4)  # written after the last read: they will be in the copy only
    data, copy = log.read_bytes(), tmp_path / "api-1.log"
    with open(copy, "wb") as out:
        out.write(data[: len(data) // 2])
        out.flush()
        got += tick(tailer, clock, 0.5) + tick(tailer, clock, 0.5)  # found half written
        out.write(data[len(data) // 2 :])
    os.truncate(log, 0)
    app.write(5)
    got += drain(tailer, clock, step=0.5)
    assert Counter(got) == Counter(app.written)
    tailer.close()


def test_an_older_copy_that_stops_growing_is_taken_as_counted(tmp_path: Path) -> None:
    """A file holding the start of an open file, and no more for the grace period: all of it was
    read already, so it is read from its end."""
    log, clock = tmp_path / "api.log", FakeClock()
    app = Writer(log)
    app.write(100)
    tailer = tailer_for(tmp_path, clock)
    got = drain(tailer, clock)
    data, copy = log.read_bytes(), tmp_path / "api-1.log"
    copy.write_bytes(data[: len(data) // 2])
    got += drain(tailer, clock, quiet=7)  # past the grace period (5 s)
    assert Counter(got) == Counter(app.written)
    assert tailer.stats.copies == 1
    assert {p.path: p.offset for p in tailer.positions()}[str(copy)] == data.rfind(
        b"\n", 0, len(data) // 2
    ) + 1
    tailer.close()


def test_truncation_below_the_offset_restarts_from_zero(tmp_path: Path) -> None:
    """A file shorter than what was read is read again from byte 0, with its partial line dropped."""
    log, clock = tmp_path / "api.log", FakeClock()
    app = Writer(log)
    app.write(10)
    app.raw(b"never finished")
    tailer = tailer_for(tmp_path, clock)
    got = drain(tailer, clock)
    os.truncate(log, 0)
    app.write(2)
    got += drain(tailer, clock)
    assert got == app.written
    assert tailer.stats.truncations == 1


def test_delete_while_open_reads_to_the_end_then_closes(tmp_path: Path) -> None:
    """A deleted file is read through its descriptor to the end, then closed after the grace period."""
    log, clock = tmp_path / "api.log", FakeClock()
    old = Writer(log, "O")
    old.write(3)
    tailer = tailer_for(tmp_path, clock, grace_s=5.0)
    got = drain(tailer, clock)
    log.unlink()
    old.write(3)
    got += tick(tailer, clock)
    old.write(2)
    got += drain(tailer, clock, quiet=8)
    assert got == old.written
    assert tailer.positions() == []
    assert (tailer.stats.rotations, tailer.stats.files_closed) == (0, 1)
    new = Writer(log, "N")
    new.write(2)
    assert drain(tailer, clock) == new.written


# -- resume


def restart(tailer: TailSource, root: Path, clock: FakeClock, **kwargs: object) -> TailSource:
    """Simulate a daemon restart: checkpoint, close, start again from the checkpoint."""
    positions = tailer.positions()
    tailer.close()
    return tailer_for(root, clock, resume=positions, **kwargs)


def test_resume_continues_exactly_where_it_stopped(tmp_path: Path) -> None:
    """A restart from positions() loses nothing and repeats nothing, even with a partial line held."""
    log, clock = tmp_path / "api.log", FakeClock()
    app = Writer(log)
    app.write(5)
    app.raw(b"half")
    tailer = tailer_for(tmp_path, clock)
    got = drain(tailer, clock)
    app.raw(b" done\n")
    app.written.append(b"half done")
    app.write(2)  # written but not yet read at the checkpoint
    tailer = restart(tailer, tmp_path, clock)
    app.write(2)  # written while down
    got += drain(tailer, clock)
    assert got == app.written
    assert (tailer.stats.resumed, tailer.stats.resume_mismatches) == (1, 0)


def test_resume_after_a_rotation_while_down_finishes_the_old_file_first(tmp_path: Path) -> None:
    """A file renamed while down is found by inode in its directory and finished before the new file."""
    log, clock = tmp_path / "api.log", FakeClock()
    old = Writer(log, "O")
    old.write(4)
    tailer = tailer_for(tmp_path, clock, start_at="end")
    got = drain(tailer, clock)
    old.write(3)
    positions = tailer.positions()
    tailer.close()
    os.rename(log, tmp_path / "api.log.1")
    old.write(3)
    new = Writer(log, "N")
    new.write(4)
    tailer = tailer_for(tmp_path, clock, start_at="end", resume=positions)
    first = lines_of(tailer.poll())
    assert first == old.written[4:] + new.written
    got += first + drain(tailer, clock, quiet=8)
    assert Counter(got) == Counter(old.written + new.written)
    assert [p.path for p in tailer.positions()] == [str(log)]
    assert tailer.stats.resumed == 1


def test_resume_after_copytruncate_while_down_reads_the_copy(tmp_path: Path) -> None:
    """A checkpointed file truncated while down is found by content in its copy."""
    log, clock = tmp_path / "api.log", FakeClock()
    app = Writer(log)
    app.write(4)
    tailer = tailer_for(tmp_path, clock)
    got = drain(tailer, clock)
    positions = tailer.positions()
    tailer.close()
    app.write(3)
    shutil.copyfile(log, tmp_path / "api.log.1")
    os.truncate(log, 0)
    app.write(6)
    tailer = tailer_for(tmp_path, clock, resume=positions)
    got += drain(tailer, clock)
    assert Counter(got) == Counter(app.written)
    assert (tailer.stats.resumed, tailer.stats.resume_mismatches) == (1, 0)


def test_resume_rejects_a_rewritten_file(tmp_path: Path) -> None:
    """Same inode, other content: the checkpoint is dropped and counted, and the file read from 0."""
    log, clock = tmp_path / "api.log", FakeClock()
    app = Writer(log, "A")
    app.write(4)
    tailer = tailer_for(tmp_path, clock)
    drain(tailer, clock)
    positions = tailer.positions()
    tailer.close()
    os.truncate(log, 0)
    other = Writer(log, "B")
    other.write(8)
    tailer = tailer_for(tmp_path, clock, resume=positions)
    assert drain(tailer, clock) == other.written
    assert (tailer.stats.resumed, tailer.stats.resume_mismatches) == (0, 1)


def test_resume_rejects_a_replaced_or_missing_file(tmp_path: Path) -> None:
    """A checkpoint whose file is gone is dropped and counted; what is at the path now is new."""
    log, clock = tmp_path / "api.log", FakeClock()
    Writer(log, "A").write(4)
    tailer = tailer_for(tmp_path, clock)
    drain(tailer, clock)
    positions = tailer.positions()
    tailer.close()
    log.unlink()
    new = Writer(log, "B")
    new.write(2)
    ghost = Position("api", str(tmp_path / "gone" / "x.log"), 1, 2, 10, 4, "00", "00")
    tailer = tailer_for(tmp_path, clock, resume=[*positions, ghost])
    assert drain(tailer, clock) == new.written
    assert (tailer.stats.resumed, tailer.stats.resume_mismatches) == (0, 2)


@pytest.mark.parametrize("chunk", [1 << 20, 97, 1])
def test_positions_describe_the_file_exactly(tmp_path: Path, chunk: int) -> None:
    """A Position carries identity, offset and the two fingerprints, however the reads were cut."""
    log, clock = tmp_path / "api.log", FakeClock()
    data = b"".join(b"%04d\n" % i for i in range(400))
    log.write_bytes(data + b"tail")
    tailer = tailer_for(tmp_path, clock, read_chunk=chunk)
    while tailer.stats.bytes_read < len(data) + 4:
        tailer.poll()
    [pos] = tailer.positions()
    st = log.stat()
    assert (pos.source, pos.path, pos.offset) == ("api", str(log), 2000)
    assert (pos.dev, pos.ino) == (st.st_dev, st.st_ino)
    assert pos.head_len == identity.HEAD_BYTES
    assert pos.head_hash == hashlib.blake2b(data[:1024], digest_size=16).hexdigest()
    assert pos.tail_hash == hashlib.blake2b(data[-1024:], digest_size=16).hexdigest()


# -- errors


def test_permission_denied_is_counted_and_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unreadable file is counted by reason, never raised, and read from 0 once it can be opened."""
    log, clock = tmp_path / "api.log", FakeClock()
    Writer(log).write(2)
    real_open = os.open

    def deny(path: str, flags: int, *args: int) -> int:
        if str(path) == str(log):
            raise PermissionError(errno.EACCES, "denied", str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", deny)
    tailer = tailer_for(tmp_path, clock)
    assert tick(tailer, clock) == []
    assert tailer.stats.errors == {"permission_denied": 2}
    monkeypatch.setattr(os, "open", real_open)
    assert len(tick(tailer, clock)) == 2


def test_a_file_vanishing_between_glob_and_open_is_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()
    real_glob = glob.glob
    monkeypatch.setattr(glob, "glob", lambda pattern: [*real_glob(pattern), str(tmp_path / "gone.log")])
    tailer = tailer_for(tmp_path, clock)
    assert tailer.poll() == []
    assert tailer.stats.errors == {"vanished": 1}


def test_a_read_error_is_counted_and_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """EIO on a read never raises out of poll(), and no line is lost or repeated around it."""
    app, clock = Writer(tmp_path / "api.log"), FakeClock()
    app.write(3)
    tailer = tailer_for(tmp_path, clock)
    real_pread = os.pread
    failures = iter([True])

    def flaky(fd: int, n: int, offset: int) -> bytes:
        if next(failures, False):
            raise OSError(errno.EIO, "I/O error")
        return real_pread(fd, n, offset)

    monkeypatch.setattr(os, "pread", flaky)
    assert tailer.poll() == []
    assert drain(tailer, clock) == app.written
    assert tailer.stats.errors == {"io_error": 1}


def test_close_releases_every_descriptor(tmp_path: Path) -> None:
    Writer(tmp_path / "a.log").write(1)
    Writer(tmp_path / "b.log").write(1)
    tailer = tailer_for(tmp_path, FakeClock())
    tailer.close()
    assert tailer.positions() == []
    assert (tailer.stats.files_opened, tailer.stats.files_closed) == (2, 2)


# -- the law: whatever happens to the files, every complete line is returned exactly once


class World:
    """A log directory, an application writing to it, a logrotate, and a tailer that restarts."""

    def __init__(self, root: Path, discovery: str = "poll") -> None:
        self.root, self.log, self.clock, self.discovery = root, root / "api.log", FakeClock(), discovery
        self.fd = self._create()
        self.written: list[bytes] = []
        self.got: list[bytes] = []
        self.rest = b""  # the end of a line whose start has been written
        self.generation = 0
        self.tailer: TailSource | None = self._start([])
        self.saved: list[Position] = []
        self.rotated_while_down = False

    def _create(self) -> int:
        return os.open(self.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def _start(self, resume: list[Position]) -> TailSource:
        spec = source(self.root)
        return TailSource(
            [spec], MAX_LINE, resume=resume, read_chunk=97, clock=self.clock, discovery=self.discovery
        )

    def _line(self) -> bytes:
        n = len(self.written)
        line = f"{n:06d} {'y' * 24}{'z' * (n % 17)}".encode()
        self.written.append(line)
        return line

    def write(self, n: int, fd: int | None = None) -> None:
        self.finish()
        os.write(self.fd if fd is None else fd, b"".join(self._line() + b"\n" for _ in range(n)))

    def partial(self, cut: int) -> None:
        """Write a line in two pieces; the cut keeps its unique number whole in the first."""
        self.finish()
        line = self._line()
        os.write(self.fd, line[:cut])
        self.rest = line[cut:] + b"\n"

    def finish(self) -> None:
        if self.rest:
            os.write(self.fd, self.rest)
            self.rest = b""

    def poll(self, step: float = 0.5) -> None:
        if self.tailer is None:
            self.tailer = self._start(self.saved)
        self.clock.now += step
        self.got += lines_of(self.tailer.poll())

    def may_rotate(self) -> bool:
        """Polling sees one rotation per rescan; while down, one rotation in all."""
        self.finish()
        if self.tailer is None:
            if self.rotated_while_down:
                return False
            self.rotated_while_down = True
            return True
        self.poll(1.0)
        return True

    def rename(self, late: int) -> None:
        if not self.may_rotate():
            return
        self.generation += 1
        os.rename(self.log, self.root / f"api.log.{self.generation}")
        old, self.fd = self.fd, self._create()
        self.write(late, old)
        if self.tailer is not None:
            self.poll(1.0)
        self.write(late, old)
        os.close(old)

    def copytruncate(self) -> None:
        ino = self.log.stat().st_ino
        if self.tailer is None and not any(p.ino == ino and p.head_len for p in self.saved):
            return  # an empty checkpoint cannot recognise its copy
        if not self.may_rotate():
            return
        self.generation += 1
        shutil.copyfile(self.log, self.root / f"api.log.{self.generation}")
        os.truncate(self.log, 0)

    def delete(self, late: int) -> None:
        if self.tailer is None:
            return  # unread lines of a file deleted while down are gone for anyone
        self.may_rotate()
        os.unlink(self.log)
        old, self.fd = self.fd, self._create()
        self.write(late, old)
        os.close(old)
        self.settle(0.1)

    def restart(self) -> None:
        if self.tailer is not None:
            self.poll(1.0)  # a rescan first: the one rotation allowed while down must be of a file it knew
            self.saved = self.tailer.positions()
            self.tailer.close()
            self.tailer = None
            self.rotated_while_down = False

    def settle(self, step: float = 0.5) -> None:
        idle = 0
        while idle < 3:
            before = len(self.got)
            self.poll(step)
            idle = idle + 1 if len(self.got) == before else 0

    def end(self) -> None:
        self.finish()
        self.settle()
        assert self.tailer is not None
        self.tailer.close()
        os.close(self.fd)


OPS = st.lists(
    st.one_of(
        st.tuples(st.just("write"), st.integers(1, 6)),
        st.tuples(st.just("partial"), st.integers(7, 30)),
        st.tuples(st.just("poll"), st.just(0)),
        st.tuples(st.just("rename"), st.integers(0, 3)),
        st.tuples(st.just("copytruncate"), st.just(0)),
        st.tuples(st.just("delete"), st.integers(0, 3)),
        st.tuples(st.just("restart"), st.just(0)),
    ),
    max_size=40,
)


@pytest.mark.parametrize("discovery", ["poll", "inotify"])
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(OPS)
def test_every_complete_line_is_returned_exactly_once(discovery: str, ops: list[tuple[str, int]]) -> None:
    """Any mix of appends, split lines, rename, copytruncate, delete and restarts: no loss, no repeat
    (polling, and with inotify, which also opens new files and copies the moment they appear)."""
    with tempfile.TemporaryDirectory() as tmp:
        world = World(Path(tmp), discovery)
        for op, arg in ops:
            match op:
                case "write":
                    world.write(arg)
                case "partial":
                    world.partial(arg)
                case "poll":
                    world.poll()
                case "rename":
                    world.rename(arg)
                case "copytruncate":
                    world.copytruncate()
                case "delete":
                    world.delete(arg)
                case "restart":
                    world.restart()
        world.end()
        assert Counter(world.got) == Counter(world.written)
