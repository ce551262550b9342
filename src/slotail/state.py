"""Checkpoints: the store, every file position and the cumulative counters, committed together.

One SQLite transaction (WAL, synchronous=FULL) holds them all, with a checksum
over the payload, so a restart resumes exactly where the last commit left off.
A lock file keeps a second daemon off the same state directory.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import sqlite3
import tempfile
import time
from collections.abc import Iterable
from dataclasses import astuple, dataclass, field
from pathlib import Path
from typing import Any

import orjson

from slotail.errors import SlotailError
from slotail.sources.positions import Position
from slotail.store.persist import SlotRow

SCHEMA = """
CREATE TABLE IF NOT EXISTS checkpoint (id INTEGER PRIMARY KEY CHECK (id = 1), saved_at REAL NOT NULL,
    meta BLOB NOT NULL, extra BLOB NOT NULL, checksum TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS slots (bucket_s INTEGER, slot INTEGER, tag INTEGER, counts BLOB, hist BLOB,
    checksum TEXT, PRIMARY KEY (bucket_s, slot));
CREATE TABLE IF NOT EXISTS positions (source TEXT, path TEXT, dev INTEGER, ino INTEGER, "offset" INTEGER,
    head_len INTEGER, head_hash TEXT, tail_hash TEXT);
"""


class StateLocked(SlotailError):
    """Another daemon holds this state directory."""

    exit_code = 2


class StateDirUnwritable(SlotailError):
    """The state directory cannot be created or written: a read-only filesystem, no permission."""

    exit_code = 2

    def __init__(self, state_dir: Path, exc: OSError) -> None:
        why = (exc.strerror or str(exc)).lower()
        if exc.filename and Path(exc.filename) != state_dir:
            why += f" ({exc.filename})"
        super().__init__(
            f"cannot write the state directory {state_dir}: {why}; "
            "mount a writable volume there (emptyDir) or pass --state-dir"
        )


class StateUnavailable(SlotailError):
    """The state database cannot be read right now (locked, I/O error); start-up stops."""

    exit_code = 1


class CorruptCheckpoint(SlotailError):
    """The checkpoint failed its checksum or could not be decoded."""


@dataclass
class Checkpoint:
    """What a commit holds: store rows (changed ones, or all when `full`), positions, and JSON extras."""

    meta: dict[str, Any]
    rows: Iterable[SlotRow]  # read once, when saved
    positions: list[Position]
    extra: dict[str, Any] = field(default_factory=dict)
    full: bool = False
    saved_at: float = 0.0


def _checksum(*parts: bytes) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for part in parts:
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)
    return digest.hexdigest()


def _row_checksum(row: SlotRow) -> str:
    return _checksum(f"{row.bucket_s}/{row.slot}/{row.tag}".encode(), row.counts, row.hist)


def _positions_bytes(positions: list[Position]) -> bytes:
    return orjson.dumps([astuple(p) for p in positions])


class StateDB:
    """The state directory: a lock and one SQLite database."""

    def __init__(self, state_dir: Path) -> None:
        try:
            state_dir.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=state_dir):  # SQLite creates its -wal and -shm files here
                pass
            self._lock = open(state_dir / "slotail.lock", "a+")  # noqa: SIM115 - held for the daemon's life
        except OSError as exc:
            raise StateDirUnwritable(state_dir, exc) from None
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise StateLocked(f"another slotail daemon is using {state_dir}") from None
        self._lock.seek(0)
        self._lock.truncate()
        self._lock.write(f"{os.getpid()}\n")
        self._lock.flush()
        self.path = state_dir / "slotail.db"
        self._unreadable: str | None = None  # why the file on disk could not be opened, until reset()
        try:
            self._db = self._connect()
        except sqlite3.OperationalError as exc:  # locked, no permission: not the file's fault
            raise StateUnavailable(f"cannot open {self.path}: {exc}") from None
        except sqlite3.DatabaseError as exc:  # truncated, overwritten: load() reports it, reset() clears it
            self._unreadable = f"{self.path} is not a readable SQLite database: {exc}"
            self._db = sqlite3.connect(":memory:", check_same_thread=False)

    def _connect(self) -> sqlite3.Connection:
        # Used by one thread at a time: the start-up thread that restores, then the event loop.
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.executescript(SCHEMA)
        return db

    def load(self) -> Checkpoint | None:
        """The last committed checkpoint with all its rows (None if none); raises CorruptCheckpoint."""
        if self._unreadable is not None:
            raise CorruptCheckpoint(self._unreadable)
        try:
            row = self._db.execute("SELECT saved_at, meta, extra, checksum FROM checkpoint").fetchone()
            slots = self._db.execute(
                "SELECT bucket_s, slot, tag, counts, hist, checksum FROM slots"
            ).fetchall()
            found = self._db.execute(
                'SELECT source, path, dev, ino, "offset", head_len, head_hash, tail_hash FROM positions'
            ).fetchall()
        except sqlite3.OperationalError as exc:
            if "no such" not in str(exc):  # locked, I/O error: not corruption, and maybe passing
                raise StateUnavailable(f"cannot read {self.path}: {exc}") from None
            raise CorruptCheckpoint(
                f"{self.path} is not a slotail checkpoint of this version: {exc}"
            ) from None
        except sqlite3.DatabaseError as exc:
            raise CorruptCheckpoint(f"cannot read {self.path}: {exc}") from None
        if row is None:
            return None
        saved_at, meta, extra, checksum = row
        positions = [Position(*r) for r in found]
        if _checksum(meta, extra, _positions_bytes(positions)) != checksum:
            raise CorruptCheckpoint(f"checkpoint in {self.path} fails its checksum")
        rows = [SlotRow(*r[:5]) for r in slots]
        if any(_row_checksum(r) != s[5] for r, s in zip(rows, slots, strict=True)):
            raise CorruptCheckpoint(f"a store bucket in {self.path} fails its checksum")
        try:
            return Checkpoint(orjson.loads(meta), rows, positions, orjson.loads(extra), saved_at=saved_at)
        except orjson.JSONDecodeError as exc:
            raise CorruptCheckpoint(f"checkpoint does not decode: {exc}") from None

    def save(self, checkpoint: Checkpoint) -> float:
        """Commit a checkpoint atomically; returns the seconds it took."""
        started = time.perf_counter()
        meta, extra = orjson.dumps(checkpoint.meta), orjson.dumps(checkpoint.extra)
        checksum = _checksum(meta, extra, _positions_bytes(checkpoint.positions))
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            if checkpoint.full:
                db.execute("DELETE FROM slots")
            db.executemany(
                "INSERT OR REPLACE INTO slots (bucket_s, slot, tag, counts, hist, checksum) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                ((*astuple(r), _row_checksum(r)) for r in checkpoint.rows),
            )
            db.execute("DELETE FROM positions")
            db.executemany(
                'INSERT INTO positions (source, path, dev, ino, "offset", head_len, head_hash, tail_hash) '
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [astuple(p) for p in checkpoint.positions],
            )
            db.execute(
                "INSERT OR REPLACE INTO checkpoint (id, saved_at, meta, extra, checksum) "
                "VALUES (1, ?, ?, ?, ?)",
                (checkpoint.saved_at or time.time(), meta, extra, checksum),
            )
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:  # a failed COMMIT (disk full, I/O error) has rolled back already
                db.execute("ROLLBACK")
            raise
        return time.perf_counter() - started

    def reset(self) -> None:
        """Start clean: move a bad database aside and create a new one."""
        self._db.close()
        for suffix in ("", "-wal", "-shm"):
            old = Path(f"{self.path}{suffix}")
            if old.exists():
                old.replace(f"{self.path}{suffix}.corrupt-{int(time.time())}")
        self._db = self._connect()
        self._unreadable = None

    def close(self) -> None:
        self._db.close()
        self._lock.close()
