"""`slotail run`: the sidecar. Tails live logs, keeps the store, serves Prometheus.

One asyncio loop does everything in turn, so no state is shared across threads:
read what the files have (every `poll_s`, and at once when a log file appears
or standard input has more), commit a checkpoint (every
`checkpoint_s`), tick the engine with the wall clock (every `tick_s`). A tick
pauses every few milliseconds to let HTTP requests be served (nothing else runs
meanwhile, so the store stays as the tick found it). /metrics shows counters as
of the last commit, so they never go backwards, even after kill -9.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import dataclasses
import hashlib
import ipaddress
import logging
import os
import signal
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from slotail import names as n
from slotail.backfill import Backfill
from slotail.classify.series import SeriesRegistry
from slotail.config import Config, load_config
from slotail.engine import Engine, WallClock
from slotail.engine.clock import Clock
from slotail.engine.engine import Steps, build_plans, build_store, finish
from slotail.engine.snapshot import Snapshot
from slotail.errors import SlotailError, SourceError
from slotail.ledger import EVERYTHING, Entry, Ledger
from slotail.outputs.alertmanager import AlertmanagerPusher
from slotail.outputs.http import Endpoints, make_app
from slotail.outputs.lookback import SLOLookback, lookback
from slotail.outputs.prometheus import MetricsBody, View
from slotail.outputs.server import ConnectionGuard, Limits, Serving, quiet_bad_requests, serve
from slotail.outputs.webconfig import BasicAuth, load_web_config, ssl_context
from slotail.pipeline import LineStats, Pipeline
from slotail.sources.archive import content_head, expand, is_local
from slotail.sources.batch import RawBatch
from slotail.sources.identity import HEAD_BYTES, digest
from slotail.sources.positions import Position
from slotail.sources.stdin import StdinSource
from slotail.sources.tail import TailSource
from slotail.state import Checkpoint, CorruptCheckpoint, StateDB
from slotail.store import Store
from slotail.store.layout import AHEAD_S
from slotail.store.persist import copy_state, restore_rows, store_meta, store_rows
from slotail.timeutil import US
from slotail.totals import Totals

logger = logging.getLogger("slotail.daemon")
LOG_EVERY_FAILURE = 60  # while checkpoints keep failing, one error in this many is logged
TICK_SLICE_S = 0.002  # a tick runs this long at most before it lets the loop serve HTTP requests


@dataclass(frozen=True)
class Options:
    """How the daemon runs; the CLI fills these in."""

    config_path: Path
    host: str = "127.0.0.1"
    port: int = 9464
    state_dir: Path = Path("var/state")
    backfill: tuple[str, ...] = ()
    poll_s: float = 0.25
    tick_s: float = 5.0
    checkpoint_s: float = 1.0
    skew_s: int = 300
    lateness_s: int = 300
    web_config: Path | None = None  # TLS and basic auth (Prometheus web-config.yml format)
    http: Limits = field(default_factory=Limits)  # what HTTP clients may hold: header timeout, connections
    stdin: bool = False  # also read standard input, live
    discovery: str = "auto"  # how log files are found: auto, inotify or poll


def slo_keys(config: Config) -> list[str]:
    """A key per SLO that changes when what its series count changes."""
    keys = []
    for slo in config.slos:
        parts: tuple[object, ...] = (slo.sli, config.timestamp, config.store.bucket)
        if slo.group_by:
            parts = (*parts, tuple(slo.group_by), slo.max_series)
        maintenance = config.maintenance_for(slo)
        definition = repr((*parts, maintenance) if maintenance else parts).encode()
        keys.append(f"{slo.name}:{hashlib.blake2b(definition, digest_size=8).hexdigest()}")
    return keys


def series_keys(keys: list[str], registry: SeriesRegistry | None = None) -> list[str]:
    """A key per series: its SLO's key (from `slo_keys`), then (for a grouped SLO's series) its labels."""
    if registry is None or not registry.grouped:
        return keys
    return [
        keys[slo] + ("/" + orjson.dumps(labels).decode() if registry.slos[slo].group_by else "")
        for slo, labels in zip(registry.slo_of, registry.labels, strict=True)
    ]


class ListenError(SlotailError):
    """The HTTP address cannot be bound."""

    exit_code = 2


class Runtime:
    """Everything a config builds; replaced whole on reload."""

    def __init__(self, config: Config, clock: Clock) -> None:
        self.config = config
        self.store: Store = build_store(config, build_plans(config))
        registry = self.store.registry
        assert registry is not None  # build_store numbers series with a registry
        self.registry = registry
        self.pipeline = Pipeline(config, self.registry)
        self.engine = Engine(config, self.store, clock)
        self.slo_keys = slo_keys(config)
        self.names = [slo.name for slo in config.slos]
        # How far back of the wall clock the store holds events: older ones no window can read.
        self.holds_us = (max(t.span_s for t in self.store.layout.tiers) - AHEAD_S) * US

    @property
    def keys(self) -> list[str]:
        """Every series' key, in series order (grouped SLOs add series as their tuples appear)."""
        return series_keys(self.slo_keys, self.registry)

    def unchanged(self, saved_keys: list[str]) -> list[str]:
        """Names of the SLOs whose definition is the same as in `saved_keys` (series keys of a checkpoint
        or of the runtime a reload replaces)."""
        saved = {key.split("/", 1)[0] for key in saved_keys}  # SLO keys hold no "/": names nor hex do
        return [slo.name for slo, key in zip(self.config.slos, self.slo_keys, strict=True) if key in saved]

    def restore_groups(self, groups: list[dict[str, Any]], saved_keys: list[str]) -> None:
        """Register the saved group tuples of SLOs whose definition is unchanged, in their old order."""
        self.registry.restore(groups, self.unchanged(saved_keys))
        self.store.reserve(len(self.registry))
        self.engine.sync()

    def declare(self, totals: Totals, saved_keys: list[str]) -> None:
        """The SLO counters of this config: those of SLOs whose definition is as in `saved_keys` go on,
        the others' (removed, or counting something else now) go; the SLOs that are new, or start over,
        start at 0: events of ungrouped SLOs (a group's appear with it), overflow."""
        totals.keep_slos(set(self.unchanged(saved_keys)))
        slos = self.config.slos
        totals.declare([slo.name for slo in slos if not slo.group_by])
        for slo in slos:
            if slo.group_by:
                totals.overflow[slo.name] += 0

    def count(self, totals: Totals, counts: npt.NDArray[np.int64]) -> None:
        """Add events by series and outcome (rows by series id) to `totals`, each under its labels."""
        registry = self.registry
        for sid in np.flatnonzero(counts[: len(registry)].any(axis=1)).tolist():
            slo = registry.slo_of[sid]
            totals.add_events(self.names[slo], counts[sid].tolist(), registry.label_pairs(sid))
            if sid == slo and registry.slos[slo].group_by:
                totals.overflow[self.names[slo]] += int(counts[sid].sum())

    def alert_states(self) -> dict[str, Any]:
        keys = self.keys  # once: every checkpoint saves every tracker
        trackers = self.engine.trackers.items()
        return {f"{keys[sid]}/{tracker.rule!r}": tracker.state() for (sid, _), tracker in trackers}

    def restore_alerts(self, saved: dict[str, Any]) -> None:
        keys = self.keys
        for (sid, _), tracker in self.engine.trackers.items():
            state = saved.get(f"{keys[sid]}/{tracker.rule!r}")
            if state is not None:
                tracker.restore(state)

    def adopt(self, old: Runtime) -> int:
        """Take over the state of `old`'s unchanged SLOs; returns how many kept their state."""
        self.restore_groups(old.registry.state(), old.keys)
        kept = copy_state(old.store, old.keys, self.store, self.keys)
        self.restore_alerts(old.alert_states())
        return kept


