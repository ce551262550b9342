"""Deterministic corpora of API log lines for benchmarks, with ~0.5% invalid lines mixed in.

Two shapes of the same traffic. `seed000` (the default, `corpus-<N>.log`): lines from
`slotail.testing.traffic` as they are (requests, bookings, payments, webhooks, with a few
incidents; requests stamped in epoch milliseconds, domain events in ISO 8601). `iso-ids`
(`corpus-iso-ids-<N>.log`): the same lines re-dressed as a mixed fleet logs them: every
timestamp in ISO 8601 (mostly `2026-02-19T09:00:00.412Z`, some with microseconds, none, or a
UTC offset), guide and booking paths carrying ids drawn from heavy-tailed (Zipf) popularity
(`/api/guides/48213`, `/api/bookings/6995c2d1...`), and a `userId` on signed-in requests.
Invalid lines are truncated JSON, JSON that is not an object, objects with no timestamp and
random bytes (invalid UTF-8). Each file lands in benchmarks/data/ next to a .json of the
parameters it was made with, and is reused while those parameters match.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from slotail.testing.traffic import Incident, TrafficModel, generate_lines
from slotail.timeutil import US, parse_instant

DATA_DIR = Path(__file__).resolve().parent / "data"
VERSION = 1  # bump when the way lines are made changes
SEED = 20260219
START = "2026-02-19T00:00:00Z"
RATE = 10.0  # requests per second: 1M lines span about a day
INVALID_SHARE = 0.005
LINES_PER_REQUEST = 1.28  # a request line, plus a domain event for 28% of requests
NON_OBJECTS = (b"[1,2]", b'"ok"', b"42", b"null", b"true")

SHAPES = ("seed000", "iso-ids")
ISO_IDS_VERSION = 1  # bump when the way `iso-ids` re-dresses lines changes
ISO_IDS_SEED = 20260220
# Request paths with ids: (path, share of its requests that carry an id, distinct ids, Zipf
# exponent). Over 1M lines: ~28k guides and ~12k bookings seen, ~40k distinct paths in all.
ID_ROUTES = {
    "/api/guides": (0.7, 40_000, 1.0),  # guide pages; the rest are searches on /api/guides
    "/api/bookings": (0.6, 15_000, 0.8),  # updates of existing bookings; the rest create one
}
SIGNED_IN = frozenset({"/api/guides", "/api/bookings", "/api/payments/intent", "/api/profile"})
USERS = (1_000, 1.0)  # distinct `userId`s on signed-in requests, Zipf exponent
# How timestamps are written: (UTC offset in minutes, digits of fraction, share of lines).
TIME_SHAPES = ((0, 3, 0.70), (0, 6, 0.10), (0, 0, 0.05), (120, 3, 0.08), (330, 6, 0.04), (-300, 0, 0.03))
BLOCK = 8192  # random draws are made this many at a time
Floats = npt.NDArray[np.floating[Any]]


def params(lines: int, shape: str = "seed000") -> dict[str, object]:
    """Everything that determines the corpus of `lines` lines of a shape."""
    made: dict[str, object] = {
        "version": VERSION,
        "lines": lines,
        "seed": SEED,
        "start": START,
        "rate": RATE,
        "invalid_share": INVALID_SHARE,
    }
    if shape == "iso-ids":
        made |= {"shape": shape, "shape_version": ISO_IDS_VERSION, "shape_seed": ISO_IDS_SEED}
    return made


def corpus_path(lines: int, shape: str = "seed000") -> Path:
    """Where the corpus of `lines` lines of a shape is kept."""
    return DATA_DIR / (f"corpus-{lines}.log" if shape == "seed000" else f"corpus-{shape}-{lines}.log")


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


def zipf_weights(count: int, exponent: float) -> Floats:
    """Probabilities of ranks 1..count under Zipf's law: rank k in proportion to 1 / k**exponent."""
    weights = np.arange(1, count + 1, dtype=np.float64) ** -exponent
    return weights / float(weights.sum())


def draws(rng: np.random.Generator, weights: Floats) -> Iterator[int]:
    """Endless indices drawn with these probabilities, made a block at a time."""
    while True:
        yield from rng.choice(len(weights), size=BLOCK, p=weights).tolist()


def object_ids(rng: np.random.Generator, count: int) -> list[str]:
    """`count` MongoDB-style ids: 8 hex digits of a creation second in the 30 days before START, 16 random."""
    start_s = parse_instant(START) // US
    seconds = rng.integers(start_s - 30 * 86400, start_s, size=count).tolist()
    return [
        f"{s:08x}{r:016x}"
        for s, r in zip(seconds, rng.integers(0, 1 << 63, size=count).tolist(), strict=True)
    ]


