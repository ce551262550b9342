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
import time
from dataclasses import astuple, dataclass, field
from pathlib import Path
from typing import Any

import orjson

from slotail.errors import SlotailError
from slotail.sources.tail import Position

SCHEMA = """
CREATE TABLE IF NOT EXISTS checkpoint (id INTEGER PRIMARY KEY CHECK (id = 1), saved_at REAL NOT NULL,
    store BLOB NOT NULL, extra BLOB NOT NULL, checksum TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS positions (source TEXT, path TEXT, dev INTEGER, ino INTEGER, "offset" INTEGER,
    head_len INTEGER, head_hash TEXT, tail_hash TEXT);
"""


class StateLocked(SlotailError):
    """Another daemon holds this state directory."""

    exit_code = 2


class CorruptCheckpoint(SlotailError):
    """The checkpoint failed its checksum or could not be decoded."""


@dataclass
class Checkpoint:
    """What a commit holds: store bytes, file positions, and JSON-able extras (totals, alerts, keys)."""

    store: bytes
    positions: list[Position]
    extra: dict[str, Any] = field(default_factory=dict)
    saved_at: float = 0.0


def _checksum(store: bytes, extra: bytes, positions: list[Position]) -> str:
    digest = hashlib.blake2b(store, digest_size=16)
    digest.update(extra)
    digest.update(orjson.dumps([astuple(p) for p in positions]))
    return digest.hexdigest()


class StateDB:
    """The state directory: a lock and one SQLite database."""

    def __init__(self, state_dir: Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self._lock = open(state_dir / "slotail.lock", "a+")  # noqa: SIM115 - held for the daemon's life
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
        self._db = self._connect()

    def _connect(self) -> sqlite3.Connection:
        # Used by one thread at a time: the start-up thread that restores, then the event loop.
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.executescript(SCHEMA)
        return db

    def load(self) -> Checkpoint | None:
        """The last committed checkpoint, None if there is none; raises CorruptCheckpoint."""
        try:
            row = self._db.execute("SELECT saved_at, store, extra, checksum FROM checkpoint").fetchone()
            rows = self._db.execute(
                'SELECT source, path, dev, ino, "offset", head_len, head_hash, tail_hash FROM positions'
            ).fetchall()
        except sqlite3.DatabaseError as exc:
            raise CorruptCheckpoint(f"cannot read {self.path}: {exc}") from None
        if row is None:
            return None
        saved_at, store, extra, checksum = row
        positions = [Position(*r) for r in rows]
        if _checksum(store, extra, positions) != checksum:
            raise CorruptCheckpoint(f"checkpoint in {self.path} fails its checksum")
        try:
            decoded = orjson.loads(extra)
        except orjson.JSONDecodeError as exc:
            raise CorruptCheckpoint(f"checkpoint extras do not decode: {exc}") from None
        return Checkpoint(store, positions, decoded, saved_at)

    def save(self, checkpoint: Checkpoint) -> float:
        """Commit a checkpoint atomically; returns the seconds it took."""
        started = time.perf_counter()
        extra = orjson.dumps(checkpoint.extra)
        checksum = _checksum(checkpoint.store, extra, checkpoint.positions)
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("DELETE FROM positions")
            db.executemany(
                'INSERT INTO positions (source, path, dev, ino, "offset", head_len, head_hash, tail_hash) '
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [astuple(p) for p in checkpoint.positions],
            )
            db.execute(
                "INSERT OR REPLACE INTO checkpoint (id, saved_at, store, extra, checksum) "
                "VALUES (1, ?, ?, ?, ?)",
                (checkpoint.saved_at or time.time(), checkpoint.store, extra, checksum),
            )
            db.execute("COMMIT")
        except BaseException:
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

    def close(self) -> None:
        self._db.close()
        self._lock.close()