@dataclass
class Published:
    """What the HTTP side reads: replaced, never mutated, by the loop."""

    totals: Totals | None = None  # None until the checkpoint is restored: no counter rather than one at 0
    snapshot: Snapshot | None = None
    lines: LineStats = field(default_factory=LineStats)
    gauges: dict[str, float] = field(default_factory=dict)
    recent: Mapping[str, SLOLookback] = field(default_factory=dict)  # for the status page


class Daemon:
    """The sidecar's state and its loop."""

    def __init__(self, options: Options, clock: Clock | None = None) -> None:
        self.options = options
        self.tls, self.auth = _web_security(options.web_config)
        self.clock = clock if clock is not None else WallClock()  # tests step a ManualClock
        self.runtime = Runtime(load_config(options.config_path), self.clock)
        self.state = StateDB(options.state_dir)
        self.totals = Totals()
        self.published = Published()
        self.metrics_body = MetricsBody(self.view)
        self.tailer: TailSource | None = None
        self.stdin = StdinSource(self.runtime.config.store.max_line_bytes) if options.stdin else None
        self.ledger = Ledger()
        self.pusher = self._pusher(self.runtime.config)
        self.ready = False
        self.newest_us = 0
        self._dirty = True
        self._full_checkpoint = True  # the first commit rewrites every bucket (layouts may have changed)
        self._durable_at = time.time()
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()  # a source has something: read at once
        self._waking: set[int] = set()  # descriptors the loop wakes on
        self._reload_requested = False
        self._missing: list[str] = []  # source directories missing at the last scan
        self._tail_errors: dict[str, int] = {}  # the tailer's error counts already in the totals
        self._failing = 0  # checkpoints failed in a row

    # ---- start-up -------------------------------------------------------------------------------

    def restore(self) -> None:
        """Load the last checkpoint (or start clean, loudly, if it is corrupt) and open the sources."""
        try:
            checkpoint = self.state.load()
        except CorruptCheckpoint as exc:
            logger.error("checkpoint is corrupt; starting clean", extra={"error": str(exc)})
            self.state.reset()
            checkpoint = None
        resume = None
        if checkpoint is not None:
            self.runtime.restore_groups(checkpoint.meta.get("groups", []), checkpoint.meta.get("keys", []))
            kept = restore_rows(self.runtime.store, self.runtime.keys, checkpoint.meta, checkpoint.rows)
            self.totals = Totals.from_json(checkpoint.extra.get("totals", {}))
            self.runtime.restore_alerts(checkpoint.extra.get("alerts", {}))
            self.ledger = Ledger.from_json(checkpoint.extra.get("ledger", []))
            resume = checkpoint.positions
            logger.info("restored checkpoint", extra={"series": kept, "files": len(resume)})
        self.runtime.declare(self.totals, checkpoint.meta.get("keys", []) if checkpoint is not None else [])
        self._publish_totals()  # the last commit's; what the warm start adds shows once committed
        self.tailer = self._tailer(resume)
        logger.info("sources", extra={"discovery": self.tailer.discovery, "stdin": self.stdin is not None})
        globs = [*self.options.backfill, *(g for s in self.runtime.config.sources for g in s.backfill)]
        if globs:
            self._warm_start(globs, resume or [])

    def _warm_start(self, globs: list[str], positions: list[Position]) -> None:
        """Read rotated archives through the backfill path, skipping content already counted."""
        assert self.tailer is not None
        tracked = self.tailer.tracked()
        lookup = Ledger.from_json(self.ledger.to_json())
        for pos in positions:  # checkpointed files not found live: rotated (and maybe compressed) while down
            if (pos.dev, pos.ino) not in tracked:
                lookup.record(Entry(pos.head_len, pos.head_hash, pos.offset))
        paths, skip, heads = [], {}, {}
        for path in _archives(globs):
            key = _identity(path) if is_local(path) else None  # URLs are never tailed
            if is_local(path) and (key is None or key in tracked):
                continue  # the tailer reads this one (or it went)
            heads[path] = content_head(path, HEAD_BYTES)
            skip[path] = lookup.counted(heads[path])
            if skip[path] < EVERYTHING:
                paths.append(path)
        runtime = self.runtime
        backfill = Backfill(runtime.config, store=runtime.store, pipeline=runtime.pipeline)
        result = backfill.run(paths, skip)
        self.totals.add_lines("backfill", result.lines)
        runtime.count(self.totals, backfill.counted)
        failed = result.diagnostics.failed_paths
        for path in paths:
            if heads[path] and path not in failed:
                self.ledger.record(Entry(len(heads[path]), digest(heads[path]), EVERYTHING))
        runtime.engine.sync()  # trackers for the groups the archives registered
        for alert, tracker in runtime.engine.trackers.items():
            if tracker.last_us is None:
                tracker.restore(backfill.engine.trackers[alert].state())
        logger.info(
            "warm start done",
            extra={
                "archives": len(paths),
                "skipped": len(heads) - len(paths),
                "lines": result.lines.read,
                "source_errors": len(failed),
            },
        )

    def _pusher(self, config: Config) -> AlertmanagerPusher | None:
        if config.alertmanager is None:
            return None
        return AlertmanagerPusher(config.alertmanager, self._url())

    def _url(self) -> str:
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://{self.options.host}:{self.options.port}/"

    def _tailer(self, resume: list[Any] | None) -> TailSource:
        config = self.runtime.config
        self._tail_errors = {}
        discovery = self.options.discovery
        return TailSource(config.sources, config.store.max_line_bytes, resume=resume, discovery=discovery)

    # ---- the loop -------------------------------------------------------------------------------

    async def run(self) -> None:
        """Serve until SIGTERM or SIGINT, then drain, checkpoint and stop.

        HTTP is up first (/readyz says 503) while state loads and archives warm the store.
        """
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stopping.set)
        loop.add_signal_handler(signal.SIGHUP, self._request_reload)
        serving = await self._serve()
        try:
            await asyncio.to_thread(self.restore)
            await self._loop()
        finally:
            self._wake_on(set())
            if self.tailer is not None:
                self._drain()
                self._checkpoint(force=True)
                self.tailer.close()
            if self.pusher is not None:
                await self.pusher.drain()
            await serving.cleanup()
            self.state.close()
            logger.info("stopped")

    async def _serve(self) -> Serving:
        endpoints = Endpoints(
            metrics=self.metrics_body,
            snapshot=lambda: self.published.snapshot,
            lines=lambda: self.published.lines,
            ready=lambda: self.ready,
            recent=lambda: self.published.recent,
        )
        guard = ConnectionGuard(self.options.http)
        middlewares = [self.auth.middleware()] if self.auth is not None else []
        quiet_bad_requests()
        app = make_app(endpoints, [*middlewares, guard.middleware()])
        try:
            serving = await serve(app, guard, self.options.host, self.options.port, self.tls)
        except OSError as exc:
            self.state.close()
            where = f"{self.options.host}:{self.options.port}"
            raise ListenError(f"cannot listen on {where}: {exc.strerror or exc}") from None
        logger.info("listening", extra={"url": self._url(), "basic_auth": self.auth is not None})
        if not _loopback(self.options.host) and (self.tls is None or self.auth is None):
            logger.warning(
                "listening beyond this host without TLS and basic auth; see --web-config",
                extra={"tls": self.tls is not None, "basic_auth": self.auth is not None},
            )
        return serving

    async def _loop(self) -> None:
        options = self.options
        next_checkpoint = next_tick = time.monotonic()
        while not self._stopping.is_set():
            busy = self._poll()
            self._watch_directories()
            self._wake_on(self._wake_fds())
            now = time.monotonic()
            if self._reload_requested:
                self._reload()
                next_tick = now  # at once, with the new config
            if now >= next_tick:
                await self._tick_sliced()
                next_tick = now + options.tick_s
            if now >= next_checkpoint:
                self._checkpoint()
                next_checkpoint = now + options.checkpoint_s
            if not busy:
                await self._idle(options.poll_s)
            else:
                await asyncio.sleep(0)

    async def _idle(self, timeout: float) -> None:
        """Wait until told to stop, a source has something, or `timeout` s have passed."""
        self._wake.clear()
        waits = [asyncio.ensure_future(event.wait()) for event in (self._stopping, self._wake)]
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        for wait in waits:
            wait.cancel()

    def _wake_fds(self) -> set[int]:
        """Descriptors that turn readable when a source has something: inotify's, standard input."""
        sources = (self.tailer, self.stdin)
        return {fd for source in sources if source is not None and (fd := source.fileno()) is not None}

    def _wake_on(self, fds: set[int]) -> None:
        """Have the loop wake when any of `fds` turns readable (and no longer on others)."""
        if fds == self._waking:
            return
        loop = asyncio.get_running_loop()
        for fd in self._waking - fds:
            loop.remove_reader(fd)
        for fd in fds - self._waking:
            try:
                loop.add_reader(fd, self._wake.set)
            except OSError:  # a regular file as standard input: always readable, read every poll_s
                continue
        self._waking = fds

    def _drain(self) -> None:
        """Read what is already written before the final checkpoint (bounded to a few seconds)."""
        deadline, quiet = time.monotonic() + 3.0, 0
        while quiet < 2 and time.monotonic() < deadline:
            quiet = 0 if self._poll() else quiet + 1

    # ---- reading --------------------------------------------------------------------------------

    def _poll(self) -> bool:
        """One round of reading; returns whether anything came in (lines, or bytes of a line yet to end)."""
        assert self.tailer is not None
        before = self.tailer.stats
        counts = (before.bytes_read, before.rotations, before.truncations)
        batches = self.tailer.poll() + self._poll_stdin()
        for batch in batches:
            self._process(batch)
        after = self.tailer.stats
        for key, old, new in zip(
            ("bytes_read", "rotations", "truncations"),
            counts,
            (after.bytes_read, after.rotations, after.truncations),
            strict=True,
        ):
            if new != old:
                self.totals.health[key] += new - old
                self._dirty = True
        self._count_source_errors(after.errors)
        return after.bytes_read != counts[0] or any(b.lines or b.too_long for b in batches)

    def _poll_stdin(self) -> list[RawBatch]:
        """What standard input has (with --stdin); its bytes count as read, its end is logged."""
        if self.stdin is None or self.stdin.done:
            return []
        before = self.stdin.bytes_read
        batches = self.stdin.poll()
        self.totals.health["bytes_read"] += self.stdin.bytes_read - before
        if self.stdin.done:
            error = str(self.stdin.error) if self.stdin.error is not None else None
            logger.info(
                "standard input ended; serving on", extra={"bytes": self.stdin.bytes_read, "error": error}
            )
        return batches

    def _count_source_errors(self, errors: dict[str, int]) -> None:
        """Fold the tailer's error counts into the totals; the first of each kind is also logged."""
        for reason, count in errors.items():
            seen = self._tail_errors.get(reason, 0)
            if count == seen:
                continue
            if not seen:
                logger.warning("cannot read a log file; retrying at each scan", extra={"reason": reason})
            self.totals.source_errors[reason] += count - seen
            self._tail_errors[reason] = count
            self._dirty = True

    def _watch_directories(self) -> None:
        """Not ready while a source's directory is missing: logged once as it goes and as it comes."""
        assert self.tailer is not None
        missing = self.tailer.missing
        if missing != self._missing:
            if missing:
                logger.warning("log directory missing; waiting for it", extra={"directories": missing})
            else:
                logger.info("log directories found", extra={"directories": self._missing})
            self._missing = list(missing)
        self.ready = not missing

    def _process(self, batch: RawBatch) -> None:
        runtime = self.runtime
        obs, stats = runtime.pipeline.observe(batch)
        runtime.pipeline.warn(stats)
        self.totals.add_lines(batch.source, stats)
        self._dirty = True
        if not len(obs):
            return
        now = self.clock.now_us()
        future = obs.ts_us > now + self.options.skew_s * US
        old = obs.ts_us <= now - runtime.holds_us
        if future.any() or old.any():
            self.totals.dropped["future"] += int(future.sum())
            self.totals.dropped["too_old"] += int(old.sum())
            obs = obs.select(~(future | old))
        kept, counts = runtime.store.add_counted(obs)
        self.totals.dropped["too_old"] += int(len(kept) - kept.sum())
        kept_ts = obs.ts_us[kept]
        self.totals.health["late"] += int(np.count_nonzero(kept_ts < now - self.options.lateness_s * US))
        if len(kept_ts):
            self.newest_us = max(self.newest_us, int(kept_ts.max()))
            runtime.count(self.totals, counts)

    # ---- ticking, checkpoints, publishing -------------------------------------------------------

    def _tick(self) -> None:
        """An engine tick, all at once."""
        finish(self._tick_steps())

    async def _tick_sliced(self) -> None:
        """An engine tick in slices of at most about `TICK_SLICE_S`, serving requests between them, so
        a scrape never waits for a whole tick (50 SLOs over 30 days: tens of milliseconds)."""
        steps = self._tick_steps()
        while True:
            deadline = time.perf_counter() + TICK_SLICE_S
            try:
                next(steps)  # at least one step a slice
                while time.perf_counter() < deadline:
                    next(steps)
            except StopIteration:
                return
            await asyncio.sleep(0)

    def _tick_steps(self) -> Steps[None]:
        """Evaluate the alerts, snapshot every SLO and publish it (with its /metrics text), in steps."""
        started = time.perf_counter()
        runtime = self.runtime
        runtime.engine.tick()
        snapshot = yield from runtime.engine.snapshot_steps()
        if self.pusher is not None:
            errors = self.pusher.errors
            self.pusher.push(runtime.engine.plans, snapshot)
            self.totals.health["alertmanager_errors"] += self.pusher.errors - errors
            yield
        recent = lookback(runtime.engine, snapshot.at_us)
        yield
        self.metrics_body.snapshot_text(snapshot)  # rendered here, not by the scrapes that follow
        yield
        gauges = {n.TICK_DURATION: time.perf_counter() - started, n.STORE_BYTES: runtime.store.nbytes()}
        self.published = Published(
            self.published.totals,
            snapshot,
            self.published.lines,
            {**self.published.gauges, **gauges},
            recent=recent,
        )

    def _checkpoint(self, force: bool = False) -> None:
        assert self.tailer is not None
        if not (self._dirty or force):
            self._durable_at = time.time()
            self._publish_totals()
            return
        runtime = self.runtime
        for pos in self.tailer.finished:
            self.ledger.record(Entry(pos.head_len, pos.head_hash, pos.offset))
        self.tailer.finished.clear()
        extra = {
            "totals": self.totals.to_json(),
            "alerts": runtime.alert_states(),
            "ledger": self.ledger.to_json(),
        }
        full = self._full_checkpoint
        rows = store_rows(runtime.store, full=full)
        checkpoint = Checkpoint(
            store_meta(runtime.store, runtime.keys), rows, self.tailer.positions(), extra, full
        )
        try:
            took = self.state.save(checkpoint)
        except Exception as exc:  # disk full, I/O error: keep running, retry next time
            self._full_checkpoint = True  # the rows taken for this commit were not written
            self.totals.health["checkpoint_errors"] += 1
            self._publish_checkpoint_errors()
            self._failing += 1
            if self._failing % LOG_EVERY_FAILURE == 1:  # the first, then one in LOG_EVERY_FAILURE
                logger.error(
                    "checkpoint failed; will retry", extra={"error": str(exc), "failures": self._failing}
                )
            return
        if self._failing:
            logger.info("checkpoint committed again", extra={"failures": self._failing})
            self._failing = 0
        self._dirty = self._full_checkpoint = False
        self._durable_at = time.time()
        self._publish_totals({n.CHECKPOINT_DURATION: took})
        if full:  # after the warm start or a reload: big transient buffers were just freed
            trim_heap()

    def _publish_totals(self, gauges: dict[str, float] | None = None) -> None:
        merged = {**self.published.gauges, **(gauges or {})}
        totals = self.totals.copy()
        published = self.published
        self.published = Published(
            totals, published.snapshot, totals.line_stats(), merged, recent=published.recent
        )

    def _publish_checkpoint_errors(self) -> None:
        """Failed commits show at once; every other counter stays at the last commit."""
        published = self.published
        assert published.totals is not None  # commits begin once state is restored
        totals = published.totals.copy()
        totals.health["checkpoint_errors"] = self.totals.health["checkpoint_errors"]
        self.published = dataclasses.replace(published, totals=totals)

    def view(self) -> View:
        """The /metrics view: committed counters (none while state loads) plus live health gauges."""
        published = self.published
        gauges = dict(published.gauges)
        gauges[n.CHECKPOINT_AGE] = max(0.0, time.time() - self._durable_at)
        if self.newest_us:
            gauges[n.LAG] = max(0.0, (self.clock.now_us() - self.newest_us) / US)
        if self.tailer is not None:
            gauges[n.FILES_OPEN] = float(self.tailer.stats.files_opened - self.tailer.stats.files_closed)
        return View(published.totals, published.snapshot, gauges)

    # ---- reload ---------------------------------------------------------------------------------

    def _request_reload(self) -> None:
        self._reload_requested = True

    def _reload(self) -> None:
        """SIGHUP: swap in a new config, keeping the state of SLOs whose definition is unchanged."""
        self._reload_requested = False
        try:
            config = load_config(self.options.config_path)
        except SlotailError as exc:
            logger.error("reload failed; keeping the running config", extra={"error": str(exc)})
            return
        old, fresh = self.runtime, Runtime(config, self.clock)
        kept = fresh.adopt(old)
        self.runtime = fresh
        assert self.tailer is not None
        if config.sources != old.config.sources:
            positions = self.tailer.positions()
            self._wake_on(set())  # the watches close with the tailer
            self.tailer.close()
            self.tailer = self._tailer(positions)
        if config.alertmanager != old.config.alertmanager:
            self.pusher = self._pusher(config)
        fresh.declare(self.totals, old.keys)
        self._dirty = self._full_checkpoint = True
        logger.info("reloaded config", extra={"slos": len(config.slos), "kept_state": kept})


def _loopback(host: str) -> bool:
    """Whether `host` is only reachable from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _web_security(path: Path | None) -> tuple[ssl.SSLContext | None, BasicAuth | None]:
    """The TLS context and basic auth a web config asks for (neither without one)."""
    if path is None:
        return None, None
    web_config = load_web_config(path)
    tls = web_config.tls_server_config
    context = ssl_context(tls, path.parent, str(path)) if tls is not None else None
    return context, BasicAuth(web_config.basic_auth_users) if web_config.basic_auth_users else None


def trim_heap() -> None:
    """Hand memory the allocator holds but no longer uses back to the OS (glibc's malloc_trim)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(name).malloc_trim(0)


def _archives(globs: list[str]) -> list[str]:
    """The archives the warm start's globs name now; a glob that cannot be listed is logged and skipped."""
    found: set[str] = set()
    for pattern in globs:
        try:
            found.update(expand(pattern))
        except SourceError as exc:
            logger.error("cannot list warm-start archives; going on without them", extra={"error": str(exc)})
    return sorted(found)


def _identity(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def run(options: Options) -> None:
    """Run the daemon until it is told to stop."""
    import uvloop

    daemon = Daemon(options)
    uvloop.run(daemon.run())
