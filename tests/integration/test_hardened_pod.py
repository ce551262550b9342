"""What a hardened pod does to `slotail run` (issue 18, section 4), each against a real daemon.

A read-only root filesystem with no state volume, clients that send garbage or
hold connections open, a config reload that removes an SLO, and kill -9 in a
loop: the daemon says what is wrong in one line, keeps its log JSON, keeps
serving, and its counters never go backwards.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import select
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.sidecar import AVAILABILITY, LogWriter, Sidecar, Truth, config_text, free_port, wait_until

pytestmark = pytest.mark.integration
NOBODY = 65534


# ---- a state directory that cannot be written --------------------------------------------------


def _under_a_file(tmp: Path) -> tuple[Path, tuple[str, ...]]:
    """A state directory that cannot be created: its parent is a file (ENOTDIR, root or not)."""
    (tmp / "a-file").write_text("")
    return tmp / "a-file" / "state", ()


def _read_only_mode(tmp: Path) -> tuple[Path, tuple[str, ...]]:
    """A mode-0555 state directory (EACCES); as root, the daemon runs as `nobody`, whom modes stop."""
    state = tmp / "state"
    state.mkdir(mode=0o555)
    state.chmod(0o555)
    if os.geteuid() != 0:
        return state, ()
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: mode 0555 cannot stop root")
    return state, ("setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups")


def _read_only_mount(tmp: Path) -> tuple[Path, tuple[str, ...]]:
    """A state directory on a read-only filesystem (EROFS), as in a `readOnlyRootFilesystem` pod: a
    read-only tmpfs mounted over it in a private mount namespace (unshare, where it is permitted)."""
    state = tmp / "state"
    state.mkdir()
    mount = f'mount -t tmpfs -o ro tmpfs {state} && exec "$@"'
    prefix = ("unshare", "--mount", "--map-root-user", "sh", "-c", mount, "sh")
    if os.geteuid() == 0:
        prefix = ("unshare", "--mount", "sh", "-c", mount, "sh")
    probe = subprocess.run([*prefix, "touch", str(state / "probe")], capture_output=True, timeout=10)
    if b"Read-only file system" not in probe.stderr:
        pytest.skip(f"cannot mount a read-only tmpfs here: {probe.stderr.decode().strip()}")
    return state, prefix


@pytest.fixture
def outside_tmp() -> Iterator[Path]:
    """A directory `nobody` can reach (pytest's tmp is 0700)."""
    tmp = Path(tempfile.mkdtemp(prefix="slotail-ro-"))
    tmp.chmod(0o755)
    yield tmp
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (_under_a_file, "not a directory"),
        (_read_only_mode, "permission denied"),
        (_read_only_mount, "read-only file system"),
    ],
    ids=["under-a-file", "mode-0555", "read-only-mount"],
)
def test_a_state_directory_that_cannot_be_written_stops_start_up_with_one_line_and_exit_2(
    outside_tmp, make, why
):
    """A state directory that cannot be created or written stops `slotail run` with exit 2 and one line
    on stderr naming the directory, why, and what to do (mount a volume there or pass --state-dir)."""
    logs = outside_tmp / "logs"
    logs.mkdir(mode=0o755)
    config = outside_tmp / "slotail.yaml"
    config.write_text(config_text(logs))
    state, prefix = make(outside_tmp)
    sidecar = Sidecar(outside_tmp, config, prefix=prefix)
    sidecar.state_dir = state

    proc = subprocess.run(sidecar.command(free_port()), capture_output=True, timeout=30)

    stderr = proc.stderr.decode()
    assert proc.returncode == 2, stderr
    assert len(stderr.splitlines()) == 1, stderr
    line = stderr.lower()
    assert str(state) in stderr and why in line, stderr
    assert "mount a writable volume" in line and "--state-dir" in line, stderr


# ---- the daemon's own log under bad requests ------------------------------------------------------


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    path = tmp_path / "logs"
    path.mkdir()
    return path


@pytest.fixture
def sidecar(tmp_path: Path, logs: Path) -> Iterator[Sidecar]:
    config = tmp_path / "slotail.yaml"
    config.write_text(config_text(logs))
    daemon = Sidecar(tmp_path, config)
    yield daemon
    daemon.close()


def _exchange(port: int, data: bytes) -> None:
    """Send `data` on a new connection and read until the server answers or closes (errors ignored)."""
    # The server may answer 400 and close while the rest is still being sent.
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock, contextlib.suppress(OSError):
        sock.sendall(data)
        sock.recv(4096)


