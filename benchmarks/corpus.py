"""A deterministic corpus of API log lines for benchmarks, with ~0.5% invalid lines mixed in.

Valid lines come from `slotail.testing.traffic` (requests, bookings, payments,
webhooks, with a few incidents); invalid ones are truncated JSON, JSON that is
not an object, objects with no timestamp and random bytes (invalid UTF-8).
The file lands in benchmarks/data/corpus-<N>.log next to a .json of the
parameters it was made with, and is reused while those parameters match.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import orjson

from slotail.testing.traffic import Incident, TrafficModel, generate_lines
from slotail.timeutil import parse_instant

DATA_DIR = Path(__file__).resolve().parent / "data"
VERSION = 1  # bump when the way lines are made changes
SEED = 20260219
START = "2026-02-19T00:00:00Z"
RATE = 10.0  # requests per second: 1M lines span about a day
INVALID_SHARE = 0.005
LINES_PER_REQUEST = 1.28  # a request line, plus a domain event for 28% of requests
NON_OBJECTS = (b"[1,2]", b'"ok"', b"42", b"null", b"true")


def params(lines: int) -> dict[str, object]:
    """Everything that determines the corpus of `lines` lines."""
    return {
        "version": VERSION,
        "lines": lines,
        "seed": SEED,
        "start": START,
        "rate": RATE,
        "invalid_share": INVALID_SHARE,
    }


def span_seconds(lines: int) -> float:
    """Seconds of traffic that surely hold `lines` valid lines (the surplus is cut off)."""
    return max(lines / (RATE * LINES_PER_REQUEST) * 1.1, 60.0)


def traffic_model(seconds: float) -> TrafficModel:
    """The synthetic API, with incidents on every part of it inside the first 80% of the span."""
    return TrafficModel(
        rate=RATE,
        incidents=[
            Incident(seconds * 0.10, 20 * 60, "errors", 0.05, "api"),
            Incident(seconds * 0.25, 30 * 60, "latency", 5.0, "all"),
            Incident(seconds * 0.40, 10 * 60, "errors", 0.3, "payment"),
            Incident(seconds * 0.55, 45 * 60, "errors", 0.03, "booking"),
            Incident(seconds * 0.70, 15 * 60, "errors", 0.2, "webhook"),
        ],
    )


def invalid_line(kind: int, valid: bytes, rng: np.random.Generator) -> bytes:
    """One invalid line of a kind (0 truncated, 1 not an object, 2 no timestamp, 3 random bytes)."""
    if kind == 0:
        return valid[: int(rng.integers(1, len(valid) - 1))]
    if kind == 1:
        return NON_OBJECTS[int(rng.integers(len(NON_OBJECTS)))]
    if kind == 2:
        fields = orjson.loads(valid)
        del fields["timestamp"]
        return orjson.dumps(fields)
    noise = rng.bytes(int(rng.integers(8, 120))).replace(b"\n", b"\xff")
    return b"\xfe" + noise


def corpus_lines(lines: int) -> Iterator[bytes]:
    """The corpus, line by line, without line ends."""
    rng = np.random.default_rng(SEED)
    seconds = span_seconds(lines)
    valid = (line for _, line in generate_lines(parse_instant(START), seconds, traffic_model(seconds), SEED))
    invalid_count = round(lines * INVALID_SHARE)
    kinds = dict(
        zip(
            rng.choice(lines, size=invalid_count, replace=False).tolist(),
            rng.integers(0, 4, size=invalid_count).tolist(),
            strict=True,
        )
    )
    made = 0
    for line in itertools.islice(valid, lines):
        kind = kinds.get(made)
        made += 1
        yield line if kind is None else invalid_line(kind, line, rng)
    if made < lines:
        raise RuntimeError(f"the traffic model made only {made} lines, {lines} wanted")


def write_corpus(path: Path, lines: int) -> None:
    """Write the corpus atomically (a temporary file renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with partial.open("wb") as out:
        out.writelines(line + b"\n" for line in corpus_lines(lines))
    os.replace(partial, path)


def ensure_corpus(lines: int = 1_000_000) -> Path:
    """The path of the `lines`-line corpus, written first unless an identical one exists."""
    path = DATA_DIR / f"corpus-{lines}.log"
    meta = path.with_suffix(".json")
    wanted = params(lines)
    if path.exists() and meta.exists():
        recorded = json.loads(meta.read_text())
        if recorded.get("params") == wanted and recorded.get("bytes") == path.stat().st_size:
            return path
    write_corpus(path, lines)
    meta.write_text(json.dumps({"params": wanted, "bytes": path.stat().st_size}, indent=2) + "\n")
    return path


def main(argv: list[str] | None = None) -> None:
    """Make (or find) the corpus and print its path."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000, help="number of lines (default 1,000,000)")
    args = parser.parse_args(argv)
    print(ensure_corpus(args.lines))


if __name__ == "__main__":
    main()
