"""Archives behind URLs: which arguments are URLs, what a missing store package says, and an S3 object
(moto's server on 127.0.0.1) read as a stream, never whole in memory."""

from __future__ import annotations

import os
import tracemalloc
from collections.abc import Iterator

import fsspec
import pytest

from slotail.errors import SourceError
from slotail.sources import remote
from slotail.sources.archive import ArchiveSource, expand, is_local, stored_size
from slotail.sources.remote import is_url
from tests.s3 import aws_env, moto_server

MiB = 1 << 20


def test_urls_are_told_from_local_paths() -> None:
    for url in ("s3://b/k.gz", "gs://b/k", "az://c/k", "abfs://c@a/k", "file:///tmp/x", "S3://b/k"):
        assert is_url(url) and not is_local(url)
    for path in ("api.log", "/var/log/api.log", "./s3:/x", "C:/logs/x", "-", "s3:/b/k"):
        assert not is_url(path)
    assert not is_local("-")


def test_a_scheme_whose_package_is_missing_names_the_extra_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def missing(url: str) -> None:
        raise ImportError("Install gcsfs to access Google Storage")

    monkeypatch.setattr(fsspec.core, "url_to_fs", missing)
    with pytest.raises(SourceError, match=r"pip install 'slotail\[gcs\]'"):
        list(ArchiveSource("gs://bucket/api.log.gz", 1 << 20).batches())


def test_an_unknown_scheme_is_a_source_error() -> None:
    with pytest.raises(SourceError, match="nosuch://"):
        expand("nosuch://bucket/*.gz")


@pytest.fixture(scope="module")
def s3() -> Iterator[str]:
    """A bucket on moto's S3 server, with the AWS environment pointing at it."""
    with moto_server() as endpoint:
        saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(aws_env(endpoint))
        try:
            fsspec.filesystem("s3", skip_instance_cache=True).mkdir("stream")
            yield "s3://stream"
        finally:
            os.environ.clear()
            os.environ.update(saved)


def test_an_object_is_read_as_a_stream_never_whole(s3: str) -> None:
    """32 MiB of lines: the first batch comes after a few MiB of it, and reading all of it never holds
    more than a fraction of it (objects are fetched a range at a time, and decompressed as they come)."""
    line = b'{"event":"req","pad":"' + b"p" * 90 + b'"}\n'
    count = 32 * MiB // len(line)
    fs = fsspec.filesystem("s3", skip_instance_cache=True)
    fs.pipe(f"{s3}/big.log", line * count)
    url = f"{s3}/big.log"
    assert expand(f"{s3}/*.log") == [url] and stored_size(url) == count * len(line)
    tracemalloc.start()
    try:
        archive = ArchiveSource(url, 1 << 20)
        [first] = archive.poll()
        assert first.raw_offset <= 2 * MiB
        read = len(first.lines)
        while not archive.done:
            read += sum(len(batch.lines) for batch in archive.poll())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert read == count
    assert peak < 16 * MiB, f"{peak / MiB:.1f} MiB held at once"


def test_remote_failures_while_reading_are_os_errors() -> None:
    """The store's own exceptions (botocore's, aiohttp's) reach the reader as OSError, which it reports."""

    class Broken:
        def read(self, size: int = -1) -> bytes:
            raise RuntimeError("connection reset by peer")

        def close(self) -> None:
            pass

    with pytest.raises(OSError, match="connection reset"):
        remote._Remote("s3://b/k", Broken()).read(10)
