"""Parallel backfill: worker processes give byte for byte the report of one process."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
import zstandard
from click.testing import CliRunner
from hypothesis import example, given, settings
from hypothesis import strategies as st

import slotail.workers
from slotail.cli import cli
from slotail.config import load_config
from slotail.pipeline import Pipeline
from slotail.sources.lines import LineBlock, LineSplitter
from slotail.workers import Block, Workers, cut_blocks
from tests.scenarios import CONFIG, T0, generate, lines

US = 1_000_000


def awkward_log() -> bytes:
    """A generated log with what could trip a block cutter: late, too-long, blank and CRLF lines."""
    body = lines(generate(3 * 3600, rate=1.5, seed=11, error=lambda t: 0.4 if 3000 <= t < 4200 else 0.002))
    late = b'{"event": "req", "path": "/a", "status": 500, "ms": 20.0, "ts": %d}' % ((T0 + 1800 * US) // 1000)
    for i in range(2000, len(body), 2500):
        body[i:i] = [late, b"x" * 300, b"", b'{"event": "job_ok", "ts": %d}\r' % ((T0 + i * US) // 1000)]
    return b"\n".join(body)  # and no newline after the last line


# A grouped latency SLO whose cap is reached: workers must number groups and fold overflow as one process.
GROUPED = """  - name: by-path-status
    objective: 95
    group_by: [path, status]
    max_series: 3
    sli:
      events: {event: req}
      latency: {field: ms, unit: ms, threshold: 300, percentiles: [50, 99]}
alerts: google-30d"""


def backfill_json(tmp_path: Path, log: Path, workers: int) -> bytes:
    config = tmp_path / "slotail.yaml"
    text = CONFIG.replace("store: {bucket: 10s}", "store: {bucket: 10s, max_line_bytes: 256}")
    config.write_text(text.replace("alerts: google-30d", GROUPED))
    # In-process (CliRunner), not tests.golden.run_backfill's subprocess: the block size is patched here.
    flags = ["--format", "json", "--no-progress", "--workers", str(workers)]
    result = CliRunner().invoke(cli, ["backfill", "--config", str(config), *flags, str(log)])
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


def test_parallel_backfill_json_is_identical_to_one_process(tmp_path: Path, monkeypatch) -> None:
    """Blocks of 4 KiB (so every batch spans several blocks and workers), late lines, lines over the
    size cap, blank and CRLF lines, no final newline: `--workers 2` prints the same bytes as 1."""
    log = tmp_path / "api.log"
    log.write_bytes(awkward_log())
    monkeypatch.setattr(slotail.workers, "BLOCK_BYTES", 4096)
    used, close = [], Workers.close

    def spy(self: Workers) -> None:
        used.append(self._pool is not None)
        close(self)

    monkeypatch.setattr(Workers, "close", spy)
    one = backfill_json(tmp_path, log, 1)
    two = backfill_json(tmp_path, log, 2)
    assert used == [True]  # the second run did go through the worker processes
    assert two == one
    assert b'"late": 0,' not in one and b'"too_long": ' in one  # the awkward lines were there
    assert b'"__overflow__"' in one and b'"series_overflow": {' in one  # and groups beyond the cap


@pytest.mark.parametrize("kind", ["gzip", "zstd"])
def test_a_compressed_file_is_read_in_process_with_the_same_report(
    tmp_path: Path, kind: str, monkeypatch
) -> None:
    """Workers cut plain files only: a large .gz or .zst (detected by its stored bytes, not by the
    content it decompresses to) is read by the parent, and the report is that of its plain twin."""
    monkeypatch.setattr(slotail.workers, "BLOCK_BYTES", 4096)
    plain, packed = tmp_path / "api.log", tmp_path / f"api.log.{kind}"
    plain.write_bytes(awkward_log())
    compress = gzip.compress if kind == "gzip" else zstandard.ZstdCompressor().compress
    packed.write_bytes(compress(plain.read_bytes()))
    assert packed.stat().st_size >= 2 * 4096  # large enough for workers, were it plain
    assert backfill_json(tmp_path, packed, 2) == backfill_json(tmp_path, plain, 1)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.binary(max_size=12).map(lambda b: b.replace(b"\n", b"")), max_size=30),
    st.booleans(),
    st.integers(1, 40),
    st.integers(4, 16),
)
@example([b"x", b"y" * 20], False, 40, 16)  # a long last line, in the last stretch the count checks
def test_blocks_split_into_the_lines_the_line_splitter_gives(
    tmp_path_factory: pytest.TempPathFactory, pieces: list[bytes], final_newline: bool, block: int, cap: int
) -> None:
    """Cut anywhere, blocks hold exactly the splitter's lines, in order, and the same too-long count;
    the count round counts as many."""
    data = b"\n".join(pieces) + (b"\n" if final_newline and pieces else b"")
    path = tmp_path_factory.mktemp("blocks") / "log"
    path.write_bytes(data)
    splitter = LineSplitter(cap)
    expected = splitter.feed(data) + splitter.finish()
    got, too_long = [], 0
    for b in cut_blocks(str(path), len(data), block):
        found, long = LineBlock.split(data[b.start : b.end], b.last, cap)
        assert LineBlock.count(data[b.start : b.end], b.last, cap) == len(found)  # the count round's
        got += found.lines()
        too_long += long
    assert got == expected
    assert too_long == splitter.too_long
    assert all(isinstance(b, Block) for b in cut_blocks(str(path), len(data), block))


def test_a_file_cut_shorter_while_the_workers_read_it_is_a_source_error_and_the_next_file_is_read(
    tmp_path: Path, monkeypatch
) -> None:
    """The workers map the file: cut short after the count round, reading it kills a worker (SIGBUS)
    or finds it shorter. Either way that file is a source error, and the next file gets a new pool.
    (pytest's faulthandler, inherited by the workers, prints the dying worker's "Fatal Python error:
    Bus error" and its stack: that is this test, not a failure.)"""
    cut, whole = tmp_path / "cut.log", tmp_path / "whole.log"
    cut.write_bytes(awkward_log())
    whole.write_bytes(awkward_log())
    monkeypatch.setattr(slotail.workers, "BLOCK_BYTES", 4096)
    parts = Workers._parts

    def truncate_then_read(self: Workers, path: str, *rest):  # type: ignore[no-untyped-def]
        if path == str(cut):
            with open(path, "r+b") as f:
                f.truncate(4096 * 3)  # the workers mapped it whole in the count round
        return parts(self, path, *rest)

    monkeypatch.setattr(Workers, "_parts", truncate_then_read)
    config = tmp_path / "slotail.yaml"
    config.write_text(CONFIG)
    flags = ["--format", "json", "--no-progress", "--workers", "2"]
    result = CliRunner().invoke(cli, ["backfill", "--config", str(config), *flags, str(cut), str(whole)])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout_bytes)
    errors = report["diagnostics"]["source_errors"]
    assert len(errors) == 1 and "past byte" in errors[0], errors
    alone = CliRunner().invoke(cli, ["backfill", "--config", str(config), *flags, str(whole)])
    assert report["lines"]["read"] >= json.loads(alone.stdout_bytes)["lines"]["read"]  # all of the whole


