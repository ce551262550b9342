"""What an `envelope` costs: parse + classify of the benchmark corpus's lines, bare and wrapped.

The same valid lines of the corpus (`corpus.py`) are observed by the pipeline of config/slotail.yaml
three ways: as they are, inside Docker json-file entries (`envelope: docker`), and after a CRI prefix
(`envelope: cri`), in batches of 8192 as backfill reads them. Runs are interleaved and the best of
`--repeat` is kept (the machine is shared). Printed, and appended to benchmarks/RESULTS.md unless
--no-record.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from datetime import UTC, datetime
from pathlib import Path

from backfill_throughput import RESULTS, ROOT, git, machine, tree_state
from corpus import corpus_lines
from slotail.config import load_config_text
from slotail.pipeline import Pipeline
from slotail.sources.archive import BATCH_LINES
from slotail.sources.batch import RawBatch

CONFIG = ROOT / "config" / "slotail.yaml"
TIME = "2026-02-19T09:00:00.412345678Z"


def docker(line: bytes) -> bytes:
    return json.dumps({"log": f"{line.decode()}\n", "stream": "stdout", "time": TIME}).encode()


def wrapped(lines: list[bytes]) -> dict[str, list[bytes]]:
    """The lines bare, as Docker's json-file writes them, and as a CRI runtime does."""
    return {
        "none": lines,
        "docker": [
            json.dumps({"log": f"{line.decode()}\n", "stream": "stdout", "time": TIME}).encode()
            for line in lines
        ],
        "cri": [f"{TIME} stdout F ".encode() + line for line in lines],
    }


def seconds(kind: str, lines: list[bytes]) -> float:
    """Wall time to observe every line once, in batches, with a fresh pipeline."""
    text = CONFIG.read_text()
    pipeline = Pipeline(load_config_text(text if kind == "none" else f"envelope: {kind}\n{text}"))
    start = time.perf_counter()
    for at in range(0, len(lines), BATCH_LINES):
        pipeline.observe(RawBatch("bench", lines[at : at + BATCH_LINES], 0, 0))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    made = itertools.islice(corpus_lines(args.lines), args.lines)
    corpora = wrapped([line for line in made if line.startswith(b'{"') and line.isascii()])
    best = dict.fromkeys(corpora, float("inf"))
    for _ in range(args.repeat):
        for kind, lines in corpora.items():
            best[kind] = min(best[kind], seconds(kind, lines))
    count = len(corpora["none"])
    rows = [
        f"| {kind} | {best[kind] / count * 1e9:,.0f} | {(best[kind] - best['none']) / count * 1e9:+,.0f} |"
        for kind in corpora
    ]
    table = "\n".join(["| envelope | ns a line (parse + classify) | vs none |", "|---|---|---|", *rows])
    print(table)
    if not args.no_record:
        now, commit = datetime.now(UTC), git("rev-parse", "--short", "HEAD")
        head = [
            f"## Envelope cost — {now:%Y-%m-%d %H:%M} UTC — {commit}",
            "",
            f"- Command: `python benchmarks/envelope_cost.py --lines {args.lines} --repeat {args.repeat}`",
            f"- Machine: {machine()}",
            f"- slotail: commit {commit}, tree {tree_state()}",
            f"- {count:,} valid ASCII lines of the corpus, config/slotail.yaml, best of {args.repeat}",
        ]
        with Path(RESULTS).open("a") as out:
            out.write("\n".join(["", *head, "", table, ""]))


if __name__ == "__main__":
    main()