def _tls_hello(port: int) -> None:
    """A TLS client hello to a plain HTTP port."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock, contextlib.suppress(OSError):
        context.wrap_socket(sock).close()


BAD_REQUESTS: dict[str, Callable[[int], None]] = {
    "1 MiB header": lambda port: _exchange(
        port, b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (1 << 20) + b"\r\n\r\n"
    ),
    "garbage bytes": lambda port: _exchange(port, bytes(range(256)) * 16),
    "TLS hello": _tls_hello,
    "request line over the limit": lambda port: _exchange(
        port, b"GET /" + b"a" * 20_000 + b" HTTP/1.1\r\n\r\n"
    ),
    "bad header line": lambda port: _exchange(port, b"GET / HTTP/1.1\r\nno colon here\r\n\r\n"),
}


def json_records(path: Path) -> list[dict]:
    """Every line of a daemon's stderr, each of which must be one JSON object."""
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            raise AssertionError(f"not a JSON log line: {line!r}\n{path.read_text()[:4000]}") from None
    return records


def test_bad_requests_leave_every_stderr_line_json_with_at_most_one_warning_per_10_seconds(sidecar, logs):
    """Malformed requests (a 1 MiB header, garbage, a TLS hello, an over-long request line) get 400s; the
    daemon keeps serving, every stderr line parses as JSON, and they make one rate-limited warning line
    (at most one per 10 s, counting the ones it suppressed), never a traceback."""
    truth = Truth()
    writer = LogWriter(logs / "api.log")
    try:
        writer.write(truth.batch(10))
        sidecar.start()
        started = time.monotonic()
        for _ in range(5):
            for send in BAD_REQUESTS.values():
                send(sidecar.port)
        sidecar.converge(truth, hold=0)  # still serving, and counting
        elapsed = time.monotonic() - started
        assert sidecar.stop(signal.SIGTERM) == 0
    finally:
        writer.close()

    records = json_records(sidecar.stderr_path)
    warnings = [r for r in records if r["msg"] == "bad HTTP request"]
    assert 1 <= len(warnings) <= 1 + elapsed // 10, records
    assert all(r["level"] == "warning" and "exc" not in r for r in warnings), warnings
    assert all(isinstance(r.get("suppressed"), int) for r in warnings), warnings
    assert not [r for r in records if r["level"] in ("error", "critical")], records


# ---- an SLO removed from the config ---------------------------------------------------------------


def slo_samples(sidecar: Sidecar, slo: str) -> list[str]:
    """Every /metrics sample of the SLO `slo`, in any family."""
    return sorted(f"{name}{dict(labels)}" for name, labels in sidecar.metrics() if ("slo", slo) in labels)


def test_an_slo_removed_by_sighup_or_a_restart_leaves_metrics_entirely(sidecar, logs):
    """Reloading (SIGHUP) a config without one of its two SLOs removes every sample of that SLO from
    /metrics, counters included; the kept SLO counts on; a restart with that config shows no trace of it."""
    truth = Truth()
    writer = LogWriter(logs / "api.log")
    try:
        writer.write(truth.batch(12))
        sidecar.start().wait_counted(truth)
        assert slo_samples(sidecar, "latency"), sidecar.diagnostics()

        sidecar.config.write_text(config_text(logs, AVAILABILITY))
        sidecar.send(signal.SIGHUP)
        truth.slos = ("availability",)
        wait_until(
            lambda: not slo_samples(sidecar, "latency"), describe=lambda: str(slo_samples(sidecar, "latency"))
        )
        writer.write(truth.batch(5))
        sidecar.converge(truth)
        assert not slo_samples(sidecar, "latency")

        assert sidecar.stop(signal.SIGTERM) == 0
        sidecar.start().converge(truth, hold=0)
        sidecar.document()  # a tick has published the snapshot's gauges
        assert not slo_samples(sidecar, "latency"), sidecar.diagnostics()
    finally:
        writer.close()


# ---- kill -9, again and again ---------------------------------------------------------------------

KILLS = 18


class RotatingWriter(threading.Thread):
    """An API writing requests, renaming its log aside (still under the glob) every `rotate_s`, and writing
    a few lines more to the renamed file before it reopens the new one, as a logger's last writes do."""

    def __init__(self, logs: Path, truth: Truth, rotate_s: float = 0.4) -> None:
        super().__init__(daemon=True)
        self.logs, self.truth, self.rotate_s = logs, truth, rotate_s
        self.stop = threading.Event()
        self.rotations = 0

    def run(self) -> None:
        log = LogWriter(self.logs / "api.log")
        rotate_at = time.monotonic() + self.rotate_s
        while not self.stop.is_set():
            log.write(self.truth.batch(3))
            if time.monotonic() >= rotate_at:
                self.rotations += 1
                os.rename(self.logs / "api.log", self.logs / f"api-{self.rotations}.log")
                log.write(self.truth.batch(1))  # written after the rename: still counted once
                log.close()
                log = LogWriter(self.logs / "api.log")
                rotate_at = time.monotonic() + self.rotate_s
            time.sleep(0.01)
        log.close()


