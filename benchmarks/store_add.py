"""Time `Store.add`, the backfill parent's critical path, within a single-process backfill.

Each run is a child process running `slotail backfill --workers 1` on the corpus (no workers, so
nothing contends for the CPU) with `Store.add` wrapped in a timer; the runs' median time in it and
median wall time are printed. `--out` keeps the first run's JSON, to compare with another commit's.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt

from corpus import ensure_corpus

ROOT = Path(__file__).resolve().parent.parent


def run_once(config: str, corpus: str) -> None:
    """Backfill in this process, printing the JSON to stdout and `<seconds in Store.add>` last on stderr."""
    from slotail.classify import Observations
    from slotail.cli import main
    from slotail.store.store import Store

    spent = 0.0
    add = Store.add

    def timed(self: Store, obs: Observations) -> npt.NDArray[np.bool_]:
        nonlocal spent
        start = time.perf_counter()
        try:
            return add(self, obs)
        finally:
            spent += time.perf_counter() - start

    Store.add = timed  # type: ignore[method-assign]
    sys.argv = ["slotail", "backfill", "--config", config, "--format", "json", "--no-progress"]
    sys.argv += ["--workers", "1", corpus]
    try:
        main()
    finally:
        print(f"{spent:.6f}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000, help="corpus size")
    parser.add_argument("--corpus", help="a corpus file to read instead (made by corpus.py elsewhere)")
    parser.add_argument("--config", default=str(ROOT / "config" / "slotail.yaml"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, help="write the first run's JSON here")
    parser.add_argument("--once", metavar="CORPUS", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.once:
        run_once(args.config, args.once)
        return
    corpus = args.corpus or str(ensure_corpus(args.lines))
    adds, walls = [], []
    for i in range(args.repeat):
        start = time.perf_counter()
        child = subprocess.run(
            [sys.executable, __file__, "--config", args.config, "--once", corpus],
            capture_output=True,
            check=True,
        )
        walls.append(time.perf_counter() - start)
        adds.append(float(child.stderr.decode().split()[-1]))
        if i == 0 and args.out:
            args.out.write_bytes(child.stdout)
        print(f"run {i + 1}: Store.add {adds[-1]:.3f} s, wall {walls[-1]:.3f} s", flush=True)
    add, wall = statistics.median(adds), statistics.median(walls)
    print(f"median of {args.repeat}: Store.add {add:.3f} s, wall {wall:.3f} s")


if __name__ == "__main__":
    main()
