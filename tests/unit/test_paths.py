"""Field paths: dotted text or RFC 6901 JSON Pointers to tuples of keys, and back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slotail.paths import format_path, label_for, parse_path


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("status", ("status",)),
        ("http.response.status", ("http", "response", "status")),
        ("@timestamp", ("@timestamp",)),
        ("/http.response.status_code", ("http.response.status_code",)),
        ("/attributes/http.route", ("attributes", "http.route")),
        ("/a~1b", ("a/b",)),
        ("/a~0b", ("a~b",)),
        ("/~01", ("~1",)),  # ~0 first gives ~, then the 1 stays: RFC 6901's order of unescaping
        ("/any", ("any",)),
        ("/", ("",)),
        ("/a//b", ("a", "", "b")),
    ],
)
def test_paths_name_these_keys(text: str, keys: tuple[str, ...]) -> None:
    """Dotted paths split on dots; a path starting with `/` is a JSON Pointer, whose keys keep their dots."""
    assert parse_path(text) == keys


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "dotted field path"),
        ("a..b", "dotted field path"),
        (".a", "dotted field path"),
        ("a.", "dotted field path"),
        ("/a~2", "malformed JSON Pointer"),
        ("/a~", "malformed JSON Pointer"),
        ("/~x/b", "malformed JSON Pointer"),
    ],
)
def test_malformed_paths_say_why(text: str, message: str) -> None:
    """An empty dotted step, or a `~` not followed by 0 or 1 in a pointer, is an error saying so."""
    with pytest.raises(ValueError, match=message):
        parse_path(text)


@given(st.lists(st.text(min_size=0, max_size=8), min_size=1, max_size=4))
def test_a_formatted_path_parses_back_to_its_keys(keys: list[str]) -> None:
    """Any keys (dots, slashes, tildes, empty ones) written by `format_path` read back the same."""
    assert parse_path(format_path(tuple(keys))) == tuple(keys)


def test_plain_keys_are_written_dotted_and_the_rest_as_pointers() -> None:
    """Dotted where unambiguous, so messages read as the config does."""
    assert format_path(("user", "tier")) == "user.tier"
    assert format_path(("http.route",)) == "/http.route"
    assert format_path(("attributes", "a.b/c")) == "/attributes/a.b~1c"


@pytest.mark.parametrize(
    ("keys", "label"),
    [
        (("user", "tier"), "user_tier"),
        (("http.response.status_code",), "http_response_status_code"),
        (("attributes", "http.route"), "attributes_http_route"),
        (("k8s-pod", "name/x"), "k8s_pod_name_x"),
    ],
)
def test_label_names_join_keys_with_underscores(keys: tuple[str, ...], label: str) -> None:
    """Keys joined with `_`, and every character outside [A-Za-z0-9_] replaced by `_`."""
    assert label_for(keys) == label
