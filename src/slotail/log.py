"""slotail's own logs: JSON lines on stderr (or plain text on a terminal)."""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

import orjson

_RESERVED = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


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
        return f"slotail: {record.levelname.lower()}: {record.getMessage()}{tail}"


def setup(fmt: str = "auto", level: str = "info") -> None:
    """Send slotail's logs to stderr as JSON, or text when `auto` and stderr is a terminal."""
    if fmt == "auto":
        fmt = "text" if sys.stderr.isatty() else "json"
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(TextFormatter() if fmt == "text" else JsonFormatter())
    root = logging.getLogger("slotail")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
