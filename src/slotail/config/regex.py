"""Regexes from the config in linear time: RE2 (google-re2) when installed, else Python's re, bounded.

With RE2 no pattern can backtrack catastrophically, whatever the log line holds;
patterns that need what RE2 lacks (backreferences, lookaround) are rejected at
config load. RE2's `\\d \\w \\s \\b` are ASCII-only. Without google-re2, patterns
run on Python's `re` and search at most the first FALLBACK_CHARS characters of a
string, which bounds, though less tightly, the time a hostile value can take.
"""

from __future__ import annotations

import importlib
import logging
import re
from collections.abc import Callable
from typing import Any

logger = logging.getLogger("slotail.config")

FALLBACK_CHARS = 4096
Search = Callable[[str], bool]

re2: Any
try:
    re2 = importlib.import_module("re2")
except ImportError:  # google-re2 is a dependency; this is for a platform without its wheel
    re2 = None


def _options() -> Any:
    options = re2.Options()
    options.never_capture = True  # only whether it is found matters
    options.log_errors = False  # a bad pattern is reported as a config error, not on stderr
    return options


def problem(pattern: str) -> str | None:
    """Why `pattern` cannot be used (None when it can)."""
    if re2 is None:
        try:
            re.compile(pattern)
        except re.error as exc:
            return f"invalid regular expression: {exc}"
        return None
    try:
        re2.compile(pattern, _options())
    except re2.error as exc:
        reason = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else exc
        return (
            f"invalid regular expression for RE2 ({reason}); slotail runs regexes in linear time, "
            "without backreferences or lookaround"
        )
    return None


def searcher(pattern: str) -> Search:
    """A test whether `pattern` is found in a string (the pattern has passed `problem`)."""
    if re2 is None:
        search = re.compile(pattern).search
        logger.warning(
            "google-re2 is not installed: regexes run on Python's re over the first characters of a string",
            extra={"chars": FALLBACK_CHARS},
        )
        return lambda text: search(text[:FALLBACK_CHARS]) is not None
    compiled = re2.compile(pattern, _options())
    match = getattr(getattr(compiled, "_regexp", None), "Match", None)
    if match is None:  # another google-re2 layout: the public API, a little slower
        return lambda text: compiled.search(text) is not None
    unanchored, nothing = re2._Anchor.UNANCHORED, re2._NULL_SPAN

    def found(text: str) -> bool:
        data = text.encode("utf-8", "surrogatepass")
        return bool(match(unanchored, data, 0, len(data))[0] != nothing)

    return found
