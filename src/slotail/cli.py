"""The `slotail` command."""

from __future__ import annotations

import io
import logging
import os
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import msgspec

from slotail import __version__
from slotail import log as slog
from slotail.backfill import Backfill, BackfillResult, keep_freed_memory, step_problem
from slotail.config import load_config
from slotail.engine import Engine, WallClock
from slotail.engine.engine import Evaluation
from slotail.errors import SlotailError
from slotail.outputs.document import document, dumps
from slotail.sources.archive import STDIN, expand, is_local, stored_size
from slotail.sources.discovery import MODES
from slotail.sources.remote import is_url
from slotail.timeutil import parse_duration, parse_instant
from slotail.workers import worker_count

if TYPE_CHECKING:
    from slotail.outputs.compliance import ComplianceRecorder
    from slotail.outputs.history import HistoryRecorder

# Reports, the terminal table and progress bar (rich), OpenMetrics (prometheus_client) and the sidecar
# (aiohttp) are imported where they are used: a JSON backfill starts without them, ~70 ms sooner.
logger = logging.getLogger("slotail.cli")


def _duration(ctx: click.Context, param: click.Parameter, value: str) -> int:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _instant(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return parse_instant(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


config_option = click.option(
    "--config",
    "-c",
    "config_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The slotail YAML config.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="slotail")
@click.option(
    "--log-format",
    type=click.Choice(["auto", "json", "text"]),
    default="auto",
    show_default=True,
    help="slotail's own logs on stderr: JSON lines, or text on a terminal.",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
)
def cli(log_format: str, log_level: str) -> None:
    """Exact SLOs from structured JSON logs: burn rates, error budgets, alerts, Prometheus metrics.

    \b
    Validate a config:    slotail check --config slotail.yaml
    Replay log archives:  slotail backfill --config slotail.yaml api.log.3.gz api.log.2.zst api.log
    Run the sidecar:      slotail run --config slotail.yaml --listen 127.0.0.1:9464
    """
    slog.setup(log_format, log_level)


SAMPLE_LINES = 100_000  # lines `check --logs` reads from the start of each file


@cli.command()
@config_option
@click.option(
    "--logs",
    "dry_run",
    is_flag=True,
    help="Also run the config over the LOGFILES that follow (a dry run over a sample of each).",
)
@click.option(
    "--sample",
    default=SAMPLE_LINES,
    show_default=True,
    type=click.IntRange(min=1),
    help="Lines read from the start of each log file.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="The dry run's report: for people, or one JSON document.",
)
@click.argument("logfiles", nargs=-1, type=click.Path(exists=True, dir_okay=False, readable=True))
def check(config_path: Path, dry_run: bool, sample: int, fmt: str, logfiles: tuple[str, ...]) -> None:
    """Validate a config; print every problem with its key path and line (exit 2 if any).

    With --logs FILE..., also run it over the first lines of each log file (plain, .gz, .zst): per SLO,
    the events, good, bad and excluded it counted and the fields it could not read; exit 1 when an SLO
    matched no event, or its `bad` (or `good`) or latency can never be read from these logs.
    """
    config = load_config(config_path)
    if bool(logfiles) != dry_run:
        raise click.UsageError("--logs takes the log files to read: slotail check --config C --logs FILE...")
    alerts = sum(len(config.alert_rules(slo)) for slo in config.slos)
    summary = f"{config_path}: OK — {len(config.slos)} SLOs, {alerts} alerts"
    if not dry_run:
        click.echo(summary)
        return
    from slotail.dryrun import findings, render_json, render_text, run_sample  # not needed by the others

    found_sample = run_sample(config, list(logfiles), sample)
    found = findings(found_sample)
    if fmt == "json":
        sys.stdout.buffer.write(
            dumps({"config": str(config_path), **render_json(found_sample, found, sample)})
        )
    else:
        click.echo(f"{summary}\n{render_text(found_sample, found, sample)}", nl=False)
    if not all(f.ok for f in found):
        sys.exit(1)


def _workers(ctx: click.Context, param: click.Parameter, value: str) -> int:
    if value != "auto" and not (value.isdigit() and int(value) >= 1):
        raise click.BadParameter(f"expected a number of processes (1 or more) or auto; got {value!r}")
    return worker_count(value)


def _progress(
    paths: list[str], enabled: bool
) -> tuple[AbstractContextManager[Any], Callable[[int], None] | None]:
    if not enabled:
        return nullcontext(), None
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    progress = Progress(
        TextColumn("backfill"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    sizes = [stored_size(p) for p in paths]
    total = None if None in sizes else sum(s for s in sizes if s is not None)
    task = progress.add_task("read", total=total or None)
    return progress, lambda n: progress.advance(task, n)


def _archives(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[str]:
    """Local files (which must exist), `-` (standard input, at most once) and URLs, whose wildcards
    are expanded through their file system."""
    if values.count(STDIN) > 1:
        raise click.BadParameter("`-` (standard input) may be given once")
    local, paths = click.Path(exists=True, dir_okay=False, readable=True), []
    for value in values:
        if is_local(value):
            paths.append(str(local.convert(value, param, ctx)))
            continue
        found = expand(value) if is_url(value) else [value]
        if not found:
            raise click.BadParameter(f"no object matches {value}")
        paths += found
    return paths


@cli.command()
@config_option
@click.option(
    "--at",
    "at_us",
    callback=_instant,
    metavar="RFC3339",
    help="Evaluate at this time; later events are ignored. [default: the latest event]",
)
@click.option(
    "--step",
    "step_s",
    default="1m",
    show_default=True,
    callback=_duration,
    help="Alert evaluation step (epoch-aligned).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "markdown", "html"]),
    default="table",
    show_default=True,
    help="Report format: a terminal table, the JSON document, the markdown weekly review, "
    "or a self-contained HTML report with charts.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Write the report to FILE instead of stdout.",
)
@click.option(
    "--lateness",
    "lateness_s",
    default="5m",
    show_default=True,
    callback=_duration,
    help="How far out of order lines may be before an alert step is evaluated without them.",
)
@click.option(
    "--openmetrics",
    "openmetrics",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="OUT",
    help="Also write every step's metrics, timestamped, as OpenMetrics (for promtool tsdb import).",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar on stderr. [default: when stderr is a terminal]",
)
@click.option(
    "--workers",
    default="auto",
    show_default=True,
    callback=_workers,
    metavar="N|auto",
    help="Processes that parse and classify large plain files (auto: one per CPU); same result.",
)
@click.argument("logfiles", nargs=-1, required=True, metavar="LOGFILE|URL|-...", callback=_archives)
def backfill(
    config_path: Path,
    at_us: int | None,
    step_s: int,
    fmt: str,
    out: Path | None,
    lateness_s: int,
    openmetrics: Path | None,
    progress: bool | None,
    workers: int,
    logfiles: list[str],
) -> str:
    """Replay log files (plain, .gz, .zst, in any order) and report every SLO in event time.

    LOGFILES are local files, `-` (standard input) or URLs (s3://bucket/prefix/*.gz, gs://, az://).
    """
    config = load_config(config_path)
    if problem := step_problem(step_s, config):
        raise click.BadParameter(problem, param_hint="'--step'")
    keep_freed_memory()
    paths = logfiles
    show = sys.stderr.isatty() if progress is None else progress
    bar, on_progress = _progress(paths, show)
    with bar:
        run = Backfill(
            config,
            step_s=step_s,
            at_us=at_us,
            lateness_s=lateness_s,
            on_progress=on_progress,
            workers=workers,
        )
        writer, recorder = None, None
        if openmetrics is not None:
            from slotail.outputs.openmetrics import OpenMetricsWriter

            writer = OpenMetricsWriter(run.engine)
        if fmt == "html":
            from slotail.outputs.history import HistoryRecorder

            recorder = HistoryRecorder(run.engine.plans)
        calendar = None
        if fmt in ("markdown", "html"):
            from slotail.outputs.compliance import ComplianceRecorder

            calendar = ComplianceRecorder(run.engine, step_s)
        run.on_evaluation = _each([h.add for h in (writer, recorder, calendar) if h is not None])
        result = run.run(paths)
    if writer is not None and openmetrics is not None:
        writer.write(openmetrics)
    _report(result, fmt, Report(run.engine, recorder, calendar), out)
    for error in result.diagnostics.source_errors:
        logger.warning("source error", extra={"error": error})
    lines = result.lines
    if lines.read and not lines.parsed:
        reasons = dict(sorted(lines.invalid.items()))
        logger.error("every line read was invalid: nothing was counted", extra={"invalid": reasons})
    if result.diagnostics.source_errors or (lines.read and not lines.parsed):
        sys.exit(1)
    return SKIP_TEARDOWN


def _each(hooks: list[Callable[[Evaluation], None]]) -> Callable[[Evaluation], None] | None:
    """One `on_evaluation` hook calling every one of `hooks` (None when there are none)."""
    if not hooks:
        return None

    def each(evaluation: Evaluation) -> None:
        for hook in hooks:
            hook(evaluation)

    return each


def _diagnostics(result: BackfillResult) -> dict[str, Any]:
    d = result.diagnostics
    return {
        "invalid_reasons": dict(sorted(result.lines.invalid.items())),
        "late": d.late,
        "too_old": d.too_old,
        "after_evaluated_at": d.after_at,
        "source_errors": d.source_errors,
        "field_mismatch": result.lines.field_mismatch(),
    } | ({"series_overflow": d.series_overflow} if d.series_overflow else {})


@cli.command()
@config_option
def rules(config_path: Path) -> None:
    """Print Prometheus recording and alerting rules (YAML) computing every SLO fleet-wide."""
    from slotail.outputs.rules import render

    click.echo(render(load_config(config_path)), nl=False)


@cli.command("import")
@click.argument("specs", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
def import_(specs: tuple[Path, ...]) -> None:
    """Turn OpenSLO v1 and Sloth prometheus/v1 specs into a slotail config on stdout.

    Metric queries become SLI placeholders to fill in with log matchers; everything the specs say that
    slotail cannot is listed on stderr. Exit 2 when a spec cannot be read.
    """
    from slotail.interop.importer import import_specs

    imported = import_specs(list(specs))
    for note in imported.notes:
        click.echo(str(note), err=True)
    click.echo(imported.text, nl=False)
    click.echo(
        f"slotail import: {imported.slos} SLOs, {imported.placeholders} SLI placeholder(s) to fill in, "
        f"{len(imported.notes)} note(s) above",
        err=True,
    )


@cli.command()
@config_option
@click.option("--format", "fmt", type=click.Choice(["openslo"]), default="openslo", show_default=True)
@click.option("--service", help="The OpenSLO Service's name. [default: the config file's name]")
def export(config_path: Path, fmt: str, service: str | None) -> None:
    """Write the config as OpenSLO v1 (a YAML stream) on stdout; what OpenSLO cannot say goes in
    slotail.dev/ annotations, each listed on stderr, so that `slotail import` gives the config back."""
    from slotail.interop.openslo_out import export_openslo

    exported = export_openslo(config_path, service)
    for note in exported.notes:
        click.echo(str(note), err=True)
    click.echo(exported.text, nl=False)


def _listen(ctx: click.Context, param: click.Parameter, value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise click.BadParameter(f"expected HOST:PORT like 127.0.0.1:9464; got {value!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


@cli.command()
@config_option
@click.option(
    "--listen",
    default="127.0.0.1:9464",
    show_default=True,
    callback=_listen,
    help="Where to serve /metrics, /healthz, /readyz, /api/v1/slos and the status page.",
)
@click.option(
    "--state-dir",
    default="slotail-state",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Checkpoints (store + file positions); one daemon per directory.",
)
@click.option(
    "--backfill",
    "backfill_globs",
    multiple=True,
    metavar="GLOB",
    help="Warm start: read these rotated archives before tailing (repeatable).",
)
@click.option(
    "--tick",
    "tick_s",
    default="5s",
    show_default=True,
    callback=_duration,
    help="How often the engine evaluates alerts with the wall clock.",
)
@click.option(
    "--checkpoint-interval",
    "checkpoint_s",
    default="1s",
    show_default=True,
    callback=_duration,
    help="How often state is committed (and /metrics counters advance).",
)
@click.option(
    "--web-config",
    "web_config",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="TLS and basic auth for every endpoint, in Prometheus' web-config.yml format.",
)
@click.option(
    "--http-header-timeout",
    "header_timeout_s",
    default="5s",
    show_default=True,
    callback=_duration,
    help="Close a connection that has not sent a whole request head this long after connecting "
    "(or after its last response); with TLS, the handshake too.",
)
@click.option(
    "--http-max-connections",
    "max_connections",
    default=512,
    show_default=True,
    type=click.IntRange(min=1),
    help="HTTP connections open at once; past it, a new one closes the longest idle.",
)
@click.option(
    "--stdin",
    "stdin",
    is_flag=True,
    help='Also read lines from standard input, live (counted under source="stdin").',
)
@click.option(
    "--discovery",
    type=click.Choice(MODES),
    default="auto",
    show_default=True,
    envvar="SLOTAIL_DISCOVERY",
    help="How new log files are found: inotify (at once) where the kernel has it, or a rescan every second "
    "(poll). [env: SLOTAIL_DISCOVERY]",
)
def run(
    config_path: Path,
    listen: tuple[str, int],
    state_dir: Path,
    backfill_globs: tuple[str, ...],
    tick_s: int,
    checkpoint_s: int,
    web_config: Path | None,
    header_timeout_s: int,
    max_connections: int,
    stdin: bool,
    discovery: str,
) -> None:
    """Run the sidecar: tail the config's sources through rotation and serve Prometheus metrics."""
    from slotail.daemon import Options
    from slotail.daemon import run as run_daemon
    from slotail.outputs.server import Limits

    host, port = listen
    run_daemon(
        Options(
            config_path,
            host,
            port,
            state_dir,
            backfill_globs,
            tick_s=tick_s,
            checkpoint_s=checkpoint_s,
            web_config=web_config,
            http=Limits(header_timeout_s, max_connections),
            stdin=stdin,
            discovery=discovery,
        )
    )


@cli.command()
@click.option(
    "--out",
    "folder",
    default="var/demo",
    show_default=True,
    type=click.Path(path_type=Path),
    help="Where api.log (and archive/) are written.",
)
@click.option("--rate", default=10.0, show_default=True, help="Requests per second.")
@click.option(
    "--rotate-every",
    "rotate_s",
    default="5m",
    show_default=True,
    callback=_duration,
    help="Rotate api.log by rename + create this often.",
)
@click.option(
    "--history",
    "history_s",
    default="2d",
    show_default=True,
    callback=_duration,
    help="Also write this much quiet past traffic to archive/ (once, if missing) for a warm start.",
)
@click.option("--history-rate", default=3.0, show_default=True, help="Requests per second in the history.")
@click.option("--history-only", is_flag=True, help="Write the history archive and exit.")
@click.option("--seed", default=7, show_default=True)
def demo(
    folder: Path,
    rate: float,
    rotate_s: int,
    history_s: int,
    history_rate: float,
    history_only: bool,
    seed: int,
) -> None:
    """Write synthetic API logs in seed 000's shape, live, with an incident every 10 minutes."""
    from slotail.testing.demo import run_demo, write_history

    write_history(folder / "archive", history_s / 3600, history_rate, seed, WallClock().now_us())
    if not history_only:
        run_demo(folder, rate, rotate_s, seed)


class Report(msgspec.Struct, frozen=True):
    """What the markdown and HTML reports read besides the result: the store (recent past) and history."""

    engine: Engine
    recorder: HistoryRecorder | None = None
    calendar: ComplianceRecorder | None = None


def _render(result: BackfillResult, fmt: str, report: Report) -> bytes:
    if fmt == "json":
        return dumps(document(result.snapshot, result.lines, _diagnostics(result)))
    from slotail.outputs.compliance import history as compliance
    from slotail.outputs.html import render_html
    from slotail.outputs.lookback import lookback
    from slotail.outputs.text import render_markdown

    recent = lookback(report.engine, result.snapshot.at_us)
    calendar = compliance(report.calendar, result.snapshot.slos) if report.calendar is not None else None
    if fmt == "markdown":
        return render_markdown(result.snapshot, result.lines, recent, calendar).encode()
    history = report.recorder.history() if report.recorder is not None else {}
    first = result.first_event_us
    return render_html(result.snapshot, result.lines, recent, history, first, calendar).encode()


def _report(result: BackfillResult, fmt: str, report: Report, out: Path | None) -> None:
    if fmt == "table":
        from rich.console import Console

        from slotail.outputs.text import render_table

        buffer = io.StringIO() if out is not None else None
        width = 160 if buffer is not None or not sys.stdout.isatty() else None
        render_table(result.snapshot, result.lines, Console(width=width, file=buffer))
        if out is not None and buffer is not None:
            out.write_text(buffer.getvalue())
    else:
        body = _render(result, fmt, report)
        if out is None:
            sys.stdout.buffer.write(body)
        else:
            out.write_bytes(body)
    if result.diagnostics.late:
        logger.warning(
            "lines arrived after the alert steps covering them were evaluated",
            extra={"late": result.diagnostics.late},
        )


SKIP_TEARDOWN = "skip-teardown"  # what a command returns when nothing is left to clean up after it


def _exit_now() -> None:
    """Exit 0 without tearing the interpreter down: freeing a backfill's heap took about 30 ms,
    and once its report is written (and its workers are gone) nothing is left to clean up."""
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(0)


def main() -> None:
    """Entry point: slotail's own errors print as messages, never tracebacks."""
    try:
        if cli.main(standalone_mode=False) == SKIP_TEARDOWN:
            _exit_now()
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except SlotailError as exc:
        click.echo(str(exc), err=True)
        sys.exit(exc.exit_code)
    except BrokenPipeError:
        sys.exit(0)
