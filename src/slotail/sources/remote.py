"""Archives in object storage (`s3://`, `gs://`, `az://`, any fsspec URL), read as streams.

fsspec finds the file system a URL names: s3fs for S3 and S3-compatible servers (credentials,
region and endpoint from the usual AWS environment), gcsfs for Google Cloud Storage, adlfs for
Azure. Each is an optional extra; a URL whose package is missing says which to install. fsspec is
imported only when a URL is given, so local backfills start as fast as before.
"""

from __future__ import annotations

import contextlib
import errno
import re
from typing import Any

from slotail.errors import SourceError

URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
EXTRAS = {
    "s3": "s3",
    "s3a": "s3",
    "gs": "gcs",
    "gcs": "gcs",
    "az": "azure",
    "abfs": "azure",
    "abfss": "azure",
}


def is_url(location: str) -> bool:
    """Whether `location` is a URL (`scheme://...`) rather than a local path."""
    return URL.match(location) is not None


def _filesystem(url: str) -> tuple[Any, str]:
    """The fsspec file system of a URL, and the path within it."""
    scheme = url.split("://", 1)[0].lower()
    try:
        import fsspec

        fs, path = fsspec.core.url_to_fs(url)
        return fs, str(path)
    except ImportError:
        extra = EXTRAS.get(scheme)
        hint = f": pip install 'slotail[{extra}]'" if extra else ""
        raise SourceError(f"cannot read {url}: {scheme}:// URLs need a package not installed{hint}") from None
    except ValueError as exc:  # a scheme fsspec does not know
        raise SourceError(f"cannot read {url}: {exc}") from None


class _Remote:
    """An object open for reading; any failure of the store (network, credentials) is an OSError."""

    def __init__(self, url: str, handle: Any) -> None:
        self._url, self._handle = url, handle

    def read(self, size: int = -1, /) -> bytes:
        try:
            return bytes(self._handle.read(size))
        except OSError:
            raise
        except Exception as exc:  # botocore, aiohttp and the like: the store's own exceptions
            raise OSError(errno.EIO, f"{type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        with contextlib.suppress(Exception):  # nothing was written: there is nothing to lose
            self._handle.close()


def open_url(url: str, block_bytes: int) -> _Remote:
    """An object, fetched `block_bytes` at a time (a range a request, never the whole object)."""
    fs, path = _filesystem(url)
    try:
        return _Remote(url, fs.open(path, "rb", block_size=block_bytes, cache_type="readahead"))
    except OSError as exc:
        raise SourceError(f"cannot open {url}: {exc.strerror or exc}") from None
    except Exception as exc:
        raise SourceError(f"cannot open {url}: {type(exc).__name__}: {exc}") from None


def glob_url(pattern: str) -> list[str]:
    """The URLs of the objects a URL with wildcards matches, sorted."""
    fs, path = _filesystem(pattern)
    try:
        found = fs.glob(path, detail=True)
    except Exception as exc:
        raise SourceError(f"cannot list {pattern}: {type(exc).__name__}: {exc}") from None
    return sorted(str(fs.unstrip_protocol(p)) for p, info in found.items() if info.get("type") != "directory")


def url_size(url: str) -> int | None:
    """An object's stored size (None when the store cannot say)."""
    fs, path = _filesystem(url)
    try:
        size = fs.size(path)
    except Exception:
        return None
    return int(size) if size is not None else None
