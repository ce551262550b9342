"""Synthetic API traffic in seed 000's log shape: requests, bookings, payments and webhooks.

Request lines carry `timestamp` as epoch milliseconds taken when the request
started (as the seed's middleware logs it at finish), so they are a little out
of order; domain events carry ISO 8601 timestamps.
"""

from __future__ import annotations

import argparse
import gzip
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import orjson

from slotail.timeutil import US, iso_utc, parse_instant

ROUTES = (  # (method, path, share of requests, median latency ms)
    ("GET", "/api/guides", 0.45, 180.0),
    ("GET", "/api/health", 0.15, 8.0),
    ("POST", "/api/bookings", 0.12, 320.0),
    ("POST", "/api/payments/intent", 0.08, 450.0),
    ("POST", "/api/webhooks/stripe", 0.08, 60.0),
    ("GET", "/api/profile", 0.12, 120.0),
)


@dataclass(frozen=True)
class Incident:
    """A stretch of trouble: `errors` raises failure odds, `latency` multiplies latency."""

    start_s: float  # from the start of the traffic
    duration_s: float
    kind: str = "errors"  # errors | latency
    severity: float = 0.2  # failure probability, or latency multiplier
    target: str = "all"  # all | api | booking | payment | webhook


@dataclass
class TrafficModel:
    """Rates and odds of the synthetic API."""

    rate: float = 20.0  # requests per second
    error_rate: float = 0.0002
    client_error_rate: float = 0.02
    incidents: list[Incident] = field(default_factory=list)

    def trouble(self, at_s: float, target: str) -> tuple[float, float]:
        """(failure probability, latency multiplier) at an offset, for one part of the API."""
        failure, slow = self.error_rate, 1.0
        for inc in self.incidents:
            if inc.start_s <= at_s < inc.start_s + inc.duration_s and inc.target in ("all", target):
                if inc.kind == "errors":
                    failure = max(failure, inc.severity)
                else:
                    slow *= inc.severity
        return failure, slow


def _target(path: str) -> str:
    return {
        "/api/bookings": "booking",
        "/api/payments/intent": "payment",
        "/api/webhooks/stripe": "webhook",
    }.get(path, "api")


def _domain_event(path: str, failed: bool, status: int, rng: np.random.Generator) -> dict[str, object] | None:
    if path == "/api/bookings":
        if status == 409:
            return {
                "event": "booking_conflict_not_sli_failure",
                "reason": "Legitimate race condition (slot taken)",
            }
        if failed:
            return {"event": "booking_creation_failed", "message": "deadlock detected"}
        return {
            "event": "booking_created_atomic",
            "bookingId": f"b_{rng.integers(1 << 40):x}",
            "status": "pending",
        }
    if path == "/api/payments/intent":
        if failed:
            return {"event": "payment_intent_creation_failed", "message": "stripe timeout"}
        return {"event": "payment_intent_ready", "paymentIntentId": f"pi_{rng.integers(1 << 40):x}"}
    if path == "/api/webhooks/stripe":
        if status == 400:
            return {"event": "stripe_webhook_processing_failed", "reason": "invalid_signature"}
        if failed:
            return {"event": "stripe_webhook_processing_failed", "reason": "handler_error"}
        return {"event": "stripe_webhook_success", "eventType": "payment_intent.succeeded"}
    return None


def generate_lines(
    start_us: int, seconds: float, model: TrafficModel, seed: int = 0, offset_s: float = 0.0
) -> Iterator[tuple[int, bytes]]:
    """(write time µs, line) pairs in request start order, for `seconds` of traffic from `start_us`.

    `offset_s` is where `start_us` falls on the model's clock (its incidents' start_s).
    """
    rng = np.random.default_rng(seed)
    shares = np.array([r[2] for r in ROUTES])
    count = int(rng.poisson(model.rate * seconds))
    starts = np.sort(rng.uniform(0, seconds, count))
    routes = rng.choice(len(ROUTES), size=count, p=shares / shares.sum())
    noise = rng.lognormal(0.0, 0.5, count)
    rolls = rng.random((count, 2))
    for at_s, route, wobble, (roll, client_roll) in zip(starts, routes, noise, rolls, strict=True):
        method, path, _, median = ROUTES[route]
        failure, slow = model.trouble(offset_s + float(at_s), _target(path))
        failed = bool(roll < failure)
        latency = round(float(median * wobble * slow), 1)
        status = 500 if failed else 200
        if not failed and client_roll < model.client_error_rate:
            status = {"/api/bookings": 409, "/api/webhooks/stripe": 400}.get(path, 404)
        began = start_us + int(at_s * US)
        finished = began + int(latency * 1000)
        request = {
            "event": "http_request_completed",
            "method": method,
            "path": path,
            "statusCode": status,
            "responseTimeMs": latency,
            "timestamp": began // 1000,
        }
        yield finished, orjson.dumps(request)
        domain = _domain_event(path, failed, status, rng)
        if domain is not None:
            domain["timestamp"] = iso_utc(finished - finished % 1000)
            yield finished, orjson.dumps(domain)


def main(argv: list[str] | None = None) -> None:
    """Write a synthetic log file (optionally gzip) for demos and benchmarks."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--hours", type=float, default=6.0)
    parser.add_argument("--rate", type=float, default=10.0, help="requests per second")
    parser.add_argument("--start", default="2026-02-19T09:00:00Z")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--if-missing", action="store_true", help="do nothing if --out exists")
    args = parser.parse_args(argv)
    if args.if_missing and args.out.exists():
        return
    seconds = args.hours * 3600
    model = TrafficModel(
        rate=args.rate,
        incidents=[
            Incident(seconds * 0.30, 15 * 60, "errors", 0.08, "api"),
            Incident(seconds * 0.55, 20 * 60, "latency", 4.0, "all"),
            Incident(seconds * 0.80, 8 * 60, "errors", 0.3, "payment"),
        ],
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    opener = gzip.open if args.out.suffix == ".gz" else open
    with opener(args.out, "wb") as out:
        lines = generate_lines(parse_instant(args.start), seconds, model, args.seed)
        out.writelines(line + b"\n" for _, line in lines)
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
