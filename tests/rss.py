"""Run a command and read its peak RSS (of the command alone, through a fresh wrapper process)."""

from __future__ import annotations

import subprocess
import sys

MEASURE = (
    "import resource, subprocess, sys\n"
    "proc = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)\n"
    "sys.stdout.buffer.write(proc.stdout)\n"
    "sys.stderr.buffer.write(proc.stderr)\n"
    "print(f'peak_rss_kib={resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}', file=sys.stderr)\n"
    "sys.exit(proc.returncode)\n"
)


def run_measured(cmd: list[str], timeout: float) -> subprocess.CompletedProcess[bytes]:
    """`cmd` run to completion under the wrapper; its stderr ends with `peak_rss_kib=N`."""
    return subprocess.run([sys.executable, "-c", MEASURE, *cmd], capture_output=True, timeout=timeout)


def peak_mib(proc: subprocess.CompletedProcess[bytes]) -> float:
    """The peak RSS (MiB) a `run_measured` process reported."""
    return int(proc.stderr.decode(errors="replace").rsplit("peak_rss_kib=", 1)[1].split()[0]) / 1024
