"""HTTP responses stay bounded (/api/v1/slos carries only each alert's most recent intervals), and so does
what bad requests write to the log."""

from __future__ import annotations

import logging

from aiohttp.http_exceptions import BadHttpMessage, BadHttpMethod, LineTooLong

from slotail.outputs.http import API_INTERVALS, BadRequests, recent_intervals


def test_each_alert_keeps_only_its_most_recent_intervals() -> None:
    many = [{"start": f"t{i}", "end": f"t{i + 1}"} for i in range(API_INTERVALS * 3)]
    doc = {"slos": [{"alerts": [{"intervals": list(many)}, {"intervals": many[:2]}]}]}
    alerts = recent_intervals(doc)["slos"][0]["alerts"]
    assert alerts[0]["intervals"] == many[-API_INTERVALS:]
    assert alerts[1]["intervals"] == many[:2]


# ---- a client's malformed request: one warning line, rate-limited -----------------------------


def bad_request_record(exc: BaseException, level: int = logging.ERROR) -> logging.LogRecord:
    """What aiohttp's server logs for a request it cannot parse (`log_exception` with the exception)."""
    record = logging.LogRecord(
        "aiohttp.server", level, "web_protocol.py", 1, "Error handling request from %s", ("10.0.0.7",), None
    )
    record.exc_info = (type(exc), exc, None)
    return record


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_bad_requests_make_one_warning_without_traceback_per_interval_counting_the_rest() -> None:
    clock = Clock()
    bad = BadRequests(every_s=10, clock=clock)
    first = bad_request_record(LineTooLong(b"a" * 100, 8190))
    assert bad.filter(first)
    assert (first.levelno, first.getMessage(), first.exc_info) == (logging.WARNING, "bad HTTP request", None)
    assert first.suppressed == 0 and first.remote == "10.0.0.7"  # type: ignore[attr-defined]
    assert "\n" not in first.error and "8190" in first.error  # type: ignore[attr-defined]

    for _ in range(99):
        clock.now += 0.1
        assert not bad.filter(bad_request_record(BadHttpMethod("\x16\x03\x01"), logging.DEBUG))
    clock.now = 10.0
    later = bad_request_record(BadHttpMessage("no colon"))
    assert bad.filter(later)
    assert later.suppressed == 99  # type: ignore[attr-defined]


def test_a_handler_error_is_not_a_bad_request_and_keeps_its_traceback() -> None:
    bad = BadRequests(every_s=10, clock=Clock())
    record = bad_request_record(RuntimeError("a bug of ours"))
    assert bad.filter(record)
    assert record.levelno == logging.ERROR and record.exc_info is not None
