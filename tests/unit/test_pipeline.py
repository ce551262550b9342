"""Pipeline fuzz: whatever the bytes, parse + classify never raise and every line is accounted for once."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from slotail.config import load_config, load_config_text
from slotail.outcomes import BAD
from slotail.pipeline import Pipeline, observed_batches
from slotail.sources.batch import RawBatch
from slotail.workers import Workers

CONFIG = load_config(Path(__file__).parents[2] / "config" / "slotail.yaml")
BOM = b"\xef\xbb\xbf"

# Values the shipped config's matchers read, mixed with every JSON type and the awkward numbers.
numbers = st.one_of(
    st.integers(),
    st.integers(min_value=2**63, max_value=2**200),  # beyond 64 bits
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0, -1, 1500, 1500.0, 1e308, -0.0, 5e-324, 2**53 + 1]),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    numbers,
    st.text(max_size=8),
    st.sampled_from(["http_request_completed", "GET", "/api/guides", "booking_created_atomic", "\x00"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=8,
)
timestamps = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["2026-02-19T09:00:00Z", "2026-02-30T00:00:00Z", "2026-02-19T09:00:00", None]),
)
fields = st.sampled_from(["event", "method", "path", "statusCode", "responseTimeMs", "timestamp", "x"])
objects = st.dictionaries(fields, values, max_size=7).flatmap(
    lambda o: timestamps.map(lambda t: {**o, "timestamp": t}) | st.just(o)
)


def encode(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, allow_nan=False).encode()


lines = st.one_of(
    objects.map(encode),
    st.binary(max_size=64),
    st.tuples(st.sampled_from([b"", BOM]), objects.map(encode), st.sampled_from([b"", b"\r"])).map(b"".join),
    objects.map(encode).flatmap(lambda raw: st.integers(0, len(raw)).map(lambda cut: raw[:cut])),
    st.integers(1, 3000).map(lambda depth: b"[" * depth + b"]" * depth),
    st.sampled_from([b'{"timestamp": 1771491600, "responseTimeMs": NaN}', b'{"timestamp": 1e999}']),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(lines.filter(lambda raw: b"\n" not in raw), max_size=30))
def test_any_lines_through_parse_and_classify_are_each_counted_once_never_raised(raw: list[bytes]) -> None:
    """read == parsed + invalid, parsed == matched lines + unmatched; observations are well formed."""
    pipeline = Pipeline(CONFIG)
    obs, stats = pipeline.observe(RawBatch("api", raw, 0, 0))
    blank = sum(1 for line in raw if not line.removeprefix(BOM).strip())
    assert stats.read + blank == len(raw)
    assert 0 <= stats.unmatched <= stats.parsed
    assert len(obs.series) == len(obs.ts_us) == len(obs.outcome) == len(obs.latency_us)
    assert np.all((obs.outcome >= 0) & (obs.outcome <= 2))
    assert np.all(obs.series < len(CONFIG.slos))
    assert np.all((obs.latency_us == -1) | (obs.latency_us >= 0))
    assert not any(math.isnan(float(v)) for v in obs.latency_us)


CRI_CONFIG = """\
envelope: cri
slos:
  - {name: a, objective: 99, sli: {events: {event: req}, bad: {status: {gte: 500}}}}
"""


def test_a_file_that_ends_inside_a_cri_line_has_its_pieces_observed_as_its_last_line(tmp_path: Path) -> None:
    """Backfill reads a file to its end: pieces still waiting for their `F` piece make one last line."""
    line = json.dumps({"timestamp": "2026-02-19T09:00:00Z", "event": "req", "status": 503})
    prefix = "2026-02-19T09:00:00.1Z stdout"
    (tmp_path / "0.log").write_text(f"{prefix} F {line}\n{prefix} P {line[:20]}\n{prefix} P {line[20:]}\n")
    pipeline = Pipeline(load_config_text(CRI_CONFIG))
    batches = list(observed_batches(str(tmp_path / "0.log"), pipeline, 1 << 20))
    assert [b.lines.parsed for b in batches] == [1, 1]
    assert [b.observations.outcome.tolist() for b in batches] == [[BAD], [BAD]]
    assert batches[-1].offset == batches[0].offset


def test_files_are_not_read_by_workers_under_an_envelope(tmp_path: Path) -> None:
    """An envelope's pieces of one line may lie across blocks: such files are read in one process."""
    path = tmp_path / "big.log"
    path.write_bytes(b"x\n" * (1 << 16))
    workers = Workers(load_config_text(CRI_CONFIG), 4, block_bytes=1 << 12)
    assert not workers.suits(str(path), 0)
    bare = Workers(load_config_text(CRI_CONFIG.replace("envelope: cri\n", "")), 4, block_bytes=1 << 12)
    assert bare.suits(str(path), 0)
