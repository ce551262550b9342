"""`slotail backfill s3://bucket/prefix/*.gz` against a real S3-compatible server (moto's server mode,
on 127.0.0.1), credentials and endpoint from the usual AWS environment: the same JSON as the same
files read locally, and the oracle's numbers."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zstandard

from tests.golden import check_document
from tests.s3 import aws_env, moto_server
from tests.scenarios import CONFIG, generate, lines, write
from tests.sidecar import Sidecar, Truth, config_text, observed, wait_until

pytestmark = pytest.mark.integration
HOUR = 3600
BUCKET = "logs"
PREFIX = "api/2026-02-19"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture(scope="module")
def bucket(endpoint: str) -> Any:
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=BUCKET)
    return client


def backfill(
    config: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    cmd = [sys.executable, "-m", "slotail", "backfill", "--config", str(config), "--format", "json", *args]
    return subprocess.run(cmd, capture_output=True, timeout=300, env=env)


def test_an_s3_glob_reads_as_the_same_files_do_locally(tmp_path: Path, endpoint: str, bucket: Any) -> None:
    """Six hours with an outage, split over three .gz objects under a prefix (with a decoy object
    beside them and another prefix the glob must not reach): the JSON from s3://logs/api/.../*.gz
    equals the JSON from the local files, byte for byte, and the oracle's numbers; progress and
    --workers work with URLs."""
    config = tmp_path / "slotail.yaml"
    config.write_text(CONFIG)

    def down(t: float) -> float:
        return 1.0 if 3 * HOUR <= t < 3 * HOUR + 20 * 60 else 0.001

    scenario = generate(6 * HOUR, rate=3.0, seed=5, error=down, job_error=down)
    all_lines = lines(scenario)
    third = len(all_lines) // 3
    chunks = [all_lines[:third], all_lines[third : 2 * third], all_lines[2 * third :]]
    parts = [write(tmp_path / f"api.log.{i}.gz", chunk, "gzip") for i, chunk in enumerate(chunks)]
    for part in parts:
        bucket.put_object(Bucket=BUCKET, Key=f"{PREFIX}/{part.name}", Body=part.read_bytes())
    bucket.put_object(Bucket=BUCKET, Key=f"{PREFIX}/README.txt", Body=b"not a log\n")
    bucket.put_object(Bucket=BUCKET, Key="api/2026-02-18/api.log.0.gz", Body=parts[0].read_bytes())

    local = backfill(config, "--no-progress", *map(str, parts))
    assert local.returncode == 0, local.stderr.decode()
    url = f"s3://{BUCKET}/{PREFIX}/*.gz"
    remote = backfill(config, "--no-progress", url, env=aws_env(endpoint))
    assert remote.returncode == 0, remote.stderr.decode()
    assert remote.stdout == local.stdout
    check_document(json.loads(remote.stdout), scenario)

    shown = backfill(config, "--progress", "--workers", "2", url, env=aws_env(endpoint))
    assert shown.returncode == 0, shown.stderr.decode()
    assert shown.stdout == local.stdout
    assert b"Traceback" not in shown.stderr


def test_an_s3_glob_matching_nothing_is_a_usage_error(tmp_path: Path, endpoint: str, bucket: Any) -> None:
    config = tmp_path / "slotail.yaml"
    config.write_text(CONFIG)
    result = backfill(config, "--no-progress", f"s3://{BUCKET}/nowhere/*.gz", env=aws_env(endpoint))
    assert result.returncode == 2
    assert b"no object matches" in result.stderr


def test_a_truncated_zstd_object_is_a_source_error_after_its_complete_lines(
    tmp_path: Path, endpoint: str, bucket: Any
) -> None:
    """An object cut inside a zstd frame (an upload of a file still being written) cannot be sought
    back through: the frame check runs on the bytes as they stream. The report still comes, with
    every line before the damage, and the exit status is 1."""
    config = tmp_path / "slotail.yaml"
    config.write_text(CONFIG)
    scenario = generate(2 * HOUR, rate=2.0, seed=3)
    data = b"\n".join(lines(scenario)) + b"\n"
    whole = zstandard.ZstdCompressor(write_checksum=True).compress(data)
    bucket.put_object(Bucket=BUCKET, Key="cut/api.log.zst", Body=whole[: len(whole) - 100])
    result = backfill(config, "--no-progress", f"s3://{BUCKET}/cut/api.log.zst", env=aws_env(endpoint))
    assert result.returncode == 1, result.stderr.decode()
    report = json.loads(result.stdout)
    [error] = report["diagnostics"]["source_errors"]
    assert "zstd" in error and f"s3://{BUCKET}/cut/api.log.zst" in error
    assert 0 < report["lines"]["read"] < len(data.splitlines())


def test_an_object_that_does_not_exist_is_a_source_error(tmp_path: Path, endpoint: str, bucket: Any) -> None:
    config = tmp_path / "slotail.yaml"
    config.write_text(CONFIG)
    result = backfill(config, "--no-progress", f"s3://{BUCKET}/missing/api.log.gz", env=aws_env(endpoint))
    assert result.returncode == 1, result.stderr.decode()
    [error] = json.loads(result.stdout)["diagnostics"]["source_errors"]
    assert "missing/api.log.gz" in error


def test_a_warm_start_reads_s3_archives_once_across_restarts(
    tmp_path: Path, endpoint: str, bucket: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`slotail run --backfill 's3://logs/warm/*.gz'`: the objects' lines count under
    source="backfill"; a restart with the same glob finds them counted (by fingerprint) and counts
    nothing twice."""
    for key, value in aws_env(endpoint).items():
        monkeypatch.setenv(key, value)
    logs = tmp_path / "logs"
    logs.mkdir()
    config = tmp_path / "slotail.yaml"
    config.write_text(config_text(logs))
    truth, hour_ago = Truth(), time.time_ns() // 1_000_000 - 3_600_000
    for i in range(2):
        body = truth.batch(300, ts_ms=hour_ago + i)
        bucket.put_object(Bucket=BUCKET, Key=f"warm/api.log.{i}.gz", Body=gzip.compress(body))
    sidecar = Sidecar(tmp_path, config, args=("--backfill", f"s3://{BUCKET}/warm/*.gz"))
    try:
        for _ in range(2):
            sidecar.start()
            wait_until(
                lambda: observed(sidecar.metrics(), truth, "backfill") == truth.expected(),
                describe=sidecar.diagnostics,
            )
            assert sidecar.stop() == 0
        assert "Traceback" not in sidecar.stderr()
    finally:
        sidecar.close()
