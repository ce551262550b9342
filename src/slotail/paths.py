"""Field paths: the text a config writes (dotted, or a JSON Pointer) as the tuple of keys it names.

`user.tier` is the key `tier` inside the object at `user`. A path that starts with `/` is an
RFC 6901 JSON Pointer, for keys that hold dots themselves: `/http.response.status_code` is one
top-level key, `/attributes/http.route` the key `http.route` inside `attributes`; `~1` stands for
`/` and `~0` for `~` inside a key. Every reader of a field gets its keys from `parse_path`.
"""

from __future__ import annotations

import re
from functools import lru_cache

Path = tuple[str, ...]

_POINTER_TOKEN = re.compile(r"(?:[^~]|~[01])*")
_LABEL_CHARS = re.compile(r"[^A-Za-z0-9_]")
_CAMEL_HUMP = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")  # promtool lints camelCase label names


@lru_cache(maxsize=1024)
def parse_path(text: str) -> Path:
    """The keys a path names; ValueError saying what is wrong with a malformed one."""
    if text.startswith("/"):
        tokens = text[1:].split("/")
        for token in tokens:
            if not _POINTER_TOKEN.fullmatch(token):
                raise ValueError(
                    f"malformed JSON Pointer {text!r}: `~` must be followed by 0 or 1 (~0 is ~, ~1 is /)"
                )
        return tuple(token.replace("~1", "/").replace("~0", "~") for token in tokens)
    keys = tuple(text.split("."))
    if not all(keys):
        raise ValueError(f"expected a dotted field path (or a JSON Pointer starting with /); got {text!r}")
    return keys


def as_path(path: str | Path) -> Path:
    """A path's keys, parsing it when given as text."""
    return parse_path(path) if isinstance(path, str) else path


def format_path(keys: Path) -> str:
    """A path as a config would write it: dotted where that is unambiguous, else a JSON Pointer."""
    if all(keys) and not any("." in key for key in keys) and not keys[0].startswith("/"):
        return ".".join(keys)
    return "".join("/" + key.replace("~", "~0").replace("/", "~1") for key in keys)


def label_for(keys: Path) -> str:
    """A group field's Prometheus label name: its keys joined with `_`, other characters as `_`, in
    snake_case (`RouterName` -> `router_name`)."""
    return _CAMEL_HUMP.sub("_", _LABEL_CHARS.sub("_", "_".join(keys))).lower()