def iso_text(at_us: int, offset_min: int, digits: int) -> str:
    """An instant in ISO 8601 at a UTC offset (`Z` for 0), with `digits` of fraction (truncated)."""
    seconds, micros = divmod(at_us + offset_min * 60 * US, US)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    if digits:
        text += "." + f"{micros:06d}"[:digits]
    if not offset_min:
        return text + "Z"
    hours, minutes = divmod(abs(offset_min), 60)
    return f"{text}{'+' if offset_min > 0 else '-'}{hours:02d}:{minutes:02d}"


class IsoIds:
    """Re-dresses seed000 lines in the `iso-ids` shape, from seeded random streams of its own."""

    def __init__(self) -> None:
        streams = [np.random.default_rng(s) for s in np.random.SeedSequence(ISO_IDS_SEED).spawn(6)]
        ids_rng, self.users_rng, self.shapes_rng, self.micros_rng, self.share_rng, ranks_rng = streams
        guides_count, bookings_count = ID_ROUTES["/api/guides"][1], ID_ROUTES["/api/bookings"][1]
        self.ids = {
            "/api/guides": [str(i) for i in ids_rng.permutation(100_000)[:guides_count] + 1],
            "/api/bookings": object_ids(ids_rng, bookings_count),
        }
        self.ranks = {path: draws(ranks_rng, zipf_weights(n, s)) for path, (_, n, s) in ID_ROUTES.items()}
        self.users = [f"u{int(n):06d}" for n in ids_rng.choice(1_000_000, size=USERS[0], replace=False)]
        self.user_draws = draws(self.users_rng, zipf_weights(*USERS))
        self.shape_draws = draws(self.shapes_rng, np.array([share for *_, share in TIME_SHAPES]))

    def line(self, valid: bytes) -> bytes:
        """The line in this shape: ISO time, an id in the path, a user; the same event otherwise."""
        fields = orjson.loads(valid)
        stamp = fields.pop("timestamp")
        at_us = stamp * 1000 if isinstance(stamp, int) else parse_instant(stamp)
        if fields["event"] == "http_request_completed":
            path = fields["path"]
            if path in ID_ROUTES and self.share_rng.random() < ID_ROUTES[path][0]:
                fields["path"] = f"{path}/{self.ids[path][next(self.ranks[path])]}"
            if path in SIGNED_IN:
                fields["userId"] = self.users[next(self.user_draws)]
        offset_min, digits, _ = TIME_SHAPES[next(self.shape_draws)]
        fields["timestamp"] = iso_text(at_us + int(self.micros_rng.integers(1000)), offset_min, digits)
        return orjson.dumps(fields)


def valid_lines(lines: int, shape: str) -> Iterator[bytes]:
    """The valid lines a corpus is made from, in its shape (more than `lines` of them)."""
    seconds = span_seconds(lines)
    made = (line for _, line in generate_lines(parse_instant(START), seconds, traffic_model(seconds), SEED))
    if shape == "seed000":
        return made
    return map(IsoIds().line, made)


def corpus_lines(lines: int, shape: str = "seed000") -> Iterator[bytes]:
    """The corpus, line by line, without line ends."""
    rng = np.random.default_rng(SEED)
    invalid_count = round(lines * INVALID_SHARE)
    kinds = dict(
        zip(
            rng.choice(lines, size=invalid_count, replace=False).tolist(),
            rng.integers(0, 4, size=invalid_count).tolist(),
            strict=True,
        )
    )
    made = 0
    for line in itertools.islice(valid_lines(lines, shape), lines):
        kind = kinds.get(made)
        made += 1
        yield line if kind is None else invalid_line(kind, line, rng)
    if made < lines:
        raise RuntimeError(f"the traffic model made only {made} lines, {lines} wanted")


def write_corpus(path: Path, lines: int, shape: str = "seed000") -> None:
    """Write the corpus atomically (a temporary file renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with partial.open("wb") as out:
        out.writelines(line + b"\n" for line in corpus_lines(lines, shape))
    os.replace(partial, path)


def ensure_corpus(lines: int = 1_000_000, shape: str = "seed000") -> Path:
    """The path of the `lines`-line corpus of a shape, written first unless an identical one exists."""
    path = corpus_path(lines, shape)
    meta = path.with_suffix(".json")
    wanted = params(lines, shape)
    if path.exists() and meta.exists():
        recorded = json.loads(meta.read_text())
        if recorded.get("params") == wanted and recorded.get("bytes") == path.stat().st_size:
            return path
    write_corpus(path, lines, shape)
    meta.write_text(json.dumps({"params": wanted, "bytes": path.stat().st_size}, indent=2) + "\n")
    return path


def main(argv: list[str] | None = None) -> None:
    """Make (or find) the corpus and print its path."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000, help="number of lines (default 1,000,000)")
    parser.add_argument("--shape", choices=SHAPES, default="seed000", help="which corpus (default seed000)")
    args = parser.parse_args(argv)
    print(ensure_corpus(args.lines, args.shape))


if __name__ == "__main__":
    main()
