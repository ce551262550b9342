"""The benchmark's second corpus (`iso-ids`): deterministic, ISO times on every valid line, paths with
ids in the promised number, users for a ~1,000-series group, the same invalid share and traffic."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime

import numpy as np
import orjson
import pytest
from benchmarks import corpus

LINES = 20_000
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.(\d{3}|\d{6}))?(Z|[+-]\d\d:\d\d)")


@pytest.fixture(scope="module")
def lines() -> list[bytes]:
    return list(corpus.corpus_lines(LINES, "iso-ids"))


def as_event(line: bytes) -> dict[str, object] | None:
    """A line as an event (a JSON object with a timestamp), or None where it is not one."""
    try:
        fields = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    return fields if isinstance(fields, dict) and "timestamp" in fields else None


@pytest.fixture(scope="module")
def events(lines: list[bytes]) -> list[dict[str, object] | None]:
    return [as_event(line) for line in lines]


@pytest.fixture(scope="module")
def requests(events: list[dict[str, object] | None]) -> list[dict[str, object]]:
    return [e for e in events if e is not None and e["event"] == "http_request_completed"]


def micros(stamp: object) -> int:
    """Epoch microseconds of an epoch-ms number or an ISO text, read by the standard library."""
    if isinstance(stamp, int):
        return stamp * 1000
    assert isinstance(stamp, str)
    delta = datetime.fromisoformat(stamp) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def expected_distinct(draws: float, count: int, exponent: float) -> float:
    """Expected distinct values among `draws` draws from a Zipf law over `count` values."""
    k = np.arange(1, count + 1, dtype=np.float64)
    p = k**-exponent / (k**-exponent).sum()
    return float((1 - (1 - p) ** draws).sum())


def test_the_corpus_is_the_same_every_time_and_not_the_first_corpus(lines):
    assert list(corpus.corpus_lines(LINES, "iso-ids")) == lines
    assert list(corpus.corpus_lines(2_000)) != lines[:2_000]


def test_the_invalid_share_and_positions_are_the_first_corpus_s(events):
    invalid = [i for i, event in enumerate(events) if event is None]
    assert len(invalid) == round(LINES * corpus.INVALID_SHARE)
    assert invalid == [i for i, line in enumerate(corpus.corpus_lines(LINES)) if as_event(line) is None]


def test_every_valid_line_has_an_iso_timestamp_in_several_shapes(events):
    stamps = [event["timestamp"] for event in events if event is not None]
    assert all(isinstance(s, str) and ISO.fullmatch(s) for s in stamps)
    assert all(datetime.fromisoformat(str(s)).tzinfo is not None for s in stamps)
    shapes = Counter(re.sub(r"\d", "9", str(s)[19:]) for s in stamps)
    assert set(shapes) == {".999Z", ".999999Z", "Z", ".999+99:99", ".999999+99:99", "-99:99"}
    assert shapes[".999Z"] > len(stamps) / 2  # the common shape dominates


def test_each_line_is_the_first_corpus_s_event_at_the_same_instant(events):
    """Same traffic, re-dressed: event fields equal but path and user; the time within its precision."""
    for line, mine in zip(corpus.corpus_lines(LINES), events, strict=True):
        if mine is None:
            continue
        theirs = orjson.loads(line)
        at, was = micros(mine["timestamp"]), micros(theirs["timestamp"])
        assert at // 1_000_000 == was // 1_000_000
        if "." in str(mine["timestamp"]):
            assert 0 <= at - was < 1000
        if "path" in mine:
            path = str(mine["path"])
            assert path == theirs["path"] or path.rsplit("/", 1)[0] == theirs["path"]
        kept = {k: v for k, v in mine.items() if k not in ("timestamp", "path", "userId")}
        assert kept == {k: v for k, v in theirs.items() if k not in ("timestamp", "path")}


def test_paths_carry_ids_in_the_promised_number_with_a_heavy_tail(requests):
    paths = Counter(str(e["path"]) for e in requests)
    with_id = Counter(
        {p: n for p, n in paths.items() if re.fullmatch(r"/api/guides/\d+|/api/bookings/[0-9a-f]{24}", p)}
    )
    assert len(paths) - len(with_id) == 6  # the routes without ids
    per_route = Counter(p.rsplit("/", 1)[0] for p in with_id.elements())
    for route, (_, count, exponent) in corpus.ID_ROUTES.items():
        seen = sum(1 for p in with_id if p.startswith(route + "/"))
        assert seen == pytest.approx(expected_distinct(per_route[route], count, exponent), rel=0.05)
        # at 1M lines: the id'd requests scale with the lines
        per_route[route] = per_route[route] * 1_000_000 // LINES
    at_million = sum(expected_distinct(per_route[r], n, s) for r, (_, n, s) in corpus.ID_ROUTES.items())
    assert 35_000 <= at_million <= 45_000
    counts = sorted(with_id.values(), reverse=True)
    assert sum(counts[: len(counts) // 10]) > 0.4 * sum(counts)  # the top 10% of paths: 40%+ of hits


def test_signed_in_requests_carry_a_user_of_about_a_thousand(requests):
    """Everything but health checks and Stripe's webhooks; every user seen once in 1M lines."""
    signed_in = [str(e["path"]).split("/")[2] not in ("health", "webhooks") for e in requests]
    assert [("userId" in e) for e in requests] == signed_in
    users = {e["userId"] for e in requests if "userId" in e}
    assert len(users) <= corpus.USERS[0]
    assert expected_distinct(sum(signed_in) * 1_000_000 / LINES, *corpus.USERS) > 999
