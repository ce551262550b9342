"""slotail's own logs: JSON lines on stderr (or plain text on a terminal).

The libraries slotail runs on log through the same handler, so with JSON on, every
line of stderr is one JSON object: aiohttp's server errors, asyncio's, Python
warnings, and an uncaught exception, each with its traceback as a field.
"""

from __future__ import annotations

import logging
import math
import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import orjson

_RESERVED = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}
LIBRARIES = ("aiohttp", "asyncio", "py.warnings")  # loggers of what slotail runs on, routed as its own
THROTTLE_S = 10.0  # what a client can make happen again and again is logged once in this long at most


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ts, level, logger, msg and any `extra=` fields."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        doc.update({k: v for k, v in record.__dict__.items() if k not in _RESERVED})
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(doc, default=str).decode()


class TextFormatter(logging.Formatter):
    """`slotail: warning: message (key=value ...)` for people at a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        extra = {k: v for k, v in record.__dict__.items() if k not in _RESERVED}
        tail = " (" + " ".join(f"{k}={v}" for k, v in extra.items()) + ")" if extra else ""
        trace = "\n" + self.formatException(record.exc_info) if record.exc_info else ""
        return f"slotail: {record.levelname.lower()}: {record.getMessage()}{tail}{trace}"


def setup(fmt: str = "auto", level: str = "info") -> None:
    """Send slotail's logs, and its libraries', to stderr as JSON, or text when `auto` and stderr is a
    terminal."""
    if fmt == "auto":
        fmt = "text" if sys.stderr.isatty() else "json"
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(TextFormatter() if fmt == "text" else JsonFormatter())
    handler.setLevel(level.upper())  # a logger set lower to see a record first (outputs.http) still obeys it
    for name in ("slotail", *LIBRARIES):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level.upper())
        logger.propagate = False
    logging.captureWarnings(True)
    if fmt == "json":
        sys.excepthook = _log_crash


def _log_crash(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    """An uncaught exception, as one record (its traceback a field) rather than a dump over many lines."""
    logging.getLogger("slotail").critical("crashed", exc_info=(kind, exc, tb))


class Throttle:
    """At most one log line every `every_s` seconds about something that may recur at a client's will."""

    def __init__(self, every_s: float = THROTTLE_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.every_s, self.clock = every_s, clock
        self._next = -math.inf
        self._left_out = 0

    def allow(self) -> int | None:
        """None if no line may be logged now; else how many were left out since the last one."""
        now = self.clock()
        if now < self._next:
            self._left_out += 1
            return None
        self._next = now + self.every_s
        left_out, self._left_out = self._left_out, 0
        return left_out