def counter_samples(sidecar: Sidecar) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every counter sample of /metrics."""
    return {key: value for key, value in sidecar.metrics().items() if key[0].endswith("_total")}


def test_no_counter_goes_backwards_across_18_kill_9_restarts_during_rotations(sidecar, logs):
    """kill -9 at random moments while the API writes and rotates, 18 times: every scrape, from the moment
    each new daemon answers HTTP (before its state is loaded), shows each counter at or above every value
    shown before; the killed daemons logged nothing alarming; at the end every line counts exactly once."""
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    truth = Truth()
    writer = RotatingWriter(logs, truth)
    highest: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}

    def scrape() -> None:
        for key, value in counter_samples(sidecar).items():
            assert value >= highest.get(key, 0), (
                f"{key} went back to {value} from {highest[key]}, start {sidecar.starts} (seed {seed})"
                f"\n{sidecar.diagnostics()}"
            )
            highest[key] = value

    writer.start()
    try:
        for _ in range(KILLS):
            sidecar.start(ready=False)  # answering HTTP: scrapes begin before the checkpoint is restored
            deadline = time.monotonic() + rng.uniform(0.3, 1.2)
            while time.monotonic() < deadline:
                scrape()
            assert sidecar.stop(signal.SIGKILL) == -signal.SIGKILL
            records = json_records(sidecar.stderr_path)
            assert not [r for r in records if r["level"] in ("warning", "error", "critical")], records
        sidecar.start(ready=False)
        scrape()
    finally:
        writer.stop.set()
        writer.join()

    assert writer.rotations >= KILLS // 2, writer.rotations
    sidecar.converge(truth)
    scrape()
    assert highest[("slotail_rotations_total", frozenset())] >= 1


# ---- clients that hold connections ---------------------------------------------------------------

HEADER_TIMEOUT_S = 5  # the default --http-header-timeout
MAX_CONNECTIONS = 512  # the default --http-max-connections
IDLE, SLOWLORIS = 500, 200


class Held:
    """Connections a client holds open: some idle, some trickling a request head a byte a second."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.socks: dict[socket.socket, str] = {}  # -> "idle" | "slow"
        self.opened: dict[socket.socket, float] = {}  # -> when it was connected
        self.closed: dict[socket.socket, float] = {}  # -> when the server was seen closing it

    def open(self, kind: str, n: int) -> None:
        for _ in range(n):
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
            self.opened[sock] = time.monotonic()
            sock.setblocking(False)
            if kind == "slow":
                sock.send(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            self.socks[sock] = kind

    def still_open(self, kind: str | None = None) -> list[socket.socket]:
        return [s for s, k in self.socks.items() if s not in self.closed and kind in (None, k)]

    def poll(self) -> None:
        """Note the connections the server has closed (EOF or reset)."""
        readable, _, _ = select.select(self.still_open(), [], [], 0)
        for sock in readable:
            try:
                gone = sock.recv(4096) == b""
            except (BlockingIOError, InterruptedError):
                gone = False
            except OSError:
                gone = True
            if gone:
                self.closed[sock] = time.monotonic()

    def trickle(self) -> None:
        """One more header byte on every slow connection still open."""
        for sock in self.still_open("slow"):
            try:
                sock.send(b"a")
            except BlockingIOError:
                pass
            except OSError:
                self.closed[sock] = time.monotonic()

    def close(self) -> None:
        for sock in self.socks:
            sock.close()


def test_idle_and_slowloris_connections_neither_slow_scrapes_nor_stay_open(sidecar):
    """500 idle connections and 200 trickling a header a byte a second: /metrics scrapes still answer in
    under a second, no more than --http-max-connections are open at once, and every slowloris connection is
    closed once the header timeout has passed (the defaults: 5 s, 512)."""
    sidecar.start()
    held = Held(sidecar.port)
    try:
        held.open("idle", IDLE)
        held.open("slow", SLOWLORIS)
        opened = time.monotonic()
        scrapes, next_trickle = [], opened
        while time.monotonic() < opened + 3:
            started = time.perf_counter()
            status, _ = sidecar.get("/metrics")
            scrapes.append(time.perf_counter() - started)
            assert status == 200
            if time.monotonic() >= next_trickle:
                held.trickle()
                next_trickle += 1
            held.poll()
            time.sleep(0.05)
        assert max(scrapes) < 1.0, sorted(scrapes)[-5:]
        assert len(held.still_open()) <= MAX_CONNECTIONS, len(held.still_open())

        def all_closed() -> bool:
            held.trickle()
            held.poll()
            return not held.still_open()

        wait_until(
            all_closed, timeout=HEADER_TIMEOUT_S + 15, describe=lambda: f"{len(held.still_open())} open"
        )
        assert sidecar.get("/metrics")[0] == 200
        # The slowloris connections, the newest, were closed by their timeout (not sooner: not to make room).
        lived = sorted(held.closed[s] - held.opened[s] for s, kind in held.socks.items() if kind == "slow")
        assert lived[0] >= HEADER_TIMEOUT_S and lived[-1] <= HEADER_TIMEOUT_S + 10, (lived[0], lived[-1])
    finally:
        held.close()