def _mapped_rss_kib(path: Path) -> int:
    """The resident size of this process's mappings of `path` (Linux /proc/self/smaps)."""
    rss, inside = 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        if "-" in line.split(" ", 1)[0]:  # a mapping's header line
            inside = line.endswith(str(path))
        elif inside and line.startswith("Rss:"):
            rss += int(line.split()[1])
    return rss


def _observe_all(log: Path, config: Path, monkeypatch) -> list[tuple[int, int, bytes]]:
    """Every block's parts as a worker makes them: (batch, lines read, observation bytes)."""
    pipeline = Pipeline(load_config(config))
    pipeline.classifier.defer = True
    monkeypatch.setattr(slotail.workers, "_PIPELINE", pipeline)  # as `_start` sets up a worker
    monkeypatch.setattr(slotail.workers, "_MAX_LINE", 256)
    monkeypatch.setattr(slotail.workers, "_MAPPED", {})
    found, first = [], 0
    for block in cut_blocks(str(log), log.stat().st_size, 1 << 16):
        for part in slotail.workers._observe(str(log), block, first):
            obs = part.observations
            found.append((part.batch, part.lines.read, obs.series.tobytes() + obs.ts_us.tobytes()))
        first += slotail.workers._count(str(log), block)
    return found


def test_a_file_that_cannot_be_mapped_is_read_instead_with_the_same_parts(
    tmp_path: Path, monkeypatch
) -> None:
    """Some file systems cannot map a file: the worker reads its blocks instead, to the same parts."""
    log, config = tmp_path / "api.log", tmp_path / "slotail.yaml"
    log.write_bytes(awkward_log())
    config.write_text(CONFIG)
    mapped = _observe_all(log, config, monkeypatch)

    def no_mmap(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError(19, "No such device")  # ENODEV: what a file system without mmap answers

    monkeypatch.setattr(slotail.workers.mmap, "mmap", no_mmap)
    assert _observe_all(log, config, monkeypatch) == mapped
    assert len(mapped) > 10 and sum(read for _, read, _ in mapped) > 10_000


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="needs Linux /proc")
def test_a_worker_unmaps_each_block_once_read_so_its_rss_does_not_grow_with_the_file(
    tmp_path: Path, monkeypatch
) -> None:
    """Mapped pages count in RSS: after each block, the worker's mapping of the file holds next to
    none of it (without the release, all 7 MiB of it)."""
    log = tmp_path / "api.log"
    log.write_bytes(b"\n".join([awkward_log()] * 6))  # about 7 MiB
    config = tmp_path / "slotail.yaml"
    config.write_text(CONFIG)
    pipeline = Pipeline(load_config(config))
    pipeline.classifier.defer = True
    monkeypatch.setattr(slotail.workers, "_PIPELINE", pipeline)  # as `_start` sets up a worker
    monkeypatch.setattr(slotail.workers, "_MAX_LINE", 1 << 20)
    blocks, first = cut_blocks(str(log), log.stat().st_size, 1 << 20), 0
    for block in blocks:
        lines = slotail.workers._count(str(log), block)
        slotail.workers._observe(str(log), block, first)
        first += lines
        # What is left is read-ahead past the block (the page cache's large folios): not the file.
        assert _mapped_rss_kib(log) <= 3 << 10, f"{_mapped_rss_kib(log)} KiB still mapped after {block}"
    assert first > 90_000 and len(blocks) >= 6  # it did read them all
