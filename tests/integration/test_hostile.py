"""Hostile input (issue 6, acceptance 1): 60k lines, one hostile in every 500, via backfill and the sidecar.

The test writes the file and counts, itself, what each line must become: valid
lines per SLO outcome (tests.sidecar.outcomes), hostile ones per `reason`.
Valid lines around the hostile ones must count exactly; nothing may raise.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.rss import peak_mib, run_measured
from tests.sidecar import MAX_LINE, OUTCOMES, REQUESTS, Sidecar, config_text, outcomes, wait_until

pytestmark = pytest.mark.integration

LINES = 60_000
EVERY = 500  # one hostile line in every EVERY
MAX_LINE_BYTES = 1 << 20  # the default cap: the 6 MiB line is over it, the 200k-deep one under it
PEAK_RSS_MIB = 400
SLOS = ("availability", "latency")


class Ground:
    """What the daemon or backfill must report for the lines written so far."""

    def __init__(self) -> None:
        self.events: Counter[tuple[str, str]] = Counter()
        self.invalid: Counter[str] = Counter()
        self.parsed = 0

    def valid(self, status: int, ms: int) -> None:
        self.parsed += 1
        for slo, outcome in outcomes(status, ms).items():
            self.events[slo, outcome] += 1

    def expected_events(self) -> dict[str, dict[str, int]]:
        return {slo: {o: self.events[slo, o] for o in OUTCOMES} for slo in SLOS}


def request(ts_ms: int, seq: int, **extra: object) -> dict[str, object]:
    status, ms = REQUESTS[seq % len(REQUESTS)]
    return {
        "ts": ts_ms,
        "event": "req",
        "seq": seq,
        "path": "/api/guides",
        "status": status,
        "ms": ms,
        **extra,
    }


def dump(obj: object) -> bytes:
    return json.dumps(obj).encode()


Hostile = Callable[[int, int, Ground, random.Random], bytes]


def _random_bytes(ts: int, seq: int, g: Ground, rng: random.Random) -> bytes:
    g.invalid["invalid_utf8"] += 1  # 0xff never occurs in UTF-8
    return b"\xff" + bytes(
        rng.choice([b for b in range(256) if b != 0x0A]) for _ in range(rng.randint(1, 300))
    )


def _six_mib(ts: int, seq: int, g: Ground, rng: random.Random) -> bytes:
    g.invalid["too_long"] += 1
    return dump(request(ts, seq, pad="x" * (6 << 20)))


def _deep(ts: int, seq: int, g: Ground, rng: random.Random) -> bytes:
    g.invalid["too_deep"] += 1
    return dump(request(ts, seq))[:-1] + b', "deep": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"


def _nan(ts: int, seq: int, g: Ground, rng: random.Random) -> bytes:
    g.invalid["non_finite_number"] += 1
    return dump(request(ts, seq)).replace(b'"ms": ', b'"ms": NaN, "x": ')


def _infinity(ts: int, seq: int, g: Ground, rng: random.Random) -> bytes:
    g.invalid["non_finite_number"] += 1
    return dump(request(ts, seq)).replace(b'"ms": ', b'"ms": -Infinity, "x": ')


def _big_int_field(ts: int, seq: int, g: Ground, rng: random.Random) -> bytes:
    g.invalid["integer_beyond_64_bits"] += 1  # orjson would read it as the nearest double, not exactly
    return dump(request(ts, seq, trace=2**64 + 12345, neg=-(2**70)))


def _big_int_timestamp(ts: int, seq: int, g: Ground, rng: random.Random) -> bytes:
    g.invalid["integer_beyond_64_bits"] += 1
    return dump(request(10**30, seq))


def _bad_utf8(ts: int, seq: int, g: Ground, rng: random.Random) -> bytes:
    g.invalid["invalid_utf8"] += 1
    return dump(request(ts, seq, msg="caf")).replace(b'"caf"', b'"caf\xe9 \xed\xa0\x80"')


def _nul(ts: int, seq: int, g: Ground, rng: random.Random) -> bytes:
    g.invalid["nul_byte"] += 1
    return dump(request(ts, seq, msg="a")).replace(b'"a"', b'"a\x00b"')


def _bom(ts: int, seq: int, g: Ground, rng: random.Random) -> bytes:
    g.valid(*REQUESTS[seq % len(REQUESTS)])
    return b"\xef\xbb\xbf" + dump(request(ts, seq))


def _crlf(ts: int, seq: int, g: Ground, rng: random.Random) -> bytes:
    g.valid(*REQUESTS[seq % len(REQUESTS)])
    return dump(request(ts, seq)) + b"\r"


def _feb_30(ts: int, seq: int, g: Ground, rng: random.Random) -> bytes:
    g.invalid["bad_timestamp"] += 1
    return dump(request(0, seq)).replace(b'"ts": 0', b'"ts": "2026-02-30T12:00:00Z"')


def _null_timestamp(ts: int, seq: int, g: Ground, rng: random.Random) -> bytes:
    g.invalid["missing_timestamp"] += 1
    return dump({**request(ts, seq), "ts": None})


def _no_timestamp(ts: int, seq: int, g: Ground, rng: random.Random) -> bytes:
    g.invalid["missing_timestamp"] += 1
    return dump({k: v for k, v in request(ts, seq).items() if k != "ts"})


def _not_object(ts: int, seq: int, g: Ground, rng: random.Random) -> bytes:
    g.invalid["not_object"] += 1
    return dump([request(ts, seq)])


def _duplicate_keys(ts: int, seq: int, g: Ground, rng: random.Random) -> bytes:
    g.valid(200, 40)  # the last "status" and "ms" win
    return dump(request(ts, seq))[:-1] + b', "status": 200, "ms": 40}'


HOSTILE: list[Hostile] = [
    _random_bytes,
    _six_mib,
    _deep,
    _nan,
    _infinity,
    _big_int_field,
    _big_int_timestamp,
    _bad_utf8,
    _nul,
    _bom,
    _crlf,
    _feb_30,
    _null_timestamp,
    _no_timestamp,
    _not_object,
    _duplicate_keys,
]


def write_hostile_log(path: Path, now_ms: int, seed: int = 6) -> Ground:
    """LINES lines ending a minute ago, every EVERY-th one hostile (each kind in turn); returns the truth."""
    rng, ground = random.Random(seed), Ground()
    with open(path, "wb") as out:
        for i in range(LINES):
            ts = now_ms - 60_000 - (LINES - i) * 50  # 50 minutes of traffic, in order
            if i % EVERY == EVERY - 1:
                out.write(HOSTILE[(i // EVERY) % len(HOSTILE)](ts, i, ground, rng) + b"\n")
            else:
                ground.valid(*REQUESTS[i % len(REQUESTS)])
                out.write(dump(request(ts, i)) + b"\n")
    return ground


@pytest.fixture
def hostile(tmp_path: Path) -> Iterator[tuple[Path, Path, Ground]]:
    logs = tmp_path / "logs"
    logs.mkdir()
    ground = write_hostile_log(logs / "api.log", time.time_ns() // 1_000_000)
    config = tmp_path / "slotail.yaml"
    config.write_text(
        config_text(logs).replace(f"max_line_bytes: {MAX_LINE}", f"max_line_bytes: {MAX_LINE_BYTES}")
    )
    yield logs, config, ground


def test_hostile_lines_in_backfill_are_counted_by_reason_and_the_rest_stay_exact(hostile):
    """Backfill of 60k lines with 120 hostile ones: exit 0, exact counts, every reason right, RSS bounded."""
    logs, config, ground = hostile
    cmd = [sys.executable, "-m", "slotail", "backfill", "--config", str(config), "--format", "json"]
    proc = run_measured([*cmd, "--no-progress", str(logs / "api.log")], timeout=120)
    stderr = proc.stderr.decode(errors="replace")
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr, stderr
    report = json.loads(proc.stdout)

    assert report["diagnostics"]["invalid_reasons"] == dict(sorted(ground.invalid.items()))
    invalid = sum(ground.invalid.values())
    assert invalid + ground.parsed == LINES and invalid >= LINES // EVERY - 3 * len(HOSTILE)
    assert report["lines"] == {"read": LINES, "parsed": ground.parsed, "invalid": invalid, "unmatched": 0}
    assert {s["name"]: s["events"] for s in report["slos"]} == ground.expected_events()
    peak = peak_mib(proc)
    assert peak <= PEAK_RSS_MIB, f"peak RSS {peak:.0f} MiB"


def test_hostile_lines_through_the_live_sidecar_are_counted_by_reason_and_the_rest_stay_exact(
    hostile, tmp_path
):
    """The same file tailed by `slotail run`: the same counts per outcome and reason, no traceback."""
    _, config, ground = hostile
    sidecar = Sidecar(tmp_path, config)
    try:
        sidecar.start()

        def counted() -> dict[str, object] | None:
            samples = sidecar.metrics()
            reasons = {
                dict(labels)["reason"]: int(value)
                for (name, labels), value in samples.items()
                if name == "slotail_invalid_lines_total" and value
            }
            events = {
                slo: {o: int(samples.get(("slotail_sli_events_total", _labels(slo, o)), 0)) for o in OUTCOMES}
                for slo in SLOS
            }
            seen = {"reasons": reasons, "events": events}
            return (
                seen
                if seen == {"reasons": dict(ground.invalid), "events": ground.expected_events()}
                else None
            )

        wait_until(counted, timeout=60, describe=sidecar.diagnostics)
        assert sidecar.period_events() == ground.expected_events()
        assert sidecar.alive(), sidecar.diagnostics()
        assert "Traceback" not in sidecar.stderr(), sidecar.diagnostics()
        assert sidecar.proc is not None
        peak_kib = int(Path(f"/proc/{sidecar.proc.pid}/status").read_text().split("VmHWM:")[1].split()[0])
        assert peak_kib / 1024 <= PEAK_RSS_MIB, f"sidecar peak RSS {peak_kib / 1024:.0f} MiB"
    finally:
        sidecar.close()


def _labels(slo: str, outcome: str) -> frozenset[tuple[str, str]]:
    return frozenset({("slo", slo), ("outcome", outcome)})
