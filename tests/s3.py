"""A real S3-compatible server on 127.0.0.1 for tests: moto's server mode, in a process of its own
(so what it holds never counts as the client's), and the AWS environment that points at it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from tests.sidecar import free_port, terminate, wait_until


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def moto_server() -> Iterator[str]:
    """Start moto's S3 server; yields its endpoint URL."""
    port = free_port()
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    proc = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_until(lambda: _listening(port), describe=lambda: f"moto server exited with {proc.poll()}")
        yield f"http://127.0.0.1:{port}"
    finally:
        terminate(proc)


def aws_env(endpoint: str) -> dict[str, str]:
    """This process's environment, with the variables botocore reads pointing at `endpoint`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "FSSPEC_"))}
    return env | {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_CONFIG_FILE": os.devnull,  # nothing from the machine's ~/.aws
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
