"""Config regexes run in linear time (RE2): a hostile value cannot stall the pipeline; RE2-less patterns are
rejected at load with their key path."""

from __future__ import annotations

import time

import pytest

from slotail.config import load_config_text
from slotail.config.regex import problem, searcher
from slotail.errors import ConfigError

pytest.importorskip("re2")


def test_a_catastrophic_pattern_on_a_hostile_value_takes_linear_time() -> None:
    """`(a+)+$` against 100k a's and a `!` backtracks for ever in Python's re; here it is instant."""
    found = searcher(r"(a+)+$")
    started = time.perf_counter()
    assert not found("a" * 100_000 + "!")
    assert found("xaaaa")
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        (r"^/api/(guides|bookings)/\d+$", "/api/guides/42", True),
        (r"^/api/(guides|bookings)/\d+$", "/api/guides/x", False),
        (r"(?i)timeout", "Upstream TIMEOUT", True),
        ("é$", "café", True),
        ("^caf.$", "café", True),  # . is one character, not one byte
        ("x", "", False),
    ],
)
def test_search_semantics(pattern: str, text: str, expected: bool) -> None:
    assert searcher(pattern)(text) is expected


@pytest.mark.parametrize("pattern", [r"(a)\1", r"foo(?=bar)", r"(?<!x)y", "(unclosed"])
def test_patterns_re2_cannot_run_are_rejected_at_load_with_key_path_and_line(pattern: str, capfd) -> None:
    text = (
        f"slos:\n  - name: s\n    objective: 99\n    sli:\n      events: {{path: {{regex: '{pattern}'}}}}\n"
    )
    with pytest.raises(ConfigError) as error:
        load_config_text(text)
    message = str(error.value)
    assert "line 5: slos[0].sli.events.path.regex: invalid regular expression for RE2" in message
    assert problem(pattern) is not None
    assert capfd.readouterr().err == ""  # RE2's own logging is off: errors are reported, not printed
