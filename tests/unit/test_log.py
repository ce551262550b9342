"""slotail's log on stderr: with JSON on, every record of every library is one JSON line."""

from __future__ import annotations

import io
import json
import logging
import sys
import warnings
from collections.abc import Iterator

import pytest

from slotail import log as slog


@pytest.fixture
def stderr(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """What `slog.setup("json")` writes, as a string buffer standing in for stderr."""
    buffer = io.StringIO()
    monkeypatch.setattr(sys, "stderr", buffer)
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    logging.captureWarnings(False)  # an earlier test's setup() may have captured them under pytest's own
    slog.setup("json", "info")
    yield buffer
    logging.captureWarnings(False)


def lines(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def _raise() -> None:
    raise RuntimeError("boom\nover two lines")


@pytest.mark.parametrize("name", ["aiohttp.server", "aiohttp.access", "aiohttp.web", "asyncio", "slotail.x"])
def test_a_librarys_exception_is_one_json_line_with_the_traceback_as_a_field(stderr, name) -> None:
    try:
        _raise()
    except RuntimeError:
        logging.getLogger(name).exception("Error handling request from %s", "127.0.0.1")
    [record] = lines(stderr)
    assert record["logger"] == name and record["level"] == "error"
    assert record["msg"] == "Error handling request from 127.0.0.1"
    assert "Traceback" in record["exc"] and "over two lines" in record["exc"]


def test_records_below_the_level_are_dropped_for_libraries_too(stderr) -> None:
    logging.getLogger("aiohttp.server").debug("noise")
    logging.getLogger("asyncio").debug("more noise")
    logging.getLogger("asyncio").warning("kept")
    assert [r["msg"] for r in lines(stderr)] == ["kept"]


def test_python_warnings_are_json_lines(stderr) -> None:
    warnings.warn_explicit("deprecated thing", UserWarning, "x.py", 1)
    [record] = lines(stderr)
    assert record["level"] == "warning" and "deprecated thing" in record["msg"]


def test_an_uncaught_exception_is_one_json_line(stderr) -> None:
    try:
        _raise()
    except RuntimeError:
        sys.excepthook(*sys.exc_info())
    [record] = lines(stderr)
    assert record["level"] == "critical" and "over two lines" in record["exc"]


def test_text_logs_keep_the_traceback_for_people(monkeypatch: pytest.MonkeyPatch) -> None:
    buffer = io.StringIO()
    monkeypatch.setattr(sys, "stderr", buffer)
    slog.setup("text", "info")
    try:
        _raise()
    except RuntimeError:
        logging.getLogger("aiohttp.server").exception("Error handling request")
    text = buffer.getvalue()
    assert text.startswith("slotail: error: Error handling request") and "RuntimeError: boom" in text
